//! The dates and times the API accepts. chrono reads years from -262143 to 262142, PostgreSQL stores
//! 4713 BC to 294276 AD, and neither bound is a sane date for anything about a child: year 1 sorts a log
//! entry before everything else, and year -262143 is refused by PostgreSQL deep inside a transaction.
//! Every date and time a client sends must lie between [`FIRST`] and [`LAST`] (UTC), refused at the edge
//! with 422 naming the field; the spec says so on every such field (`crate::http::openapi::document_limits`).

use chrono::{DateTime, NaiveDate, Utc};
use validator::ValidationError;

pub const FIRST: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};
pub const LAST: NaiveDate = match NaiveDate::from_ymd_opt(2199, 12, 31) {
    Some(d) => d,
    None => panic!("a valid date"),
};

/// What the spec and the 422 say.
pub const RANGE: &str = "from 1900-01-01 to 2199-12-31";

fn out_of_range() -> ValidationError {
    ValidationError::new("date_range").with_message(format!("must be {RANGE}").into())
}

/// A `#[validate(custom(function = "crate::dates::date"))]` for a plain date.
pub fn date(value: &NaiveDate) -> Result<(), ValidationError> {
    if (FIRST..=LAST).contains(value) {
        Ok(())
    } else {
        Err(out_of_range())
    }
}

/// A `#[validate(custom(function = "crate::dates::timestamp"))]` for a time with offset, judged in UTC.
pub fn timestamp(value: &DateTime<Utc>) -> Result<(), ValidationError> {
    date(&value.date_naive())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_is_inclusive_and_judged_in_utc() {
        assert!(date(&FIRST).is_ok() && date(&LAST).is_ok());
        assert!(date(&NaiveDate::from_ymd_opt(1899, 12, 31).unwrap()).is_err());
        assert!(date(&NaiveDate::from_ymd_opt(2200, 1, 1).unwrap()).is_err());
        let parse = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert!(timestamp(&parse("-262143-01-01T00:00:00Z")).is_err());
        assert!(timestamp(&parse("0001-01-01T00:00:00Z")).is_err());
        assert!(timestamp(&parse("1900-01-01T00:30:00+01:00")).is_err());
        assert!(timestamp(&parse("1900-01-01T00:30:00Z")).is_ok());
        assert!(timestamp(&parse("2199-12-31T23:59:59.999999Z")).is_ok());
    }
}
