//! Timestamps as the API writes them: RFC 3339 UTC with microseconds and a `Z`, fixed width so
//! that text order is time order in storage.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// A timestamp in storage and wire form, e.g. `2026-11-28T03:04:05.123456Z`.
pub type Timestamp = String;

pub fn format(at: OffsetDateTime) -> Timestamp {
    let at = at.to_offset(UtcOffset::UTC);
    let fixed =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    at.format(&fixed)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

pub fn now() -> Timestamp {
    format(OffsetDateTime::now_utc())
}

/// The UUIDv7 text just above every id minted up to `slack_ms` after `at` (a UUIDv7's text
/// starts with its Unix time in milliseconds, in hex, so text order is minting order at
/// millisecond grain). `~` (above all of them) when `at` is not a timestamp.
pub fn uuid_v7_ceiling(at: &str, slack_ms: i64) -> String {
    let millis = OffsetDateTime::parse(at, &Rfc3339)
        .ok()
        .and_then(|at| i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok())
        .map(|ms| ms.saturating_add(slack_ms).saturating_add(1).max(0));
    match millis {
        Some(ms) => format!("{:08x}-{:04x}", ms >> 16, ms & 0xffff),
        None => "~".to_owned(),
    }
}

/// Which end of a day a date-only value stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayEnd {
    Start,
    End,
}

/// Parses a query date: RFC 3339, `YYYY-MM-DDThh:mm:ss`, `YYYY-MM-DD hh:mm:ss` or
/// `YYYY-MM-DD` (the start or end of that day, UTC).
pub fn parse_query_date(raw: &str, day_end: DayEnd) -> Option<OffsetDateTime> {
    if let Ok(at) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Some(at);
    }
    let with_t = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let with_space = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    for layout in [with_t, with_space] {
        if let Ok(at) = PrimitiveDateTime::parse(raw, &layout) {
            return Some(at.assume_utc());
        }
    }
    let date = Date::parse(raw, &format_description!("[year]-[month]-[day]")).ok()?;
    let time = match day_end {
        DayEnd::Start => Time::MIDNIGHT,
        DayEnd::End => Time::from_hms_micro(23, 59, 59, 999_999).ok()?,
    };
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_v7_ceiling_is_above_ids_of_that_millisecond_and_below_later_ones() {
        let at = "2026-11-28T07:00:00.000500Z";
        let ms = 1_795_849_200_000i64;
        let id_at = |ms: i64| {
            format!(
                "{:08x}-{:04x}-7abc-8def-0123456789ab",
                ms >> 16,
                ms & 0xffff
            )
        };
        let ceiling = uuid_v7_ceiling(at, 0);
        assert!(id_at(ms).as_str() < ceiling.as_str());
        assert!(id_at(ms + 1).as_str() > ceiling.as_str());
        assert!(id_at(ms + 1_000).as_str() < uuid_v7_ceiling(at, 1_000).as_str());
        assert_eq!(uuid_v7_ceiling("not a time", 0), "~");
    }

    #[test]
    fn formats_fixed_width_utc() {
        let at = OffsetDateTime::from_unix_timestamp(0).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        assert_eq!(format(at), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn parses_every_query_layout() {
        let cases = [
            (
                "2026-01-02",
                DayEnd::Start,
                Some("2026-01-02T00:00:00.000000Z"),
            ),
            (
                "2026-01-02",
                DayEnd::End,
                Some("2026-01-02T23:59:59.999999Z"),
            ),
            (
                "2026-01-02 10:11:12",
                DayEnd::Start,
                Some("2026-01-02T10:11:12.000000Z"),
            ),
            (
                "2026-01-02T10:11:12",
                DayEnd::Start,
                Some("2026-01-02T10:11:12.000000Z"),
            ),
            (
                "2026-01-02T10:11:12+01:00",
                DayEnd::Start,
                Some("2026-01-02T09:11:12.000000Z"),
            ),
            ("02/01/2026", DayEnd::Start, None),
        ];
        for (raw, end, expected) in cases {
            let parsed = parse_query_date(raw, end).map(format);
            assert_eq!(parsed.as_deref(), expected, "{raw}");
        }
    }
}
