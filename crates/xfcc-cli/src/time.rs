//! `--at`: RFC 3339 timestamps, read and written by the `time` crate.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` into a time (whole
/// seconds; a time before 1970 is refused).
pub(crate) fn parse_rfc3339(s: &str) -> Result<SystemTime, String> {
    let bad = || format!("--at {s:?} is not an RFC 3339 time such as 2026-11-22T10:00:00Z");
    let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|_| bad())?;
    let secs = u64::try_from(t.unix_timestamp()).map_err(|_| bad())?;
    Ok(UNIX_EPOCH + Duration::from_secs(secs))
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC; times before 1970 print as 1970, times
/// past the year 9999 as its last second).
pub(crate) fn format_rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "9999-12-31T23:59:59Z".to_owned())
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    fn secs(s: &str) -> u64 {
        parse_rfc3339(s)
            .unwrap()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    #[test]
    fn parses_utc_offsets_and_fractions() {
        assert_eq!(secs("1970-01-01T00:00:00Z"), 0);
        assert_eq!(secs("2026-11-22T06:21:26Z"), 1_795_328_486);
        assert_eq!(secs("2026-11-22T07:21:26+01:00"), 1_795_328_486);
        assert_eq!(secs("2026-11-22T06:21:26.999Z"), 1_795_328_486);
        assert_eq!(secs("2000-02-29T00:00:00Z"), 951_782_400);
    }

    #[test]
    fn formats_what_it_parses() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2000-02-29T00:00:00Z",
            "2026-11-22T06:21:26Z",
            "2050-12-31T23:59:59Z",
            "2100-03-01T12:00:00Z",
        ] {
            assert_eq!(format_rfc3339(parse_rfc3339(s).unwrap()), s);
        }
    }

    #[test]
    fn rejects_other_text() {
        for s in [
            "",
            "2026-11-22",
            "2026-11-22T06:21:26",
            "2026-13-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "tomorrow",
            "2026-11-22T06:21:26.Z",
        ] {
            assert!(parse_rfc3339(s).is_err(), "{s}");
        }
    }
}
