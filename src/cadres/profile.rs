//! A profile with every field resolved and checked: what create, update, import and approved
//! corrections all go through, so that one set of rules holds for every way data comes in.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use super::dto::{CreateCadreRequest, UpdateCadreRequest};
use super::identity::{normalise_phone, parse_id_number};
use super::repo::Tags;
use super::vocab::{ethnicity_label, Category, Degree, Education, Gender, Level, Party};
use crate::error::ApiError;
use crate::text::normalise;

/// Youngest and oldest plausible ages for a cadre.
const MIN_AGE: i32 = 16;
const MAX_AGE: i32 = 120;

#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub name: String,
    pub former_name: Option<String>,
    pub gender: Gender,
    pub ethnicity: String,
    pub birth_date: NaiveDate,
    pub native_place: Option<String>,
    /// Plain text here; encrypted when written.
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub party: Party,
    pub party_joined_on: Option<NaiveDate>,
    pub categories: Vec<Category>,
    pub level: Level,
    pub unit_id: Option<i64>,
    pub workplace: Option<String>,
    pub position: Option<String>,
    pub education: Option<Education>,
    pub degree: Option<Degree>,
    pub professional_title: Option<String>,
    pub sectors: Vec<String>,
    pub expertise: Vec<String>,
    pub notes: Option<String>,
}

fn text(value: Option<String>) -> Option<String> {
    value.map(|v| normalise(&v)).filter(|v| !v.is_empty())
}

fn patch<T>(current: T, change: Option<T>) -> T {
    change.unwrap_or(current)
}

impl Profile {
    /// The profile's tags, in the shape they are stored.
    pub fn tags(&self) -> Tags {
        Tags {
            categories: self.categories.clone(),
            sectors: self.sectors.clone(),
            expertise: self.expertise.clone(),
        }
    }

    pub fn from_request(request: CreateCadreRequest) -> Profile {
        Profile {
            name: normalise(&request.name),
            former_name: text(request.former_name),
            gender: request.gender,
            ethnicity: request.ethnicity,
            birth_date: request.birth_date,
            native_place: text(request.native_place),
            id_number: text(request.id_number),
            phone: text(request.phone),
            email: text(request.email),
            party: request.party,
            party_joined_on: request.party_joined_on,
            categories: request.categories,
            level: request.level,
            unit_id: request.unit_id,
            workplace: text(request.workplace),
            position: text(request.position),
            education: request.education,
            degree: request.degree,
            professional_title: text(request.professional_title),
            sectors: request.sectors,
            expertise: request.expertise,
            notes: text(request.notes),
        }
    }

    /// This profile with the changes of a PATCH applied (not yet checked).
    pub fn with_changes(self, c: UpdateCadreRequest) -> Profile {
        Profile {
            name: c.name.map_or(self.name, |n| normalise(&n)),
            former_name: c.former_name.map_or(self.former_name, text),
            gender: patch(self.gender, c.gender),
            ethnicity: patch(self.ethnicity, c.ethnicity),
            birth_date: patch(self.birth_date, c.birth_date),
            native_place: c.native_place.map_or(self.native_place, text),
            id_number: c.id_number.map_or(self.id_number, text),
            phone: c.phone.map_or(self.phone, text),
            email: c.email.map_or(self.email, text),
            party: patch(self.party, c.party),
            party_joined_on: patch(self.party_joined_on, c.party_joined_on),
            categories: patch(self.categories, c.categories),
            level: patch(self.level, c.level),
            unit_id: patch(self.unit_id, c.unit_id),
            workplace: c.workplace.map_or(self.workplace, text),
            position: c.position.map_or(self.position, text),
            education: patch(self.education, c.education),
            degree: patch(self.degree, c.degree),
            professional_title: c.professional_title.map_or(self.professional_title, text),
            sectors: patch(self.sectors, c.sectors),
            expertise: patch(self.expertise, c.expertise),
            notes: c.notes.map_or(self.notes, text),
        }
    }

    /// Checks every rule and normalises what has a canonical form (ID number upper case, phone
    /// without spaces, tags trimmed and de-duplicated). All broken rules are reported at once.
    /// `unit_exists` answers whether a unit id names a unit.
    pub fn check(
        &mut self,
        today: NaiveDate,
        unit_exists: impl FnOnce(i64) -> Result<bool, ApiError>,
    ) -> Result<(), ApiError> {
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut fail = |field: &str, rule: &str| {
            errors
                .entry(field.to_owned())
                .or_default()
                .push(rule.to_owned());
        };

        if let Some(rule) = name_rule(&self.name) {
            fail("name", rule);
        }
        if let Some(rule) = self.former_name.as_deref().and_then(name_rule) {
            fail("former_name", rule);
        }
        if ethnicity_label(&self.ethnicity).is_none() {
            fail("ethnicity", "unknown_ethnicity");
        }
        let age = age_on(self.birth_date, today);
        if !(MIN_AGE..=MAX_AGE).contains(&age) {
            fail("birth_date", "age_out_of_range");
        }
        if let Some(raw) = &self.id_number {
            match parse_id_number(raw) {
                Err(rule) => fail("id_number", rule),
                Ok(id) => {
                    if id.birth_date != self.birth_date {
                        fail("id_number", "birth_date_mismatch");
                    }
                    if id.gender != self.gender {
                        fail("id_number", "gender_mismatch");
                    }
                    self.id_number = Some(id.value);
                }
            }
        }
        if let Some(raw) = &self.phone {
            match normalise_phone(raw) {
                Ok(phone) => self.phone = Some(phone),
                Err(rule) => fail("phone", rule),
            }
        }
        if let Some(joined) = self.party_joined_on {
            if matches!(self.party, Party::None | Party::NonParty) {
                fail("party_joined_on", "no_party_to_join");
            }
            if joined < self.birth_date || joined > today {
                fail("party_joined_on", "date_out_of_range");
            }
        }
        self.categories.sort();
        self.categories.dedup();
        for (field, tags) in [
            ("sectors", &mut self.sectors),
            ("expertise", &mut self.expertise),
        ] {
            let mut cleaned: Vec<String> = tags.iter().map(|t| normalise(t)).collect();
            if cleaned
                .iter()
                .any(|t| t.is_empty() || t.chars().count() > 40)
            {
                fail(field, "tag_length");
            }
            // In code point order, as `cadres.tag_lists` keeps them, on either engine.
            cleaned.sort();
            cleaned.dedup();
            *tags = cleaned;
        }
        if let Some(unit_id) = self.unit_id {
            if !unit_exists(unit_id)? {
                fail("unit_id", "unknown_unit");
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation { fields: errors })
        }
    }
}

/// The rule a personal name breaks, if any: 1 to 50 characters of any script (GB 18030 covers
/// all of Unicode), spaces between words, and the middle dot of transcribed names.
fn name_rule(name: &str) -> Option<&'static str> {
    let count = name.chars().count();
    if count == 0 || count > 50 {
        return Some("length");
    }
    let allowed = name
        .chars()
        .all(|c| c.is_alphabetic() || matches!(c, '·' | '•' | '・' | ' ' | '-' | '\''));
    if !allowed || name.starts_with([' ', '·']) || name.ends_with([' ', '·']) {
        return Some("characters");
    }
    None
}

/// Full years between the birth date and `on`.
pub fn age_on(birth_date: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - birth_date.year();
    if (on.month(), on.day()) < (birth_date.month(), birth_date.day()) {
        age -= 1;
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_accept_rare_characters_and_the_middle_dot() {
        assert_eq!(name_rule("羅維"), None);
        assert_eq!(name_rule("𠮷野家"), None, "a CJK Extension B character");
        assert_eq!(name_rule("阿依古丽·买买提"), None);
        assert_eq!(name_rule("䶮"), None);
        assert_eq!(name_rule("罗维1"), Some("characters"));
        assert_eq!(name_rule("·罗维"), Some("characters"));
        assert_eq!(name_rule(""), Some("length"));
        assert_eq!(name_rule(&"罗".repeat(51)), Some("length"));
    }

    #[test]
    fn ages_count_full_years() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(age_on(d(1990, 6, 15), d(2026, 6, 14)), 35);
        assert_eq!(age_on(d(1990, 6, 15), d(2026, 6, 15)), 36);
    }
}
