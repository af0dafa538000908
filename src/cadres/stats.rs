//! Composition of the cadre pool: counts by party, category, gender, ethnicity, age band,
//! education, level and unit, and the average age, over any filter of the list. Each bucket
//! carries the filter (a query string for `GET /cadres`) that lists its people. A whole status
//! is read from `cadre_tallies` (kept by triggers with every write); a narrower filter groups
//! its rows in one index-only pass.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer};
use serde::Serialize;
use utoipa::ToSchema;

use super::dto::{CadreFilter, StatusFilter};
use super::repo::{filter_cadres, years_before};
use super::vocab::{ethnicity_label, Category, Education, Gender, Level, Party};
use crate::db::kept_sql::id_in;
use crate::db::schema::{cadre_tallies, units};
use crate::db::{DbConn, Engine};
use crate::error::ApiError;

#[derive(Debug, Serialize, ToSchema)]
pub struct Bucket {
    /// The value (an identifier, a code, a unit id, or an age band such as `36-45`).
    pub key: String,
    pub label: String,
    pub count: i64,
    /// Query string for `GET /api/v1/cadres` that lists the people in this bucket; absent where
    /// the list cannot express the bucket (e.g. "no education recorded").
    pub filter: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CadreStats {
    pub total: i64,
    /// Mean age in years on `age_at`, one decimal.
    pub average_age: Option<f64>,
    pub age_at: NaiveDate,
    pub by_party: Vec<Bucket>,
    pub by_category: Vec<Bucket>,
    pub by_gender: Vec<Bucket>,
    pub by_ethnicity: Vec<Bucket>,
    /// ≤35, 36–45, 46–55, ≥56.
    pub by_age_band: Vec<Bucket>,
    pub by_education: Vec<Bucket>,
    pub by_level: Vec<Bucket>,
    pub by_unit: Vec<Bucket>,
}

/// Key, label, minimum and maximum age of each band, youngest first.
const AGE_BANDS: [(&str, &str, Option<i32>, Option<i32>); 4] = [
    ("0-35", "35岁及以下", None, Some(35)),
    ("36-45", "36至45岁", Some(36), Some(45)),
    ("46-55", "46至55岁", Some(46), Some(55)),
    ("56-", "56岁及以上", Some(56), None),
];

fn drill(filter: &CadreFilter, change: impl FnOnce(&mut CadreFilter)) -> Option<String> {
    let mut narrowed = filter.clone();
    change(&mut narrowed);
    serde_urlencoded::to_string(&narrowed).ok()
}

/// Largest buckets first; ties by key, so the answer is the same on every engine.
fn sorted(mut buckets: Vec<Bucket>) -> Vec<Bucket> {
    buckets.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    buckets
}

/// The counts behind the buckets, from either source.
#[derive(Default)]
struct Counts {
    total: i64,
    parties: BTreeMap<String, i64>,
    genders: BTreeMap<String, i64>,
    ethnicities: BTreeMap<String, i64>,
    levels: BTreeMap<String, i64>,
    educations: BTreeMap<Option<String>, i64>,
    units: BTreeMap<Option<i64>, i64>,
    categories: BTreeMap<Category, i64>,
    /// Cadres born after the first birth date of each age band after the first (cumulative).
    born_after_band_starts: [i64; 3],
    /// For the mean age: the sum of birth years, and how many birthdays are still to come in
    /// the year of `age_at` (age = that year − birth year − 1 if the birthday is to come, as
    /// `age_on`).
    birth_years: i64,
    birthdays_to_come: i64,
}

impl Counts {
    /// A cadre may be in several categories: each counts in every one it holds.
    fn add_categories(&mut self, mask: i32, count: i64) {
        for category in Category::in_mask(mask) {
            *self.categories.entry(category).or_default() += count;
        }
    }
}

pub fn compute(
    conn: &mut DbConn,
    filter: &CadreFilter,
    today: NaiveDate,
) -> Result<CadreStats, ApiError> {
    let at = filter.age_at.unwrap_or(today);
    // The first birth date of each age band after the first: ages up to the band's minimum
    // minus one are born after it.
    let band_starts = [1, 2, 3].map(|band| years_before(at, AGE_BANDS[band].2.unwrap_or(0)));
    let counts = if filter.is_whole_status() {
        from_tallies(conn, filter, at, band_starts)?
    } else {
        grouped(conn, filter, today, at, band_starts)?
    };
    buckets(conn, filter, at, counts)
}

/// Reads the tallies of the requested status: a row per value present, however large the
/// register.
fn from_tallies(
    conn: &mut DbConn,
    filter: &CadreFilter,
    at: NaiveDate,
    band_starts: [NaiveDate; 3],
) -> Result<Counts, ApiError> {
    let mut query = cadre_tallies::table
        .filter(cadre_tallies::cadre_count.ne(0))
        .select((
            cadre_tallies::dimension,
            cadre_tallies::value,
            cadre_tallies::cadre_count,
        ))
        .into_boxed();
    match filter.status.unwrap_or(StatusFilter::Active) {
        StatusFilter::Active => query = query.filter(cadre_tallies::status.eq("active")),
        StatusFilter::Archived => query = query.filter(cadre_tallies::status.eq("archived")),
        StatusFilter::All => {}
    }
    let rows: Vec<(String, String, i64)> = query.load(conn)?;
    let unreadable = |dimension: &str, value: &str| {
        ApiError::internal(format!("cadre tally {dimension}={value} cannot be read"))
    };
    let at_month_day = at.month() * 100 + at.day();
    let mut counts = Counts::default();
    for (dimension, value, count) in rows {
        match dimension.as_str() {
            "party" => {
                counts.total += count;
                *counts.parties.entry(value).or_default() += count;
            }
            "gender" => *counts.genders.entry(value).or_default() += count,
            "ethnicity" => *counts.ethnicities.entry(value).or_default() += count,
            "level" => *counts.levels.entry(value).or_default() += count,
            "education" => {
                let education = (!value.is_empty()).then_some(value);
                *counts.educations.entry(education).or_default() += count;
            }
            "unit" => {
                let unit = if value.is_empty() {
                    None
                } else {
                    Some(value.parse().map_err(|_| unreadable(&dimension, &value))?)
                };
                *counts.units.entry(unit).or_default() += count;
            }
            "category_mask" => {
                let mask = value.parse().map_err(|_| unreadable(&dimension, &value))?;
                counts.add_categories(mask, count);
            }
            "birth_date" => {
                let born = NaiveDate::parse_from_str(&value, "%Y-%m-%d")
                    .map_err(|_| unreadable(&dimension, &value))?;
                for (band, start) in band_starts.iter().enumerate() {
                    if born > *start {
                        counts.born_after_band_starts[band] += count;
                    }
                }
                counts.birth_years += i64::from(born.year()) * count;
                if born.month() * 100 + born.day() > at_month_day {
                    counts.birthdays_to_come += count;
                }
            }
            _ => return Err(unreadable(&dimension, &value)),
        }
    }
    Ok(counts)
}

/// Counts a filtered register in one index-only pass over its rows.
fn grouped(
    conn: &mut DbConn,
    filter: &CadreFilter,
    today: NaiveDate,
    at: NaiveDate,
    band_starts: [NaiveDate; 3],
) -> Result<Counts, ApiError> {
    let engine = conn.engine();

    // Every single-valued dimension is grouped; the groups (one per distinct combination: tens
    // of thousands in a large register) are then summed per dimension here. Ages come as sums
    // within each group, so no second pass reads birth dates row by row: the rows born after
    // each band's first birth date, the sum of birth years and the birthdays still to come.
    let born_after = |date: NaiveDate| {
        sql::<BigInt>("SUM(CASE WHEN cadres.birth_date > ")
            .bind::<Date, _>(date)
            .sql(" THEN 1 ELSE 0 END)")
    };
    // Month and day as one number (March 15th is 315); PostgreSQL's `date_part` is far cheaper
    // per row than `EXTRACT` (numeric) or `to_char`.
    let (birth_year, birth_month_day) = match engine {
        Engine::Sqlite => (
            "CAST(substr(cadres.birth_date, 1, 4) AS INTEGER)",
            "CAST(substr(cadres.birth_date, 6, 2) || substr(cadres.birth_date, 9, 2) AS INTEGER)",
        ),
        Engine::Postgres => (
            "CAST(date_part('year', cadres.birth_date) AS INTEGER)",
            "CAST(date_part('month', cadres.birth_date) * 100 \
             + date_part('day', cadres.birth_date) AS INTEGER)",
        ),
    };
    let month_day = i32::try_from(at.month() * 100 + at.day()).expect("at most 1231");
    let birthday_to_come = sql::<BigInt>(&format!("SUM(CASE WHEN {birth_month_day} > "))
        .bind::<Integer, _>(month_day)
        .sql(" THEN 1 ELSE 0 END)");
    type Group = (
        String,
        String,
        String,
        String,
        Option<String>,
        Option<i64>,
        i32,
        i64,
        (i64, i64, i64),
        i64,
        i64,
    );
    let groups: Vec<Group> = filter_cadres!(
        cadres::table
            .group_by((
                cadres::party,
                cadres::gender,
                cadres::ethnicity,
                cadres::level,
                cadres::education,
                cadres::unit_id,
                cadres::category_mask
            ))
            .select((
                cadres::party,
                cadres::gender,
                cadres::ethnicity,
                cadres::level,
                cadres::education,
                cadres::unit_id,
                cadres::category_mask,
                count_star(),
                (
                    born_after(band_starts[0]),
                    born_after(band_starts[1]),
                    born_after(band_starts[2]),
                ),
                sql::<BigInt>(&format!("SUM({birth_year})")),
                birthday_to_come,
            ))
            .into_boxed(),
        filter,
        today,
        super::repo::SearchWith::index_of(engine)
    )
    .load(conn)?;
    let mut counts = Counts::default();
    for (
        party,
        gender,
        ethnicity,
        level,
        education,
        unit_id,
        category_mask,
        count,
        born_after_starts,
        group_birth_years,
        group_birthdays_to_come,
    ) in groups
    {
        counts.born_after_band_starts[0] += born_after_starts.0;
        counts.born_after_band_starts[1] += born_after_starts.1;
        counts.born_after_band_starts[2] += born_after_starts.2;
        counts.total += count;
        counts.birth_years += group_birth_years;
        counts.birthdays_to_come += group_birthdays_to_come;
        counts.add_categories(category_mask, count);
        *counts.parties.entry(party).or_default() += count;
        *counts.genders.entry(gender).or_default() += count;
        *counts.ethnicities.entry(ethnicity).or_default() += count;
        *counts.levels.entry(level).or_default() += count;
        *counts.educations.entry(education).or_default() += count;
        *counts.units.entry(unit_id).or_default() += count;
    }
    Ok(counts)
}

/// Turns counts into the answer: labels, drill-down filters, largest buckets first.
fn buckets(
    conn: &mut DbConn,
    filter: &CadreFilter,
    at: NaiveDate,
    counts: Counts,
) -> Result<CadreStats, ApiError> {
    let Counts {
        total,
        parties,
        genders,
        ethnicities,
        levels,
        educations,
        units: unit_counts,
        categories: category_counts,
        born_after_band_starts,
        birth_years,
        birthdays_to_come,
    } = counts;
    let by_party = parties
        .into_iter()
        .map(|(key, count)| {
            let party = Party::parse(&key);
            Bucket {
                label: party.map_or_else(|| key.clone(), |p| p.label().to_owned()),
                filter: party.and_then(|p| drill(filter, |f| f.party = Some(p))),
                key,
                count,
            }
        })
        .collect();

    let by_gender = genders
        .into_iter()
        .map(|(key, count)| {
            let gender = Gender::parse(&key);
            Bucket {
                label: gender.map_or_else(|| key.clone(), |g| g.label().to_owned()),
                filter: gender.and_then(|g| drill(filter, |f| f.gender = Some(g))),
                key,
                count,
            }
        })
        .collect();

    let by_ethnicity = ethnicities
        .into_iter()
        .map(|(key, count)| Bucket {
            label: ethnicity_label(&key).unwrap_or("").to_owned(),
            filter: drill(filter, |f| f.ethnicity = Some(key.clone())),
            key,
            count,
        })
        .collect();

    let by_level = levels
        .into_iter()
        .map(|(key, count)| {
            let level = Level::parse(&key);
            Bucket {
                label: level.map_or_else(|| key.clone(), |l| l.label().to_owned()),
                filter: level.and_then(|l| drill(filter, |f| f.level = Some(l))),
                key,
                count,
            }
        })
        .collect();

    let by_education = educations
        .into_iter()
        .map(|(key, count)| {
            let education = key.as_deref().and_then(Education::parse);
            Bucket {
                key: key.unwrap_or_else(|| "unknown".into()),
                label: education.map_or("未填写", Education::label).to_owned(),
                filter: education.and_then(|e| drill(filter, |f| f.education = Some(e))),
                count,
            }
        })
        .collect();

    let unit_ids: Vec<i64> = unit_counts.keys().filter_map(|id| *id).collect();
    let unit_names: BTreeMap<i64, String> = units::table
        .filter(id_in(units::id, &unit_ids))
        .select((units::id, units::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let by_unit = unit_counts
        .into_iter()
        .map(|(id, count)| Bucket {
            key: id.map_or_else(|| "none".into(), |id| id.to_string()),
            label: id
                .and_then(|id| unit_names.get(&id).cloned())
                .unwrap_or_else(|| "未填写".into()),
            filter: id.and_then(|id| drill(filter, |f| f.unit_id = Some(id))),
            count,
        })
        .collect();

    let by_category = category_counts
        .into_iter()
        .map(|(category, count)| Bucket {
            key: category.as_str().to_owned(),
            label: category.label().to_owned(),
            filter: drill(filter, |f| f.category = Some(category)),
            count,
        })
        .collect();

    let band_counts = [
        born_after_band_starts[0],
        born_after_band_starts[1] - born_after_band_starts[0],
        born_after_band_starts[2] - born_after_band_starts[1],
        total - born_after_band_starts[2],
    ];
    let age_sum = total * i64::from(at.year()) - birth_years - birthdays_to_come;
    let by_age_band = AGE_BANDS
        .iter()
        .zip(band_counts)
        .map(|((key, label, min, max), count)| Bucket {
            key: (*key).into(),
            label: (*label).into(),
            count,
            filter: drill(filter, |f| {
                f.age_min = *min;
                f.age_max = *max;
                f.age_at = Some(at);
            }),
        })
        .collect();
    #[allow(clippy::cast_precision_loss)]
    let average_age = (total > 0).then(|| ((age_sum as f64 / total as f64) * 10.0).round() / 10.0);

    Ok(CadreStats {
        total,
        average_age,
        age_at: at,
        by_party: sorted(by_party),
        by_category: sorted(by_category),
        by_gender: sorted(by_gender),
        by_ethnicity: sorted(by_ethnicity),
        by_age_band,
        by_education: sorted(by_education),
        by_level: sorted(by_level),
        by_unit: sorted(by_unit),
    })
}
