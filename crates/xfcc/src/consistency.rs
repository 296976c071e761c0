//! Whether an element agrees with the certificate it carries: `Hash`,
//! `Chain`, `Subject`, `URI`, `DNS` and `Issuer` must all describe it. This is what
//! stops a client that smuggles another element into an unquoted SAN
//! (envoyproxy/envoy#32945). Each check is its own function, so the policy
//! can skip what its cache has already established without a flag reaching
//! in here.

use crate::cert::CertIdentity;
use crate::dn::DistinguishedName;
use crate::error::Inconsistency;
use crate::forwarded::ForwardedCert;
use crate::parse::Element;

impl Element<'_> {
    /// Every way in which this element disagrees with `cert`, in the order
    /// `Hash`, `Chain`, `Subject`, `URI`, `DNS`, `Issuer`. Empty when
    /// consistent.
    pub fn inconsistencies<'s>(
        &'s self,
        cert: &'s ForwardedCert,
    ) -> impl Iterator<Item = Inconsistency> + 's {
        let leaf = cert.leaf();
        let [uri, dns] = self.san_inconsistencies(leaf);
        [
            self.hash_inconsistency(leaf),
            self.chain_inconsistency(cert),
            self.subject_inconsistency(leaf),
            uri,
            dns,
            self.issuer_inconsistency(leaf),
        ]
        .into_iter()
        .flatten()
    }

    /// `Hash`, when present, is not the leaf's SHA-256 (or SHA-1).
    pub(crate) fn hash_inconsistency(&self, leaf: &CertIdentity) -> Option<Inconsistency> {
        self.hash()
            .filter(|h| !hash_matches(&h.text(), leaf))
            .map(|_| Inconsistency::HashMismatch)
    }

    /// Both `Cert` and `Chain` are present and `Chain` does not start with
    /// `Cert`.
    pub(crate) fn chain_inconsistency(&self, cert: &ForwardedCert) -> Option<Inconsistency> {
        (self.cert().is_some()
            && self.chain().is_some()
            && cert.chain_der().next().is_some()
            && !cert.chain_starts_with_leaf())
        .then_some(Inconsistency::ChainLeafMismatch)
    }

    /// `Subject`, when present, does not name the leaf's subject (compared
    /// as parsed names).
    pub(crate) fn subject_inconsistency(&self, leaf: &CertIdentity) -> Option<Inconsistency> {
        self.subject()
            .filter(|s| {
                DistinguishedName::parse_envoy_subject(&s.text())
                    .map_or(true, |dn| &dn != leaf.subject_name())
            })
            .map(|_| Inconsistency::SubjectMismatch)
    }

    /// `Issuer`, when present, does not name the leaf's issuer (compared as
    /// parsed names, as `Subject`).
    pub(crate) fn issuer_inconsistency(&self, leaf: &CertIdentity) -> Option<Inconsistency> {
        self.issuer()
            .filter(|s| {
                DistinguishedName::parse_envoy_subject(&s.text())
                    .map_or(true, |dn| &dn != leaf.issuer_name())
            })
            .map(|_| Inconsistency::IssuerMismatch)
    }

    /// `URI` and `DNS`, each: present and not exactly the leaf's SANs.
    pub(crate) fn san_inconsistencies(&self, leaf: &CertIdentity) -> [Option<Inconsistency>; 2] {
        let (uri_ok, dns_ok) = self.sans_consistent(leaf);
        [
            (!uri_ok).then_some(Inconsistency::UriMismatch),
            (!dns_ok).then_some(Inconsistency::DnsMismatch),
        ]
    }
}

impl Element<'_> {
    /// Whether the `URI` and the `DNS` values are exactly the certificate's
    /// SANs, in one pass over the pairs.
    fn sans_consistent(&self, leaf: &CertIdentity) -> (bool, bool) {
        // From the first URI or DNS pair: not through Cert and Chain again.
        let mut pairs = self
            .pairs_from_first(&[crate::parse::Key::Uri, crate::parse::Key::Dns])
            .peekable();
        if pairs.peek().is_none() {
            // Neither forwarded: nothing to compare, and the SANs need not
            // be built.
            return (true, true);
        }
        let mut uri = SanCheck::new(leaf.san().uri());
        let mut dns = SanCheck::new(leaf.san().dns());
        for pair in pairs {
            match pair.key() {
                crate::parse::Key::Uri => uri.push(&pair.value().text()),
                crate::parse::Key::Dns => dns.push(&pair.value().text()),
                _ => {}
            }
        }
        (uri.ok(), dns.ok())
    }
}

/// Whether values pushed one by one are exactly the SANs, in order. No
/// values means the field was not forwarded; a single empty value (Envoy's
/// `URI=`) means the certificate has none.
struct SanCheck<'a> {
    sans: &'a [String],
    seen: usize,
    empty_first: bool,
    ok: bool,
}

impl<'a> SanCheck<'a> {
    const fn new(sans: &'a [String]) -> Self {
        Self {
            sans,
            seen: 0,
            empty_first: false,
            ok: true,
        }
    }

    fn push(&mut self, value: &str) {
        if self.seen == 0 && value.is_empty() {
            self.empty_first = true;
        } else if self.empty_first || self.sans.get(self.seen).map(String::as_str) != Some(value) {
            self.ok = false;
        }
        self.seen += 1;
    }

    fn ok(&self) -> bool {
        match (self.seen, self.empty_first) {
            (0, _) => true,
            (1, true) => self.sans.is_empty(),
            (_, true) => false,
            (n, false) => self.ok && n == self.sans.len(),
        }
    }
}

/// Envoy's `Hash` is hex SHA-256; 40 hex digits are taken as SHA-1 (what
/// nginx's `$ssl_client_fingerprint` gives). Either case.
fn hash_matches(hex: &str, leaf: &CertIdentity) -> bool {
    match hex.len() {
        64 => crate::hex::decode::<32>(hex).is_some_and(|h| &h == leaf.sha256()),
        40 => crate::hex::decode::<20>(hex).is_some_and(|h| &h == leaf.sha1()),
        _ => false,
    }
}

/// The header's values must be exactly the certificate's SANs, in order.
/// No values means the field was not forwarded; a single empty value (how
/// Envoy writes `URI=` for "none") means the certificate has none. The
/// specification [`SanCheck`] is tested against.
#[cfg(test)]
fn sans_match<'v>(mut values: impl Iterator<Item = &'v str>, sans: &[String]) -> bool {
    let Some(first) = values.next() else {
        return true;
    };
    if first.is_empty() {
        return sans.is_empty() && values.next().is_none();
    }
    let mut sans = sans.iter();
    if sans.next().map(String::as_str) != Some(first) {
        return false;
    }
    loop {
        match (values.next(), sans.next()) {
            (None, None) => return true,
            (Some(v), Some(s)) if v == s => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incremental_san_check_agrees_with_sans_match() {
        let sans = ["a".to_owned(), "b".to_owned()];
        let cases: [&[&str]; 9] = [
            &[],
            &["a", "b"],
            &["a"],
            &["b", "a"],
            &["a", "b", "b"],
            &[""],
            &["", ""],
            &["x"],
            &["", "a"],
        ];
        for set in [&sans[..], &[]] {
            for values in cases {
                let mut c = SanCheck::new(set);
                values.iter().for_each(|v| c.push(v));
                assert_eq!(
                    c.ok(),
                    sans_match(values.iter().copied(), set),
                    "{values:?} vs {set:?}"
                );
            }
        }
    }

    #[test]
    fn sans_match_rules() {
        let sans = vec!["a".to_owned(), "b".to_owned()];
        assert!(sans_match([].into_iter(), &sans));
        assert!(sans_match(["a", "b"].into_iter(), &sans));
        assert!(!sans_match(["a"].into_iter(), &sans));
        assert!(!sans_match(["b", "a"].into_iter(), &sans));
        assert!(!sans_match(["a", "b", "b"].into_iter(), &sans));
        assert!(!sans_match([""].into_iter(), &sans));
        assert!(sans_match([""].into_iter(), &[]));
        assert!(!sans_match(["", ""].into_iter(), &[]));
        assert!(!sans_match(["x"].into_iter(), &[]));
    }
}
