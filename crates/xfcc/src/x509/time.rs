//! Certificate dates: UTCTime and GeneralizedTime in DER form, read to
//! Unix seconds, and written back as RFC 3339.

use super::reader::{Der, Result, tag};
use crate::error::DerErrorKind;

/// A validity time, in seconds since the Unix epoch. Read here rather
/// than through x509-cert (a third of the cost of reading a certificate
/// went to its general date handling), with exactly its rules (the test
/// `times_agree_with_x509_cert` holds the two side by side): UTCTime
/// `YYMMDDHHMMSSZ` (years 50-99 are 19xx) or GeneralizedTime
/// `YYYYMMDDHHMMSSZ`, a real calendar date up to 9999, no leap second.
/// A date before 1970, which x509-cert refuses, is a real date under RFC
/// 5280 (UTCTime 50-69 means 1950-1969; NIST's PKITS has such a
/// `notBefore`): it reads as the negative number of seconds it is, so that
/// it is reported as written. (rustls-webpki reads no such date, so a chain
/// through one is refused as `time_before_1970`.)
pub(super) fn time(d: &mut Der<'_>) -> Result<i64> {
    let bad = d.fail(DerErrorKind::BadTime);
    let t = d.tlv()?;
    let (year, rest) = match (t.tag, t.value) {
        (tag::UTC_TIME, &[y1, y2, ref rest @ ..]) if rest.len() == 11 => {
            let yy = i64::from(decimal(y1, y2).ok_or(bad)?);
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, rest)
        }
        (tag::GENERALIZED_TIME, &[y1, y2, y3, y4, ref rest @ ..]) if rest.len() == 11 => {
            let (hi, lo) = (decimal(y1, y2).ok_or(bad)?, decimal(y3, y4).ok_or(bad)?);
            (i64::from(hi) * 100 + i64::from(lo), rest)
        }
        _ => return Err(bad),
    };
    let &[m1, m2, d1, d2, h1, h2, n1, n2, s1, s2, b'Z'] = rest else {
        return Err(bad);
    };
    let field = |a, b, range: core::ops::RangeInclusive<u8>| {
        decimal(a, b).filter(|v| range.contains(v)).map(i64::from)
    };
    let (month, hour, minute, second) = (
        field(m1, m2, 1..=12).ok_or(bad)?,
        field(h1, h2, 0..=23).ok_or(bad)?,
        field(n1, n2, 0..=59).ok_or(bad)?,
        field(s1, s2, 0..=59).ok_or(bad)?,
    );
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let day = field(d1, d2, 1..=days_in_month).ok_or(bad)?;
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Two ASCII digits as a number.
pub(super) const fn decimal(hi: u8, lo: u8) -> Option<u8> {
    if hi.is_ascii_digit() && lo.is_ascii_digit() {
        Some((hi - b'0') * 10 + (lo - b'0'))
    } else {
        None
    }
}

/// Days from 1970-01-01 to a valid proleptic Gregorian date of years 1 to
/// 9999, negative before it (the usual days-from-civil arithmetic, with
/// years counted from March so that the leap day ends a year).
pub(crate) const fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day counted from 1970-01-01 (negative before it): the
/// inverse of [`days_from_civil`].
pub(super) const fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

/// Seconds since the Unix epoch (negative before it) as RFC 3339 in UTC,
/// `YYYY-MM-DDTHH:MM:SSZ`: a validity date as the certificate wrote it,
/// 1950 as 1950.
pub(crate) fn rfc3339(secs: i64) -> String {
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}
