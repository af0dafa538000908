//! The time that rules depend on (correction windows, due dates, reminders). One per
//! application, shared through app data, so that tests can move it forward instead of sleeping;
//! in service it is the system clock.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Milliseconds added to the system time; only tests change it.
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock::default()
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Now as stored (UTC, without zone, microseconds).
    pub fn now_naive(&self) -> NaiveDateTime {
        let now = self.now().naive_utc();
        crate::db::truncate_to_micros(now)
    }

    pub fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }

    /// Moves this clock forward (tests).
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}
