//! A reading: how a policy reads one proxy's header (its addresses,
//! header, format and elements), checked when the policy is built.

use std::fmt;
use std::sync::Arc;

use super::cache::Cache;
use super::proxies::{Proxies, TrustedProxy};
use crate::format::Format;
use crate::outcome::ConfigErrorRepr as Repr;
use crate::outcome::{ConfigError, IdentityFrom, Warning, WarningKind};
use crate::rules::CompiledRule;

#[cfg(doc)]
use super::Policy;

/// How many elements (proxy hops) the header must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ElementCount {
    /// Exactly this many; anything else is rejected. Default: exactly 1,
    /// what an edge proxy in `SANITIZE_SET` mode sends.
    Exactly(usize),
    /// Any number (up to the parser's limit).
    Any,
}

/// How a policy reads one proxy's header: the proxy's addresses, the
/// header it writes, its format and its elements.
///
/// A policy reads the header through one reading, or through one per
/// `[[sources]]` entry, chosen by the request's TCP peer; the rules, anchor
/// sets, validity and mode are the policy's, whichever reading a request
/// comes through. Read them with [`Policy::readings`].
pub struct Reading {
    /// The `[[sources]]` name; `None` for a policy's only reading.
    pub(crate) source: Option<Arc<str>>,
    pub(crate) format: Format,
    pub(crate) header_name: String,
    pub(crate) count: ElementCount,
    pub(crate) trust: i64,
    pub(crate) by: Option<String>,
    pub(crate) identity_from: IdentityFrom,
    pub(crate) trusted_peers: Option<Vec<ipnet::IpNet>>,
    /// `[[trusted_proxies]]`: the certificates its proxies present.
    pub(crate) proxies: Option<Proxies>,
    /// Its own cache: a header allowed under one proxy's element settings
    /// says nothing under another's.
    pub(crate) cache: Option<Cache>,
}

impl Reading {
    /// Judges one proxy's settings, and the rules in its light.
    #[expect(
        clippy::too_many_arguments,
        reason = "one proxy's settings, judged together"
    )]
    pub(crate) fn check(
        format: Format,
        header_name: Option<String>,
        count: Option<ElementCount>,
        trust: Option<i64>,
        by: Option<String>,
        identity_from: IdentityFrom,
        trusted_peers: Option<Vec<String>>,
        proxies: Vec<TrustedProxy>,
        by_is_proxy: Option<bool>,
        rules: &[CompiledRule],
    ) -> Result<Self, ConfigError> {
        let header_name = match header_name {
            Some(name) => checked_header_name(name)?,
            None => format.header_name().to_owned(),
        };
        if format != Format::Envoy {
            let cannot = |key, why| {
                ConfigError::from(Repr::FormatCannot {
                    key,
                    format: format.code(),
                    why,
                })
            };
            if by.is_some() {
                return Err(cannot("by", "it carries no By field"));
            }
            if count.is_some() {
                return Err(cannot("count", "it carries one certificate, not elements"));
            }
            if trust.is_some() {
                return Err(cannot("trust", "it carries one certificate, not elements"));
            }
            if identity_from == IdentityFrom::ProxyFields {
                return Err(cannot("identity_from", "it carries no proxy fields"));
            }
            if by_is_proxy.is_some() {
                return Err(cannot("by_is_proxy", "it carries no By field"));
            }
        }
        if by_is_proxy.is_some() && proxies.is_empty() {
            return Err(ConfigError::value(
                "by_is_proxy",
                by_is_proxy.unwrap_or_default().to_string(),
                "nothing without [[trusted_proxies]]: it compares the trusted element's By with the certificate the proxy presented, which only a policy that names its proxies by certificate reads",
            ));
        }
        if identity_from == IdentityFrom::ProxyFields
            && trusted_peers.is_none()
            && by.is_none()
            && proxies.is_empty()
        {
            return Err(ConfigError::from(Repr::ProxyFieldsCannot {
                key: "identity_from",
                why: "set trusted_peers, [[trusted_proxies]] or [elements] by (in the environment XFCC_TRUSTED_PEERS, XFCC_TRUSTED_PROXY_SPKI or XFCC_TRUSTED_BY) as well: the fields are only as trustworthy as the proxy that wrote them",
            }));
        }
        let by_is_proxy = by_is_proxy.unwrap_or(format == Format::Envoy);
        let proxies = Proxies::check(proxies, by_is_proxy)?;
        let count = count.unwrap_or(ElementCount::Exactly(1));
        // Envoy writes URI and DNS values unescaped: a client's SAN holding
        // `,By=...;Hash=...` splits its element in two, and the second half
        // is the client's forgery. Only `by` (refused when repeated, per
        // request) tells the proxy's element from it when the number of
        // elements may vary; in cert mode the certificate in the split
        // element disagrees with its truncated fields, here nothing would.
        if identity_from == IdentityFrom::ProxyFields
            && count != ElementCount::Exactly(1)
            && by.is_none()
        {
            return Err(ConfigError::from(Repr::ProxyFieldsCannot {
                key: "by",
                why: "[elements] count is not exactly 1, so set [elements] by (XFCC_TRUSTED_BY) to the URI SAN of the proxy that writes the trusted element: a client certificate whose URI SAN holds `,` can add an element of its own, and only the proxy's By (which may then appear in one element only) tells them apart",
            }));
        }
        let trusted_peers = trusted_peers.map(parse_peers).transpose()?;
        let trust = trust.unwrap_or(0);
        if let ElementCount::Exactly(n) = count {
            let ok = n >= 1
                && ((trust >= 0 && trust.unsigned_abs() < n as u64)
                    || (trust < 0 && trust.unsigned_abs() <= n as u64));
            if !ok {
                return Err(ConfigError::from(Repr::TrustIndex { trust, count: n }));
            }
        }
        if identity_from == IdentityFrom::ProxyFields {
            for compiled in rules {
                if let Some(&key) = compiled.needs_certificate().first() {
                    return Err(ConfigError::from(Repr::Rule {
                        rule: compiled.label.to_string(),
                        error: ConfigError::from(Repr::ProxyFieldsCannot {
                            key,
                            why: "it needs the certificate itself, which the proxy does not forward (the fields carry only Hash, Subject, Issuer, URI and DNS; the configuration reference marks each constraint refused here)",
                        }),
                    }));
                }
            }
        }
        Ok(Self {
            source: None,
            cache: None,
            format,
            header_name,
            count,
            trust,
            by,
            identity_from,
            trusted_peers,
            proxies,
        })
    }
}

impl Reading {
    /// The `[[sources]]` name of this reading; `None` for the only reading
    /// of a policy without sources.
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// The format the proxy writes.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The (lower-case) header the proxy writes the certificate in.
    pub fn header_name(&self) -> &str {
        &self.header_name
    }

    /// The (lower-case) headers this reading reads: [`header_name`](Self::header_name)
    /// and, for a format with one, its chain header (`client-cert-chain`).
    pub fn header_names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.header_name.as_str()).chain(self.format.chain_header_name())
    }

    /// `[elements] count`: how many elements a header must have.
    pub fn element_count(&self) -> ElementCount {
        self.count
    }

    /// `[elements] trust`: the index of the trusted element (negative from
    /// the end).
    pub fn trusted_element(&self) -> i64 {
        self.trust
    }

    /// `[elements] by`: the proxy the trusted element must name, if set.
    pub fn trusted_proxy(&self) -> Option<&str> {
        self.by.as_deref()
    }

    /// `[elements] identity_from`: where the identity is read from.
    pub fn identity_from(&self) -> IdentityFrom {
        self.identity_from
    }

    /// Whether only listed peers may send this proxy's header
    /// (`trusted_peers`; always for a source).
    pub fn has_trusted_peers(&self) -> bool {
        self.trusted_peers.is_some()
    }

    /// Whether only connections presenting a certificate that a
    /// `[[trusted_proxies]]` entry matches may send this proxy's header.
    pub fn has_trusted_proxies(&self) -> bool {
        self.proxies.is_some()
    }

    /// The names of the `[[trusted_proxies]]` entries, in order.
    pub fn trusted_proxy_names(&self) -> impl Iterator<Item = &str> {
        self.proxies
            .iter()
            .flat_map(|p| p.rules.iter().map(|r| &*r.label))
    }

    /// `[elements] by_is_proxy`: whether the trusted element's `By` must be
    /// one of the URI SANs of the certificate the proxy presented (the
    /// default with `[[trusted_proxies]]` and the Envoy format).
    pub fn by_is_proxy(&self) -> bool {
        self.proxies.as_ref().is_some_and(|p| p.by_is_proxy)
    }

    /// Whether `ip` (canonical) is one of this reading's trusted peers;
    /// `None` when it lists none.
    pub(crate) fn trusts(&self, ip: std::net::IpAddr) -> Option<bool> {
        self.trusted_peers
            .as_ref()
            .map(|nets| nets.iter().any(|n| n.contains(&ip)))
    }

    /// The warnings about this reading alone (elements not tied to their
    /// proxy, proxy fields from anyone, a chain from a leaf-only format),
    /// each prefixed with the source's name when it is one.
    pub(crate) fn warnings(&self, rules: &[CompiledRule]) -> Vec<Warning> {
        let mut out = Vec::new();
        // With trusted_peers and trust = -1 the trusted element is the one
        // the nearest proxy (the only peer allowed) appended: tied to it.
        let pinned_last = (self.trusted_peers.is_some() && self.trust == -1)
            || self.proxies.as_ref().is_some_and(|p| p.by_is_proxy);
        if self.count != ElementCount::Exactly(1)
            && self.by.is_none()
            && !pinned_last
            && self.format == Format::Envoy
        {
            out.push(Warning::new(
                WarningKind::ElementsWithoutBy,
                format!(
                    "[elements] count is not exactly 1 and `by` is not set: element {} is not tied to the proxy that wrote it, and a client can send it",
                    self.trust
                ),
                if self.trusted_peers.is_some() {
                    "[elements] by = \"<the URI SAN of the proxy that writes the trusted element>\", or trust = -1 (the element the nearest proxy, your trusted peer, appended)"
                } else {
                    "[elements] by = \"<the URI SAN of the proxy that writes the trusted element>\", or trusted_peers = [\"<the proxy's address>\"] with trust = -1"
                },
            ));
        }
        if self.identity_from == IdentityFrom::ProxyFields
            && self.trusted_peers.is_none()
            && self.proxies.is_none()
        {
            out.push(Warning::new(
                WarningKind::ProxyFieldsWithoutPeers,
                "identity_from = \"proxy-fields\" without trusted_peers: `by` names the proxy that wrote an element, but a request that reaches the service around it writes the By too; set trusted_peers (or make sure nothing else can connect)",
                "trusted_peers = [\"<the proxy's address>/32\"]",
            ));
        }
        if !self.format.carries_chain() {
            for r in rules.iter().filter(|r| r.chain.is_some()) {
                out.push(Warning::new(
                    WarningKind::LeafOnlyChain,
                    format!(
                        "rule {:?}: the {} format forwards the leaf alone, so its chain verifies only leaves issued directly by a trust anchor (put the issuing CA in trust_anchors)",
                        r.label,
                        self.format.code()
                    ),
                    "put the CA that issues the client certificates in trust_anchors",
                ));
            }
        }
        match &self.source {
            None => out,
            Some(name) => out
                .into_iter()
                .map(|w| {
                    Warning::new(
                        w.kind(),
                        format!("[[sources]] {:?}: {}", &**name, w.message()),
                        format!("in [[sources]] {:?}: {}", &**name, w.fix()),
                    )
                })
                .collect(),
        }
    }
}

impl fmt::Debug for Reading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reading")
            .field("source", &self.source)
            .field("format", &self.format)
            .field("header_name", &self.header_name)
            .field("count", &self.count)
            .field("trust", &self.trust)
            .field("by", &self.by)
            .field("identity_from", &self.identity_from)
            .field("trusted_peers", &self.trusted_peers.is_some())
            .field("trusted_proxies", &self.proxies.is_some())
            .field("trusted_proxies", &self.proxies.is_some())
            .field("cache", &self.cache.is_some())
            .finish()
    }
}

/// `trusted_peers`: CIDR blocks or single addresses; an empty list or a
/// value that is neither is refused, naming it. Entries are kept in the
/// form peers are compared in: an IPv4-mapped block (`::ffff:10.0.0.0/104`)
/// becomes its IPv4 block (`10.0.0.0/8`), as a peer `::ffff:10.1.2.3`
/// becomes `10.1.2.3`. A block that holds every IPv4 or every IPv6 address
/// (`0.0.0.0/0`, `::/0`, `::ffff:0:0/96`) trusts anyone who can connect,
/// which is no restriction at all, and is refused.
pub(crate) fn parse_peers(list: Vec<String>) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    if list.is_empty() {
        return Err(ConfigError::from(Repr::EmptyList {
            key: "trusted_peers",
        }));
    }
    list.into_iter()
        .map(|text| {
            let t = text.trim();
            let net = t
                .parse::<ipnet::IpNet>()
                .or_else(|_| t.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(|net| canonical_net(net.trunc()))
                .map_err(|_| {
                    ConfigError::value(
                        "trusted_peers",
                        text.clone(),
                        "a CIDR block such as 10.0.0.0/8 or fd00::/8, or one address",
                    )
                })?;
            if net.prefix_len() == 0 {
                return Err(ConfigError::value(
                    "trusted_peers",
                    text,
                    "it holds every address, which restricts nothing: list your proxy's addresses, or leave trusted_peers out",
                ));
            }
            Ok(net)
        })
        .collect()
}

/// An IPv4-mapped IPv6 block (`::ffff:a.b.c.d/n`, n >= 96) as the IPv4
/// block it maps; any other block as it is.
fn canonical_net(net: ipnet::IpNet) -> ipnet::IpNet {
    match net {
        ipnet::IpNet::V6(v6) if v6.prefix_len() >= 96 => v6
            .network()
            .to_ipv4_mapped()
            .and_then(|v4| ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).ok())
            .map_or(net, ipnet::IpNet::V4),
        _ => net,
    }
}

/// Whether `name` is an HTTP field name (RFC 9110 5.1: a token).
pub(crate) fn is_field_name(name: &str) -> bool {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    !name.is_empty() && name.bytes().all(tchar)
}

/// A valid HTTP field name, lower-cased.
pub(crate) fn checked_header_name(name: String) -> Result<String, ConfigError> {
    if !is_field_name(&name) {
        return Err(ConfigError::value(
            "header_name",
            name,
            "an HTTP field name: letters, digits and !#$%&'*+-.^_`|~ only, such as x-client-cert (no colon, no spaces)",
        ));
    }
    Ok(name.to_ascii_lowercase())
}
