//! A bounded cache of decoded certificates, keyed by the exact `Cert` and
//! `Chain` text of an element (never by the sender-controlled `Hash`).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use quick_cache::Equivalent;

use crate::decode::ForwardedCert;

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
    chain: bool,
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

    /// The allowing rule and whether a chain was verified, while the
    /// recorded decision is still good at `now`.
    pub(crate) fn decision(&self, now: SystemTime) -> Option<(usize, bool)> {
        self.decision
            .get()
            .filter(|d| now <= d.until)
            .map(|d| (d.rule, d.chain))
    }

    /// Records a decision good until `until` (the first one recorded stays).
    pub(crate) fn set_decision(&self, rule: usize, chain: bool, until: SystemTime) {
        let _ = self.decision.set(Decision { rule, chain, until });
    }
}

type Key = (Box<str>, Box<str>);

/// Borrowed form of the key: hashes exactly as `(Box<str>, Box<str>)` does.
struct KeyRef<'a>(&'a str, &'a str);

impl Hash for KeyRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
        self.1.hash(state);
    }
}

impl Equivalent<Key> for KeyRef<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        *key.0 == *self.0 && *key.1 == *self.1
    }
}

pub(crate) struct Cache {
    map: quick_cache::sync::Cache<Key, Arc<CachedCert>>,
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("len", &self.map.len())
            .finish()
    }
}

impl Cache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            map: quick_cache::sync::Cache::new(capacity),
        }
    }

    pub(crate) fn get(&self, (cert, chain): (&str, &str)) -> Option<Arc<CachedCert>> {
        self.map.get(&KeyRef(cert, chain))
    }

    pub(crate) fn insert(&self, (cert, chain): (&str, &str), value: Arc<CachedCert>) {
        self.map.insert((cert.into(), chain.into()), value);
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}
