//! [`TimeRange`]: which spans a command reads, from `--since` / `--until`.

use std::time::{Duration, SystemTime};

/// A half-open range of start times, `[since, until)`; either end may be open.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use ragtrace::analysis::TimeRange;
///
/// let now = SystemTime::now();
/// let range = TimeRange::parse(Some("7d"), None, now).unwrap();
/// assert_eq!(range.since, Some(now - Duration::from_secs(7 * 86_400)));
/// assert!(TimeRange::parse(Some("yesterday-ish"), None, now).is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimeRange {
    /// Spans that started at or after this time.
    pub since: Option<SystemTime>,
    /// Spans that started before this time.
    pub until: Option<SystemTime>,
}

impl TimeRange {
    /// Every span.
    pub fn all() -> Self {
        TimeRange::default()
    }

    /// Spans that started in `[since, until)`.
    pub fn between(since: Option<SystemTime>, until: Option<SystemTime>) -> Self {
        TimeRange { since, until }
    }

    /// Parses `--since` / `--until` values (see [`parse_time`]), relative
    /// ones counted back from `now`.
    pub fn parse(
        since: Option<&str>,
        until: Option<&str>,
        now: SystemTime,
    ) -> Result<Self, ParseTimeError> {
        let range = TimeRange {
            since: since.map(|s| parse_time(s, now)).transpose()?,
            until: until.map(|s| parse_time(s, now)).transpose()?,
        };
        if let (Some(since), Some(until)) = (range.since, range.until)
            && since >= until
        {
            return Err(ParseTimeError {
                input: format!("{} .. {}", since.fmt_rfc3339(), until.fmt_rfc3339()),
                reason: "the start is not before the end",
            });
        }
        Ok(range)
    }

    /// `true` if `time` is in the range.
    pub fn contains(&self, time: SystemTime) -> bool {
        self.since.is_none_or(|s| time >= s) && self.until.is_none_or(|u| time < u)
    }

    /// The range as Unix nanoseconds, open ends as the extremes.
    pub fn nanos(&self) -> (i64, i64) {
        (
            self.since.map(to_nanos).unwrap_or(i64::MIN),
            self.until.map(to_nanos).unwrap_or(i64::MAX),
        )
    }
}

/// A time that is neither RFC 3339 nor a relative duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{input}` is not a time: {reason} (give RFC 3339 like 2026-11-30T12:00:00Z or 2026-11-30, or a duration back from now like 90m, 12h, 7d, 2w)"
)]
pub struct ParseTimeError {
    input: String,
    reason: &'static str,
}

/// Parses a point in time: RFC 3339 (`2026-11-30T12:00:00Z`, any offset),
/// a date (`2026-11-30`, midnight UTC), `now`, or a duration back from
/// `now` (`30s`, `90m`, `12h`, `7d`, `2w`, or humantime's `1h 30m`).
pub fn parse_time(text: &str, now: SystemTime) -> Result<SystemTime, ParseTimeError> {
    let input = text.trim();
    let bad = |reason| ParseTimeError {
        input: truncate(input),
        reason,
    };
    if input.is_empty() {
        return Err(bad("it is empty"));
    }
    if input.len() > 64 {
        return Err(bad("it is too long"));
    }
    if input.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Ok(timestamp) = input.parse::<jiff::Timestamp>() {
        return Ok(SystemTime::from(timestamp));
    }
    if let Ok(date) = input.parse::<jiff::civil::Date>() {
        let timestamp = date
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map_err(|_| bad("it is out of range"))?
            .timestamp();
        return Ok(SystemTime::from(timestamp));
    }
    let back = parse_duration(input).ok_or_else(|| bad("it is not a date or a duration"))?;
    now.checked_sub(back)
        .ok_or_else(|| bad("it is out of range"))
}

/// A duration such as `7d`, `12h`, `2w` or `1h 30m` (weeks, or anything
/// `humantime` reads); `None` if it is not one.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Some(weeks) = text.strip_suffix('w')
        && let Ok(n) = weeks.trim().parse::<u64>()
    {
        return n.checked_mul(7 * 86_400).map(Duration::from_secs);
    }
    humantime::parse_duration(text).ok()
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

// The store's own conversions, so a range means what the columns mean.
pub(crate) use crate::store::{from_nanos, to_nanos};

/// RFC 3339 in UTC, for messages and output.
pub(crate) trait Rfc3339 {
    fn fmt_rfc3339(&self) -> String;
}

impl Rfc3339 for SystemTime {
    fn fmt_rfc3339(&self) -> String {
        jiff::Timestamp::try_from(*self)
            .map(|t| t.to_string())
            .unwrap_or_else(|_| format!("{self:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn absolute_and_relative_times() {
        let now = at(1_764_504_000); // 2025-11-30T12:00:00Z
        assert_eq!(parse_time("2025-11-30T12:00:00Z", now), Ok(now));
        assert_eq!(parse_time("2025-11-30T13:00:00+01:00", now), Ok(now));
        assert_eq!(parse_time("2025-11-30", now), Ok(at(1_764_460_800)));
        assert_eq!(
            parse_time("7d", now),
            Ok(now - Duration::from_secs(604_800))
        );
        assert_eq!(
            parse_time("2w", now),
            Ok(now - Duration::from_secs(1_209_600))
        );
        assert_eq!(parse_time("90m", now), Ok(now - Duration::from_secs(5_400)));
        assert_eq!(
            parse_time("1h 30m", now),
            Ok(now - Duration::from_secs(5_400))
        );
        assert_eq!(parse_time(" now ", now), Ok(now));
    }

    #[test]
    fn bad_times_say_what_was_wrong() {
        let now = at(1_764_504_000);
        for bad in ["", "soon", "7x", "2025-13-01", &"9".repeat(500)] {
            let error = parse_time(bad, now).unwrap_err().to_string();
            assert!(error.contains("is not a time"), "{error}");
            assert!(error.len() < 400, "{error}");
        }
        let reversed = TimeRange::parse(Some("1d"), Some("2d"), now).unwrap_err();
        assert!(reversed.to_string().contains("not before the end"));
    }

    #[test]
    fn nanos_round_trip() {
        for t in [
            at(0),
            at(1_764_504_000),
            SystemTime::UNIX_EPOCH - Duration::from_secs(5),
        ] {
            assert_eq!(from_nanos(to_nanos(t)), t);
        }
        let range = TimeRange::between(Some(at(10)), Some(at(20)));
        assert!(range.contains(at(10)) && !range.contains(at(20)));
    }
}
