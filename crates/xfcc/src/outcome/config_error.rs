//! Why a policy cannot be built.

/// A policy that cannot be built: contradictory or malformed settings.
/// Messages name the setting and value at fault; none contains certificate
/// bytes.
///
/// It is opaque: ask it its [`kind`](Self::kind) (a [`ConfigErrorKind`]
/// with a stable [`code`](ConfigErrorKind::code)), the
/// [`setting`](Self::setting) at fault, the [`rule`](Self::rule) it is in,
/// and its message (`Display`). Its `Debug` form is its message too, with
/// the kind and setting after it, so that an error returned with `?` from
/// `main` (which prints `Debug`) reads as plainly as `Display`:
/// `Error: invalid mode value "strict": "require", "accept" or "report"
/// [kind: value; setting: mode]`.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfigError(Box<Repr>);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

/// Every message holds what is inside it (a rule's or a variable's error
/// included), so there is no `source()`.
impl std::error::Error for ConfigError {}

impl From<Repr> for ConfigError {
    fn from(repr: Repr) -> Self {
        Self(Box::new(repr))
    }
}

/// What a [`ConfigError`] holds. Crate-private, so that its variants can
/// change without a major version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Repr {
    /// A thumbprint that is not 64 (SHA-256) or 40 (SHA-1) hex digits.
    #[error("invalid thumbprint: {0}")]
    Thumbprint(String),
    /// A value that does not parse for its key, or that the setting
    /// refuses.
    #[error("invalid {key} value {value:?}: {expected}")]
    Value {
        /// The setting.
        key: &'static str,
        /// The value given, as given.
        value: String,
        /// What a valid value looks like, or why this one is refused.
        expected: String,
    },
    /// A rule without any constraint (it would allow every certificate).
    #[error(
        "rule has no constraint: give it a key such as subject_cn or thumbprint (without one it would allow every certificate)"
    )]
    EmptyRule,
    /// A policy without any rule.
    #[error("policy has no allow rule: add an [[allow]] table")]
    NoRules,
    /// An error inside one rule. Its `Display` includes the inner error,
    /// which is therefore not also a `source()`.
    #[error("rule {rule:?}: {error}")]
    Rule {
        /// The rule's name or index.
        rule: String,
        /// What is wrong with it.
        error: ConfigError,
    },
    /// An error inside one `[[trusted_proxies]]` entry. Its `Display`
    /// includes the inner error, which is therefore not also a `source()`.
    #[error("[[trusted_proxies]] {proxy:?}: {error}")]
    Proxy {
        /// The entry's name or index.
        proxy: String,
        /// What is wrong with it.
        error: ConfigError,
    },
    /// Two rules with the same name.
    #[error("two rules are named {0:?}: each [[allow]] name must be unique")]
    DuplicateRule(String),
    /// The trusted element index does not fit the expected element count.
    #[error(
        "cannot trust element {trust} of exactly {count}: [elements] trust must name one of the [elements] count elements"
    )]
    TrustIndex {
        /// The configured index.
        trust: i64,
        /// The configured count.
        count: usize,
    },
    /// A rule names a trust-anchor set that is not configured.
    #[error("rule requires unknown chain anchor set {0:?}: its chain key names no [chain.<set>]")]
    UnknownAnchorSet(String),
    /// A chain rule, but the crate was built without the `chain` feature.
    #[error("chain verification needs the `chain` cargo feature")]
    ChainUnavailable,
    /// A trust-anchor set that cannot be loaded.
    #[error("chain anchor set {set:?}: {message}")]
    AnchorSet {
        /// The set's name.
        set: String,
        /// What is wrong.
        message: String,
    },
    /// A policy file that cannot be read or parsed.
    #[error("policy file: {0}")]
    File(String),
    /// Another file a setting names (an anchor bundle, a CRL) that cannot
    /// be read; the message names it.
    #[error("{0}")]
    Read(String),
    /// A list setting given no values (`thumbprint = []`, or only blanks):
    /// an empty list is a mistake, never "no constraint".
    #[error("{key} is an empty list; remove the setting or give it values")]
    EmptyList {
        /// The setting.
        key: &'static str,
    },
    /// A number outside the range the setting allows.
    #[error("{key} = {value} is out of range (at most {max})")]
    OutOfRange {
        /// The setting.
        key: &'static str,
        /// The value given.
        value: u64,
        /// The largest value allowed.
        max: u64,
    },
    /// A setting that the chosen header format cannot honour.
    #[error("{key} cannot be honoured with the {format} format: {why}")]
    FormatCannot {
        /// The setting.
        key: &'static str,
        /// The format's name.
        format: &'static str,
        /// Why not.
        why: &'static str,
    },
    /// A setting that `identity_from = "proxy-fields"` cannot honour, or
    /// that mode without what makes the fields trustworthy.
    #[error("{key} cannot be honoured with identity_from = \"proxy-fields\": {why}")]
    ProxyFieldsCannot {
        /// The setting.
        key: &'static str,
        /// Why not.
        why: &'static str,
    },
    /// An environment variable with nothing in it: it cannot be honoured,
    /// and dropping it could drop a constraint.
    #[error("{key} is set to nothing; give it a value or unset it")]
    EmptyValue {
        /// The setting.
        key: &'static str,
    },
    /// An `XFCC_*` or `ALLOWED_CERT_*` variable that is not one xfcc reads
    /// (a misspelling is never ignored).
    #[error("not a variable xfcc reads; did you mean {closest}?")]
    UnknownVariable {
        /// The valid name nearest to it.
        closest: &'static str,
    },
    /// No allow rule in the environment.
    #[error(
        "no allow rule: set XFCC_POLICY_FILE, ALLOWED_CERT_THUMBPRINTS, ALLOWED_CERT_COMMON_NAMES or an XFCC_ALLOWED_* variable"
    )]
    NothingSet,
    /// A rule that checks only names (no `thumbprint`, `spki_sha256` or
    /// `chain`) in a policy that does not say the proxy verifies client
    /// certificates: a self-signed certificate with those names would pass
    /// it. `key` is the rule's first constraint.
    #[error(
        "checks only what anyone can write into a self-signed certificate ({key}; no chain, thumbprint or key pin), and the Azure Container Apps ingress, like any proxy that does not verify client certificates, forwards such a certificate: {}",
        names_only_fix(.proxy_fields)
    )]
    NamesOnly {
        /// The rule's first constraint key (`subject_cn`).
        key: &'static str,
        /// Whether the identity comes from the proxy's fields (no chain
        /// can be verified there: the fix is a thumbprint).
        proxy_fields: bool,
    },
    /// An environment variable with a bad value. Its `Display` includes
    /// the inner error, which is therefore not also a `source()`.
    #[error("environment variable {var}: {error}")]
    Env {
        /// The variable.
        var: String,
        /// What is wrong with its value.
        error: ConfigError,
    },
}

/// What kind of [`ConfigError`] it is, for a caller that matches on it
/// ([`ConfigError::kind`]). Each has a stable [`code`](Self::code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// A thumbprint that is not 64 (SHA-256) or 40 (SHA-1) hex digits.
    Thumbprint,
    /// A value that does not parse for its key, or that the setting refuses.
    Value,
    /// A rule without any constraint (it would allow every certificate).
    EmptyRule,
    /// A policy without any rule.
    NoRules,
    /// Two rules with the same name.
    DuplicateRule,
    /// The trusted element index does not fit the expected element count.
    TrustIndex,
    /// A rule names a trust-anchor set that is not configured.
    UnknownAnchorSet,
    /// A chain rule, but the crate was built without the `chain` feature.
    ChainUnavailable,
    /// A trust-anchor set that cannot be loaded.
    AnchorSet,
    /// A policy file that cannot be read or parsed.
    File,
    /// A list setting given no values (`thumbprint = []`, or only blanks).
    EmptyList,
    /// A number outside the range the setting allows.
    OutOfRange,
    /// A setting that the chosen header format cannot honour.
    FormatCannot,
    /// A setting that `identity_from = "proxy-fields"` cannot honour.
    ProxyFieldsCannot,
    /// No allow rule in the environment.
    NothingSet,
    /// An environment variable with nothing in it.
    EmptyValue,
    /// An `XFCC_*` or `ALLOWED_CERT_*` variable that xfcc does not read (a misspelling).
    UnknownVariable,
    /// A rule that checks only names, in a policy that does not say the proxy verifies client certificates.
    NamesOnly,
}

impl ConfigErrorKind {
    /// The stable code, e.g. `"out_of_range"`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Thumbprint => "thumbprint",
            Self::Value => "value",
            Self::EmptyRule => "empty_rule",
            Self::NoRules => "no_rules",
            Self::DuplicateRule => "duplicate_rule",
            Self::TrustIndex => "trust_index",
            Self::UnknownAnchorSet => "unknown_anchor_set",
            Self::ChainUnavailable => "chain_unavailable",
            Self::AnchorSet => "anchor_set",
            Self::File => "file",
            Self::EmptyList => "empty_list",
            Self::OutOfRange => "out_of_range",
            Self::FormatCannot => "format_cannot",
            Self::ProxyFieldsCannot => "proxy_fields_cannot",
            Self::NothingSet => "nothing_set",
            Self::EmptyValue => "empty_value",
            Self::UnknownVariable => "unknown_variable",
            Self::NamesOnly => "names_only_rule",
        }
    }
}

/// The fixes for a names-only rule: a chain where the identity comes from
/// the certificate (proxy fields carry none), a pin, or the operator's word
/// that the proxy verifies.
fn names_only_fix(proxy_fields: &bool) -> &'static str {
    if *proxy_fields {
        "pin the certificate (`thumbprint`, or ALLOWED_CERT_THUMBPRINTS); or, only if the proxy verifies every client certificate against your CA, set proxy_verifies_chain = true (XFCC_PROXY_VERIFIES_CHAIN=true)"
    } else {
        "verify a chain to your CA (`chain` with [chain.<set>] trust_anchors, or XFCC_CHAIN_ANCHORS=<CA PEM file>) or pin the certificate (`thumbprint`, or ALLOWED_CERT_THUMBPRINTS); or, only if the proxy verifies every client certificate against your CA, set proxy_verifies_chain = true (XFCC_PROXY_VERIFIES_CHAIN=true)"
    }
}

impl std::fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The message, kind and setting; the variant's fields are the
        // message's.
        write!(
            f,
            "{self} [kind: {}; setting: {}]",
            self.kind().code(),
            self.setting()
        )
    }
}

impl ConfigError {
    /// A value refused for `key`: the value as given, and what a valid one
    /// looks like.
    pub(crate) fn value(
        key: &'static str,
        value: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        Repr::Value {
            key,
            value: value.into(),
            expected: expected.into(),
        }
        .into()
    }

    /// What it holds.
    pub(crate) fn repr(&self) -> &Repr {
        &self.0
    }

    /// The error inside a rule's wrapper, or the error itself.
    pub(crate) fn into_inner_rule(self) -> Result<Self, Self> {
        match *self.0 {
            Repr::Rule { error, .. } => Ok(error),
            other => Err(Self(Box::new(other))),
        }
    }

    /// What kind of error it is, looking through the rule or environment
    /// variable it is in to the error inside.
    pub fn kind(&self) -> ConfigErrorKind {
        match &*self.0 {
            Repr::Rule { error, .. } | Repr::Proxy { error, .. } | Repr::Env { error, .. } => {
                error.kind()
            }
            other => other.kind(),
        }
    }

    /// The setting at fault, as the policy file names it (`thumbprint`,
    /// `[elements] trust`, `[chain.<set>]`, ...), looking through the rule
    /// it is in to the rule's own key; for an environment variable's
    /// error, the variable (`XFCC_TRUSTED_PEERS`).
    pub fn setting(&self) -> std::borrow::Cow<'_, str> {
        self.0.setting()
    }

    /// The name (or index) of the `[[allow]]` rule the error is in, if it
    /// is in one.
    pub fn rule(&self) -> Option<&str> {
        match &*self.0 {
            Repr::Rule { rule, .. } => Some(rule),
            Repr::Env { error, .. } => error.rule(),
            _ => None,
        }
    }

    /// The environment variable at fault, for an error of a policy read
    /// from the environment (`XFCC_TRUSTED_PEERS`; for a policy file named
    /// by `XFCC_POLICY_FILE`, that variable).
    pub fn variable(&self) -> Option<&str> {
        match &*self.0 {
            Repr::Env { var, .. } => Some(var),
            _ => None,
        }
    }

    /// The error inside, for one that is about a rule or an environment
    /// variable: what is wrong with the rule or the variable's value.
    pub fn inner(&self) -> Option<&Self> {
        match &*self.0 {
            Repr::Rule { error, .. } | Repr::Proxy { error, .. } | Repr::Env { error, .. } => {
                Some(error)
            }
            _ => None,
        }
    }
}

impl Repr {
    fn kind(&self) -> ConfigErrorKind {
        use ConfigErrorKind as K;
        match self {
            Self::Thumbprint(_) => K::Thumbprint,
            Self::Value { .. } => K::Value,
            Self::EmptyRule => K::EmptyRule,
            Self::NoRules => K::NoRules,
            Self::Rule { error, .. } | Self::Proxy { error, .. } | Self::Env { error, .. } => {
                error.kind()
            }
            Self::DuplicateRule(_) => K::DuplicateRule,
            Self::TrustIndex { .. } => K::TrustIndex,
            Self::UnknownAnchorSet(_) => K::UnknownAnchorSet,
            Self::ChainUnavailable => K::ChainUnavailable,
            Self::AnchorSet { .. } => K::AnchorSet,
            Self::File(_) | Self::Read(_) => K::File,
            Self::EmptyList { .. } => K::EmptyList,
            Self::OutOfRange { .. } => K::OutOfRange,
            Self::FormatCannot { .. } => K::FormatCannot,
            Self::ProxyFieldsCannot { .. } => K::ProxyFieldsCannot,
            Self::NothingSet => K::NothingSet,
            Self::EmptyValue { .. } => K::EmptyValue,
            Self::UnknownVariable { .. } => K::UnknownVariable,
            Self::NamesOnly { .. } => K::NamesOnly,
        }
    }

    fn setting(&self) -> std::borrow::Cow<'_, str> {
        use std::borrow::Cow;
        match self {
            Self::Thumbprint(_) => Cow::Borrowed("thumbprint"),
            Self::Value { key, .. }
            | Self::EmptyList { key }
            | Self::EmptyValue { key }
            | Self::OutOfRange { key, .. }
            | Self::FormatCannot { key, .. }
            | Self::ProxyFieldsCannot { key, .. }
            | Self::NamesOnly { key, .. } => Cow::Borrowed(key),
            Self::EmptyRule | Self::NoRules | Self::DuplicateRule(_) => Cow::Borrowed("[[allow]]"),
            Self::Rule { error, .. } => error.setting(),
            Self::Proxy { error, .. } => match error.setting() {
                std::borrow::Cow::Borrowed("[[allow]]") => Cow::Borrowed("[[trusted_proxies]]"),
                key => Cow::Owned(format!("[[trusted_proxies]] {key}")),
            },
            Self::TrustIndex { .. } => Cow::Borrowed("[elements] trust"),
            Self::UnknownAnchorSet(_) | Self::ChainUnavailable => Cow::Borrowed("chain"),
            Self::AnchorSet { set, .. } => Cow::Owned(format!("[chain.{set}]")),
            Self::File(_) | Self::NothingSet => Cow::Borrowed("XFCC_POLICY_FILE"),
            Self::Read(_) => Cow::Borrowed("file"),
            Self::UnknownVariable { closest } => Cow::Borrowed(closest),
            Self::Env { var, .. } => Cow::Borrowed(var),
        }
    }
}
