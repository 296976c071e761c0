//! A bounded cache of decoded certificates, found by the exact text of a
//! whole allowed header, or by the exact `Cert` and `Chain` text of an
//! element (the sender-controlled `Hash` only picks the bucket, and only
//! once checked; see [`Key`]).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use quick_cache::{Equivalent, Weighter};

use crate::forwarded::ForwardedCert;

/// A decoded certificate, and the rule that allowed it once that is known.
#[derive(Debug)]
pub(crate) struct CachedCert {
    cert: ForwardedCert,
    decision: OnceLock<Decision>,
    /// A `Subject` text found to name this certificate.
    subject: OnceLock<Box<str>>,
}

#[derive(Debug, Clone, Copy)]
struct Decision {
    rule: usize,
    /// The index of the anchor that verified the chain, if one did.
    anchor: Option<usize>,
    until: SystemTime,
}

impl CachedCert {
    pub(crate) fn new(cert: ForwardedCert) -> Self {
        Self {
            cert,
            decision: OnceLock::new(),
            subject: OnceLock::new(),
        }
    }

    pub(crate) fn cert(&self) -> &ForwardedCert {
        &self.cert
    }

    /// The `Subject` text already checked against this certificate.
    pub(crate) fn known_subject(&self) -> Option<&str> {
        self.subject.get().map(|s| &**s)
    }

    /// Records a `Subject` text that matched (the first one stays).
    pub(crate) fn remember_subject(&self, subject: &str) {
        if self.subject.get().is_none() {
            let _ = self.subject.set(subject.into());
        }
    }

    /// The allowing rule and the anchor that verified its chain (if it
    /// has one), while the recorded decision is still good at `now`.
    pub(crate) fn decision(&self, now: SystemTime) -> Option<(usize, Option<usize>)> {
        self.decision
            .get()
            .filter(|d| now <= d.until)
            .map(|d| (d.rule, d.anchor))
    }

    /// Records a decision good until `until` (the first one recorded stays).
    pub(crate) fn set_decision(&self, rule: usize, anchor: Option<usize>, until: SystemTime) {
        let _ = self.decision.set(Decision {
            rule,
            anchor,
            until,
        });
    }
}

/// The exact `Cert` and `Chain` text, and the element's `Hash` text.
///
/// With a `Hash` (what Envoy and ACA send), only its 64 (or 40) hex digits
/// are hashed to find the entry, and the long texts are compared to accept
/// it: the sender picks the bucket, never the entry. An entry is only
/// stored once its `Hash` has been checked against the certificate, so the
/// senders of wrong hashes cannot crowd one bucket. Without a `Hash`, the
/// texts are hashed.
///
/// A whole-header key ([`KeyRef::header`]) holds an Envoy header's exact
/// text: an identical header parses, and checks, identically, so a hit
/// skips the parse.
///
/// An element of the JSON form is keyed apart from the text form: the
/// same text is decoded differently in each.
#[derive(PartialEq, Eq)]
struct Key {
    header: bool,
    json: bool,
    hash: Option<Box<str>>,
    cert: Box<str>,
    chain: Box<str>,
}

impl Key {
    fn borrowed(&self) -> KeyRef<'_> {
        KeyRef {
            header: self.header,
            json: self.json,
            hash: self.hash.as_deref(),
            cert: &self.cert,
            chain: &self.chain,
        }
    }
}

/// Borrowed form of [`Key`]; hashes and compares as it does.
#[derive(PartialEq, Eq)]
pub(crate) struct KeyRef<'a> {
    header: bool,
    json: bool,
    hash: Option<&'a str>,
    cert: &'a str,
    chain: &'a str,
}

/// A whole-header key, and a certificate text without a `Hash`, hashes
/// this many leading bytes and the length (the `Hash` sits in the first
/// hundred bytes of an Envoy header, and a certificate's serial number in
/// the first hundred characters of its PEM or base64); the whole text is
/// compared to accept an entry. Only allowed certificates are stored, so
/// texts that share a prefix crowd a bucket only as far as the policy
/// allows them.
const HEADER_PREFIX: usize = 128;

/// `text`'s first [`HEADER_PREFIX`] bytes and its length, into `state`.
fn hash_prefix<H: Hasher>(text: &str, state: &mut H) {
    let b = text.as_bytes();
    state.write(b.get(..HEADER_PREFIX).unwrap_or(b));
    state.write_usize(b.len());
}

impl<'a> KeyRef<'a> {
    /// `hash` is the element's `Hash` text, if any.
    pub(crate) const fn new(cert: &'a str, chain: &'a str, hash: Option<&'a str>) -> Self {
        Self {
            header: false,
            json: false,
            hash,
            cert,
            chain,
        }
    }

    /// The key of an element of the JSON form.
    pub(crate) const fn json(mut self, json: bool) -> Self {
        self.json = json;
        self
    }

    /// A whole Envoy header value, exactly as received.
    pub(crate) const fn header(value: &'a str) -> Self {
        Self {
            header: true,
            json: false,
            hash: None,
            cert: value,
            chain: "",
        }
    }

    fn to_owned(&self) -> Key {
        Key {
            header: self.header,
            json: self.json,
            hash: self.hash.map(Into::into),
            cert: self.cert.into(),
            chain: self.chain.into(),
        }
    }
}

impl Hash for KeyRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u8(u8::from(self.json));
        match self.hash {
            _ if self.header => {
                state.write_u8(2);
                hash_prefix(self.cert, state);
            }
            Some(h) => {
                state.write_u8(1);
                h.hash(state);
            }
            None => {
                state.write_u8(0);
                hash_prefix(self.cert, state);
                hash_prefix(self.chain, state);
            }
        }
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.borrowed().hash(state);
    }
}

impl Equivalent<Key> for KeyRef<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        *self == key.borrowed()
    }
}

/// Weighs an entry by the bytes it holds: its key texts and its
/// certificates' DER twice (the DER, and what is decoded from it), plus a
/// fixed allowance for the rest, and never less than `floor` (the byte
/// budget over the entry budget), so that both budgets hold.
#[derive(Clone)]
struct Bytes {
    floor: u64,
}

/// The fixed part of an entry: the structures, the names and SANs decoded.
const ENTRY_OVERHEAD: usize = 1024;

/// A cached certificate and, for a whole-header entry, the index of the
/// element that was verified.
#[derive(Clone)]
struct Entry {
    cert: Arc<CachedCert>,
    index: usize,
}

impl Weighter<Key, Entry> for Bytes {
    fn weight(&self, key: &Key, value: &Entry) -> u64 {
        let fc = value.cert.cert();
        let der = fc.leaf().der().len() + fc.chain_der().map(<[u8]>::len).sum::<usize>();
        let text = key.hash.as_deref().map_or(0, str::len) + key.cert.len() + key.chain.len();
        u64::try_from(text + 2 * der + ENTRY_OVERHEAD)
            .unwrap_or(u64::MAX)
            .max(self.floor)
    }
}

pub(crate) struct Cache {
    map: quick_cache::sync::Cache<Key, Entry, Bytes>,
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("len", &self.map.len())
            .finish()
    }
}

impl Cache {
    /// At most `capacity` entries and about `max_bytes` bytes.
    pub(crate) fn new(capacity: usize, max_bytes: u64) -> Self {
        let floor = (max_bytes / u64::try_from(capacity.max(1)).unwrap_or(u64::MAX)).max(1);
        Self {
            map: quick_cache::sync::Cache::with_weighter(capacity, max_bytes, Bytes { floor }),
        }
    }

    /// The bytes the entries are weighed at.
    pub(crate) fn weight(&self) -> u64 {
        self.map.weight()
    }

    /// The certificate stored for `key`, and the verified element's index
    /// (for a whole-header key; 0 otherwise).
    pub(crate) fn get(&self, key: &KeyRef<'_>) -> Option<(Arc<CachedCert>, usize)> {
        self.map.get(key).map(|e| (e.cert, e.index))
    }

    /// Stores an entry whose `Hash` (if any) has been checked against it;
    /// for a whole-header key, `index` is the element the policy verified.
    pub(crate) fn insert(&self, key: &KeyRef<'_>, cert: Arc<CachedCert>, index: usize) {
        self.map.insert(key.to_owned(), Entry { cert, index });
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_differ_by_text_or_hash() {
        let digest = "ab".repeat(32);
        let a = KeyRef::new("c", "c", Some(&digest));
        let key = a.to_owned();
        assert!(a.equivalent(&key));
        assert!(!KeyRef::new("c", "c", None).equivalent(&key));
        assert!(!KeyRef::new("c", "d", Some(&digest)).equivalent(&key));
        assert!(!KeyRef::new("x", "c", Some(&digest)).equivalent(&key));
        assert!(!KeyRef::new("c", "c", Some(&"AB".repeat(32))).equivalent(&key));
        // A whole header is never an element's key, even with the same text.
        let header = KeyRef::header("c").to_owned();
        assert!(KeyRef::header("c").equivalent(&header));
        assert!(!KeyRef::new("c", "", None).equivalent(&header));
        assert!(!KeyRef::header("c").equivalent(&KeyRef::new("c", "", None).to_owned()));
    }

    #[test]
    fn header_keys_hash_a_prefix_and_compare_everything() {
        use std::hash::BuildHasher;
        let s = std::collections::hash_map::RandomState::new();
        let long = "a".repeat(300);
        let other = format!("{}b", "a".repeat(299));
        // Same prefix and length: same bucket, different entries.
        assert_eq!(
            s.hash_one(KeyRef::header(&long)),
            s.hash_one(KeyRef::header(&other))
        );
        assert!(!KeyRef::header(&other).equivalent(&KeyRef::header(&long).to_owned()));
        let cache = Cache::new(8, 1 << 20);
        let der = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/certs/client-rsa.der"
        ))
        .unwrap();
        let fc = ForwardedCert::new(
            crate::cert::CertIdentity::from_der(der).unwrap(),
            Vec::new(),
            false,
        );
        cache.insert(&KeyRef::header(&long), Arc::new(CachedCert::new(fc)), 1);
        assert_eq!(cache.get(&KeyRef::header(&long)).map(|(_, i)| i), Some(1));
        assert!(cache.get(&KeyRef::header(&other)).is_none());
    }
}
