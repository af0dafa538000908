//! Small helpers the reports share.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};

use crate::error::ApiError;

/// `part / whole` to three decimals, or none when there is nothing to count.
pub fn rate(part: usize, whole: usize) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    (whole > 0).then(|| ((part as f64 / whole as f64) * 1000.0).round() / 1000.0)
}

/// A report's period: `from` defaults to the start of `now`'s year, `to` to `now`; `to` must
/// come after `from`.
pub fn period(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(NaiveDateTime, NaiveDateTime), ApiError> {
    let start_of_year = NaiveDate::from_ymd_opt(now.year(), 1, 1)
        .unwrap_or_default()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    let from = from.map_or(start_of_year, |t| t.naive_utc());
    let to = to.map_or(now.naive_utc(), |t| t.naive_utc());
    if to <= from {
        return Err(ApiError::field("to", "not_after_from"));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_round_and_periods_default_to_this_year() {
        assert_eq!(rate(1, 3), Some(0.333));
        assert_eq!(rate(0, 0), None);
        let now = "2026-11-27T10:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let (from, to) = period(None, None, now).unwrap();
        assert_eq!(
            (from.to_string().as_str(), to),
            ("2026-01-01 00:00:00", now.naive_utc())
        );
        assert!(period(Some(now), Some(now), now).is_err());
    }
}
