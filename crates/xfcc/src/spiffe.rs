//! SPIFFE ID syntax (the SPIFFE ID specification, section 2):
//! `spiffe://<trust domain>/<path>`, the trust domain of lower-case letters,
//! digits, `.`, `-` and `_`; each path segment non-empty, of letters,
//! digits, `.`, `-` and `_`, and neither `.` nor `..`; no trailing `/`,
//! query, fragment, port or user info; at most 2048 bytes.

/// Why a string is not a SPIFFE ID or trust domain name.
pub(crate) type Invalid = &'static str;

/// The trust domain of a valid SPIFFE ID.
pub(crate) fn parse_id(id: &str) -> Result<&str, Invalid> {
    if id.len() > 2048 {
        return Err("longer than 2048 bytes");
    }
    let rest = id
        .strip_prefix("spiffe://")
        .ok_or("does not start with spiffe://")?;
    let (domain, path) = rest.split_once('/').unwrap_or((rest, ""));
    trust_domain(domain)?;
    if rest.contains('/') {
        if path.is_empty() || path.ends_with('/') {
            return Err("ends with /");
        }
        for segment in path.split('/') {
            match segment {
                "" => return Err("has an empty path segment"),
                "." | ".." => return Err("has a . or .. path segment"),
                s if !s
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')) =>
                {
                    return Err("has a path character other than letters, digits, . - _");
                }
                _ => {}
            }
        }
    }
    Ok(domain)
}

/// A valid trust domain name.
pub(crate) fn trust_domain(name: &str) -> Result<(), Invalid> {
    if name.is_empty() {
        return Err("has an empty trust domain");
    }
    if name.len() > 255 {
        return Err("has a trust domain longer than 255 bytes");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'))
    {
        return Err("has a trust domain character other than lower-case letters, digits, . - _");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_the_specification_allows() {
        assert_eq!(parse_id("spiffe://example.org"), Ok("example.org"));
        assert_eq!(
            parse_id("spiffe://prod.acme-corp_1/ns/payments/sa/api.v2"),
            Ok("prod.acme-corp_1")
        );
    }

    #[test]
    fn refuses_what_it_forbids() {
        for bad in [
            "",
            "spiffe://",
            "http://example.org/a",
            "SPIFFE://example.org/a",
            "spiffe://Example.org/a",
            "spiffe://example.org/",
            "spiffe://example.org//a",
            "spiffe://example.org/a/../b",
            "spiffe://example.org/./b",
            "spiffe://example.org:8443/a",
            "spiffe://user@example.org/a",
            "spiffe://example.org/a?x=1",
            "spiffe://example.org/a#f",
            "spiffe://example.org/a b",
            "spiffe://example.org/é",
        ] {
            assert!(parse_id(bad).is_err(), "{bad}");
        }
        assert!(parse_id(&format!("spiffe://td/{}", "a".repeat(2048))).is_err());
        assert!(trust_domain(&"a".repeat(256)).is_err());
    }
}
