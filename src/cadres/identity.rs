//! The resident identity card number (GB 11643-1999) and phone numbers: validation, and the
//! masks shown instead of the values.

use chrono::NaiveDate;

use super::vocab::Gender;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// The check character (0-9 or X) of the first 17 digits.
pub fn check_char(first17: &str) -> Option<char> {
    let digits: Vec<u32> = first17
        .chars()
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()?;
    if digits.len() != 17 {
        return None;
    }
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    Some(char::from(CHECK_CHARS[(sum % 11) as usize]))
}

/// What an ID number says about its holder.
#[derive(Debug, PartialEq, Eq)]
pub struct IdNumber {
    /// Upper-cased, 18 characters.
    pub value: String,
    pub birth_date: NaiveDate,
    pub gender: Gender,
}

/// Parses and checks an 18-character ID number; returns the rule it breaks.
pub fn parse_id_number(raw: &str) -> Result<IdNumber, &'static str> {
    let value = raw.trim().to_ascii_uppercase();
    if value.len() != 18 || !value.is_ascii() {
        return Err("id_number_length");
    }
    let (first17, last) = value.split_at(17);
    let expected = check_char(first17).ok_or("id_number_format")?;
    if !last.starts_with(expected) {
        return Err("id_number_checksum");
    }
    let birth_date =
        NaiveDate::parse_from_str(&first17[6..14], "%Y%m%d").map_err(|_| "id_number_birth_date")?;
    let sequence_digit = first17[16..17]
        .parse::<u32>()
        .map_err(|_| "id_number_format")?;
    let gender = if sequence_digit % 2 == 1 {
        Gender::Male
    } else {
        Gender::Female
    };
    Ok(IdNumber {
        value,
        birth_date,
        gender,
    })
}

/// `5101**********1234`: the first four and last four characters.
pub fn mask_id_number(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 8))
}

/// A phone number as stored: digits, with `-` and a leading `+` kept; spaces dropped.
pub fn normalise_phone(raw: &str) -> Result<String, &'static str> {
    let phone: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let allowed = phone
        .char_indices()
        .all(|(i, c)| c.is_ascii_digit() || c == '-' || (c == '+' && i == 0));
    if !allowed || !(7..=15).contains(&digits) {
        return Err("phone_format");
    }
    if phone.len() == 11
        && phone.starts_with('1')
        && !phone[1..2].chars().all(|c| ('3'..='9').contains(&c))
    {
        return Err("phone_format");
    }
    Ok(phone)
}

/// `138****5678` for a mobile number; otherwise all but the last four characters hidden.
pub fn mask_phone(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() == 11 && value.starts_with('1') {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[7..].iter().collect();
        return format!("{head}****{tail}");
    }
    let keep = chars.len().min(4);
    let tail: String = chars[chars.len() - keep..].iter().collect();
    format!("{}{tail}", "*".repeat(chars.len() - keep))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a valid number from the first 17 digits.
    fn valid(first17: &str) -> String {
        format!("{first17}{}", check_char(first17).unwrap())
    }

    #[test]
    fn checks_the_gb_11643_checksum_birth_date_and_gender() {
        // The standard's own example.
        assert_eq!(check_char("11010519491231002"), Some('X'));
        let parsed = parse_id_number("11010519491231002x").unwrap();
        assert_eq!(parsed.value, "11010519491231002X");
        assert_eq!(
            parsed.birth_date,
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(parsed.gender, Gender::Female);
        assert_eq!(
            parse_id_number(&valid("50015619800101001")).unwrap().gender,
            Gender::Male
        );
        assert_eq!(
            parse_id_number("110105194912310021"),
            Err("id_number_checksum")
        );
        assert_eq!(parse_id_number("1101051949123100"), Err("id_number_length"));
        assert_eq!(
            parse_id_number(&valid("50015619800231001")),
            Err("id_number_birth_date")
        );
        assert_eq!(
            parse_id_number("5001561980010100AX"),
            Err("id_number_format")
        );
    }

    #[test]
    fn masks_keep_only_the_ends() {
        assert_eq!(mask_id_number("510102199001011234"), "5101**********1234");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("023-77712345"), "********2345");
    }

    #[test]
    fn phones_are_checked() {
        assert_eq!(normalise_phone("138 1234 5678"), Ok("13812345678".into()));
        assert_eq!(normalise_phone("023-77712345"), Ok("023-77712345".into()));
        assert!(normalise_phone("12812345678").is_err());
        assert!(normalise_phone("abc").is_err());
        assert!(normalise_phone("12-3").is_err());
    }
}
