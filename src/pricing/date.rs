//! [`Date`]: a calendar day in UTC, the unit price versions take effect in.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jiff::civil;
use jiff::tz::TimeZone;

/// A calendar day (proleptic Gregorian, UTC), such as a price version's
/// effective date.
///
/// A price that takes effect on a date applies from midnight UTC that day.
///
/// ```
/// use ragtrace::pricing::Date;
///
/// let date: Date = "2024-10-02".parse().unwrap();
/// assert_eq!(date.to_string(), "2024-10-02");
/// assert_eq!(Date::of(date.start()), date);
/// assert!("2024-02-30".parse::<Date>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(civil::Date);

impl Date {
    /// The date `year-month-day`, if it exists.
    pub fn new(year: i16, month: i8, day: i8) -> Result<Date, DateError> {
        civil::Date::new(year, month, day)
            .map(Date)
            .map_err(|_| DateError(format!("{year:04}-{month:02}-{day:02}")))
    }

    /// The UTC date of an instant.
    pub fn of(at: SystemTime) -> Date {
        let seconds = unix_seconds(at);
        // Out-of-range instants clamp to jiff's supported range (years -9999..=9999).
        let timestamp = jiff::Timestamp::from_second(seconds).unwrap_or(if seconds < 0 {
            jiff::Timestamp::MIN
        } else {
            jiff::Timestamp::MAX
        });
        Date(TimeZone::UTC.to_datetime(timestamp).date())
    }

    /// Today's date in UTC.
    pub fn today() -> Date {
        Date::of(SystemTime::now())
    }

    /// Midnight UTC at the start of this date.
    pub fn start(self) -> SystemTime {
        let seconds = self.start_seconds();
        if seconds >= 0 {
            UNIX_EPOCH + Duration::from_secs(seconds.unsigned_abs())
        } else {
            UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
        }
    }

    /// Midnight UTC at the start of this date, in seconds since the Unix epoch.
    pub(crate) fn start_seconds(self) -> i64 {
        // Every civil date jiff accepts has a UTC midnight jiff can represent.
        TimeZone::UTC
            .to_timestamp(self.0.to_datetime(civil::Time::midnight()))
            .map(|t| t.as_second())
            .unwrap_or(i64::MIN)
    }

    /// The year.
    pub fn year(self) -> i16 {
        self.0.year()
    }

    /// The month, 1 to 12.
    pub fn month(self) -> i8 {
        self.0.month()
    }

    /// The day of the month, 1 to 31.
    pub fn day(self) -> i8 {
        self.0.day()
    }
}

/// Seconds since the Unix epoch (negative before it), rounded down.
pub(crate) fn unix_seconds(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            // 0.5 s before the epoch is in second -1.
            if before.subsec_nanos() > 0 {
                -whole - 1
            } else {
                -whole
            }
        }
    }
}

/// `YYYY-MM-DD`.
impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            self.0.month(),
            self.0.day()
        )
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}

/// Parses `YYYY-MM-DD` exactly (no time, no offset).
impl FromStr for Date {
    type Err = DateError;

    fn from_str(s: &str) -> Result<Date, DateError> {
        let bad = || DateError(s.to_owned());
        let bytes = s.as_bytes();
        let shape_ok = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shape_ok {
            return Err(bad());
        }
        let field = |range: std::ops::Range<usize>| s[range].parse::<i16>().map_err(|_| bad());
        let (year, month, day) = (field(0..4)?, field(5..7)?, field(8..10)?);
        let (Ok(month), Ok(day)) = (i8::try_from(month), i8::try_from(day)) else {
            return Err(bad());
        };
        civil::Date::new(year, month, day)
            .map(Date)
            .map_err(|_| bad())
    }
}

/// A string that is not a calendar date in `YYYY-MM-DD` form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a date in YYYY-MM-DD form")]
pub struct DateError(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_real_dates() {
        assert_eq!(
            "2024-02-29".parse::<Date>().unwrap().to_string(),
            "2024-02-29"
        );
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "2024-01-01T00:00:00Z",
            "",
            "２０２４-01-01",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn days_start_at_midnight_utc() {
        let date: Date = "2024-10-02".parse().unwrap();
        // 2024-10-02T00:00:00Z = 1727827200.
        assert_eq!(date.start_seconds(), 1_727_827_200);
        let just_before = date.start() - Duration::from_nanos(1);
        assert_eq!(Date::of(just_before).to_string(), "2024-10-01");
        assert_eq!(Date::of(date.start()), date);
    }

    #[test]
    fn seconds_before_the_epoch_round_down() {
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_millis(500)), -1);
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(2)), -2);
        assert_eq!(
            Date::of(UNIX_EPOCH - Duration::from_millis(1)).to_string(),
            "1969-12-31"
        );
    }
}
