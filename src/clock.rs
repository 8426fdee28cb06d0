//! What day it is. Municipalities are Norwegian: a consent valid until a date runs to the end of that
//! day in Norway, and a decision dated today is not "in the future" just after midnight in Oslo.

use chrono::NaiveDate;

pub const TIME_ZONE: chrono_tz::Tz = chrono_tz::Europe::Oslo;

pub fn today() -> NaiveDate {
    chrono::Utc::now().with_timezone(&TIME_ZONE).date_naive()
}
