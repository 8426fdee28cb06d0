//! What day it is. Municipalities are Norwegian: a consent valid until a date runs to the end of that
//! day in Norway, and a decision dated today is not "in the future" just after midnight in Oslo.

use chrono::{DateTime, NaiveDate, Utc};

pub const TIME_ZONE: chrono_tz::Tz = chrono_tz::Europe::Oslo;

pub fn today() -> NaiveDate {
    day_of(Utc::now())
}

/// The day an instant falls on in Norway (a case closed at 00:30 in Oslo closed on that day).
pub fn day_of(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&TIME_ZONE).date_naive()
}
