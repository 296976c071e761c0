//! [`Warning`]: a setting that weakens a policy, with a stable code and a
//! fix that is valid in the policy's mode.

use core::fmt;

/// What kind of weakness a [`Warning`] reports. Each has a stable
/// [`code`](Self::code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WarningKind {
    /// A rule that pins no thumbprint and requires no chain: a self-signed
    /// certificate with those names passes it.
    NamesOnlyRule,
    /// `mode = "accept"`: requests without the header reach handlers.
    AcceptMode,
    /// `mode = "report"`: nothing is refused (a rollout step).
    ReportMode,
    /// `[elements] count` other than exactly 1 without `by`.
    ElementsWithoutBy,
    /// `identity_from = "proxy-fields"` without `trusted_peers`.
    ProxyFieldsWithoutPeers,
    /// `leeway_seconds` over five minutes.
    LongLeeway,
    /// A `chain` rule under a format that forwards the leaf alone.
    LeafOnlyChain,
    /// `syntax = lenient`.
    LenientSyntax,
    /// `[chain.<set>] require_client_auth = false`.
    ClientAuthNotRequired,
    /// CRLs past their `nextUpdate` used anyway.
    StaleCrlsUsed,
}

impl WarningKind {
    /// The stable code, e.g. `"names_only_rule"`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::NamesOnlyRule => "names_only_rule",
            Self::AcceptMode => "accept_mode",
            Self::ReportMode => "report_mode",
            Self::ElementsWithoutBy => "elements_without_by",
            Self::ProxyFieldsWithoutPeers => "proxy_fields_without_peers",
            Self::LongLeeway => "long_leeway",
            Self::LeafOnlyChain => "leaf_only_chain",
            Self::LenientSyntax => "lenient_syntax",
            Self::ClientAuthNotRequired => "client_auth_not_required",
            Self::StaleCrlsUsed => "stale_crls_used",
        }
    }
}

/// A setting that weakens the policy ([`Policy::warnings`](crate::Policy::warnings)):
/// its kind, a message naming the setting (its policy-file key), and the
/// fix. Displays as the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    kind: WarningKind,
    message: String,
    fix: String,
}

impl Warning {
    pub(crate) fn new(
        kind: WarningKind,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// The kind.
    pub const fn kind(&self) -> WarningKind {
        self.kind
    }

    /// The stable code of the kind, e.g. `"names_only_rule"`.
    pub const fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// What is weak, naming the setting.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The change that removes the weakness, valid in the policy's mode.
    pub fn fix(&self) -> &str {
        &self.fix
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
