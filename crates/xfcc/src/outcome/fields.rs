//! Identities read from the proxy's fields instead of a certificate:
//! `[elements] identity_from = "proxy-fields"` (Istio sidecars forward
//! `By;Hash;Subject;URI;DNS` without `Cert` by default; Contour and Consul
//! can drop it for size).

use core::fmt;

use super::Rejection;
use crate::dn::DistinguishedName;

use crate::parse::{Element, Key};

/// Where a policy reads the client's identity from (policy file
/// `[elements] identity_from`, environment `XFCC_IDENTITY_FROM`), and,
/// on a [`ClientCert`](crate::ClientCert), where it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum IdentityFrom {
    /// `"cert"`, the default: the forwarded certificate (`Cert`, or the
    /// first certificate of `Chain`), decoded and checked against every
    /// field the proxy sent with it. An element without one is rejected.
    #[default]
    Cert,
    /// `"proxy-fields"`: an element without `Cert` and `Chain` is verified
    /// from the proxy's `Hash` (SHA-256 pins), `Subject`, `URI` and `DNS`,
    /// which only the proxy vouches for. An element with a certificate is
    /// still verified from the certificate, as with [`Cert`](Self::Cert).
    ///
    /// The policy must also set `trusted_peers` or `by` (the fields are
    /// only as trustworthy as the proxy that wrote them), `by` whenever
    /// `[elements] count` is not exactly 1 (Envoy writes `URI` and `DNS`
    /// unescaped, so a client's SAN can add an element of its own, and
    /// only the proxy's `By`, refused when it appears in two elements,
    /// tells them apart), and no rule may
    /// need the certificate itself (`chain`, and each constraint the
    /// configuration reference, [`settings`](crate::config::settings), marks as
    /// refused in proxy-fields mode, such as a SHA-1 thumbprint or
    /// `spki_sha256`): [`build`](crate::PolicyBuilder::build) refuses such a
    /// policy, naming the setting. `issuer` and `issuer_cn` read the
    /// proxy's `Issuer` (Envoy 1.38+, `issuer: true`); in the text form
    /// only when no non-empty `URI` or `DNS` comes before it (Envoy writes
    /// those unescaped, and `Issuer` last, so one after them may have come
    /// from inside a SAN), in the JSON form always. There is no validity
    /// period to check: the proxy must have checked it.
    ProxyFields,
}

impl IdentityFrom {
    /// The policy-file spelling: `"cert"` or `"proxy-fields"`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Cert => "cert",
            Self::ProxyFields => "proxy-fields",
        }
    }

    /// Reads the policy-file spelling.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "cert" => Some(Self::Cert),
            "proxy-fields" => Some(Self::ProxyFields),
            _ => None,
        }
    }
}

impl fmt::Display for IdentityFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Where Envoy writes a key in an element (`None` for keys it never
/// writes, which only lenient syntax lets through).
const fn envoy_rank(key: Key) -> Option<u8> {
    Some(match key {
        Key::By => 0,
        Key::Hash => 1,
        Key::Cert => 2,
        Key::Chain => 3,
        Key::Subject => 4,
        Key::Uri => 5,
        Key::Dns => 6,
        Key::Issuer => 7,
        _ => return None,
    })
}

/// A client identity as the proxy described it, without a certificate:
/// the SHA-256 of the certificate the proxy verified (`Hash`), its subject
/// (`Subject`), its URI and DNS SANs (`URI`, `DNS`) and its issuer
/// (`Issuer`), each only when the proxy forwarded it. Nothing here was
/// checked against a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyFields {
    sha256: [u8; 32],
    subject: Option<DistinguishedName>,
    issuer: Option<DistinguishedName>,
    uri: Vec<String>,
    dns: Vec<String>,
    /// Read from the JSON form, where every value is exactly the proxy's.
    json: bool,
}

impl ProxyFields {
    /// Reads the fields of an element that carries no certificate. `Hash`
    /// must be a SHA-256 (64 hex digits); `Subject`, when present, must
    /// parse as Envoy writes it; Envoy's empty `URI=` means no URI SAN.
    pub(crate) fn read(element: &Element<'_>) -> Result<Self, Rejection> {
        let index = element.index();
        // One pass over the pairs. Envoy writes an element's pairs in one
        // order: `By*`, `Hash`, `Cert`, `Chain`, `Subject`, `URI*`, `DNS*`.
        // A pair out of that order came from inside an unescaped `URI` or
        // `DNS` value (a SAN holding `;Hash=`, `;By=` or `;URI=`), never
        // from the proxy. URI and DNS SANs are IA5Strings without spaces or
        // controls, which the proxy copies as they are: anything else in
        // them is refused rather than shown to a terminal or a log.
        // The JSON form escapes every value, so nothing in it was smuggled
        // and its order says nothing.
        let json = element.is_json();
        let mut last = 0;
        let mut unprintable = false;
        // Whether a non-empty `URI` or `DNS` came before `Issuer`: then the
        // `Issuer` of the text form may be a SAN's text.
        let mut san_before_issuer = false;
        let mut issuer_ambiguous = false;
        let (mut uri, mut dns) = (Vec::new(), Vec::new());
        for pair in element.pairs() {
            let Some(rank) = envoy_rank(pair.key()) else {
                continue;
            };
            if pair.key() == Key::Issuer {
                issuer_ambiguous = !json && san_before_issuer;
            }
            if rank < last && !json {
                return Err(Rejection::new(
                    super::Reason::Malformed,
                    super::Detail::Fields(super::FieldsProblem::FieldsOutOfOrder),
                )
                .at_element(index));
            }
            last = rank;
            let list = match pair.key() {
                Key::Uri => &mut uri,
                Key::Dns => &mut dns,
                _ => continue,
            };
            let v = pair.value().text();
            unprintable |= !v.bytes().all(|b| b.is_ascii_graphic());
            san_before_issuer |= !v.is_empty();
            // Envoy's empty `URI=` means no URI SAN.
            if !v.is_empty() || pair.key() == Key::Dns {
                list.push(v.into_owned());
            }
        }
        // Without `Hash` the element names nobody: refused as a certificate
        // that is not there, saying which field is missing.
        let hash = element.hash().ok_or_else(|| {
            Rejection::new(
                super::Reason::BadCertificate,
                super::Detail::Fields(super::FieldsProblem::NoHash),
            )
            .at_element(index)
        })?;
        let sha256 = crate::hex::decode::<32>(&hash.text()).ok_or_else(|| {
            Rejection::new(
                super::Reason::Malformed,
                super::Detail::Fields(super::FieldsProblem::HashNotSha256),
            )
            .at_element(index)
        })?;
        let name = |v: Option<crate::parse::Value<'_>>| {
            v.map(|s| DistinguishedName::parse_envoy_subject(&s.text()))
                .transpose()
                .map_err(|_| {
                    Rejection::new(
                        super::Reason::Malformed,
                        super::Detail::Fields(super::FieldsProblem::BadSubject),
                    )
                    .at_element(index)
                })
        };
        let subject = name(element.subject())?;
        // An `Issuer` that may be a SAN's text is not read: an issuer rule
        // then fails, as it does when the proxy forwards none.
        let issuer = if issuer_ambiguous {
            None
        } else {
            name(element.issuer())?
        };
        if unprintable {
            return Err(Rejection::new(
                super::Reason::Malformed,
                super::Detail::Fields(super::FieldsProblem::UnprintableField),
            )
            .at_element(index));
        }
        Ok(Self {
            sha256,
            subject,
            issuer,
            uri,
            dns,
            json,
        })
    }

    /// SHA-256 of the certificate, as the proxy computed it (`Hash`).
    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    /// [`sha256`](Self::sha256) as 64 uppercase hex digits.
    pub fn sha256_hex(&self) -> String {
        crate::hex::upper(&self.sha256)
    }

    /// The subject the proxy forwarded (`Subject`), parsed.
    pub fn subject_name(&self) -> Option<&DistinguishedName> {
        self.subject.as_ref()
    }

    /// The issuer the proxy forwarded (`Issuer`), parsed; `None` when it
    /// forwarded none, or when, in the text form, it came after a
    /// non-empty `URI` or `DNS` (it may then be a SAN's text).
    pub fn issuer_name(&self) -> Option<&DistinguishedName> {
        self.issuer.as_ref()
    }

    /// Whether the fields were read from Envoy's JSON form, where every
    /// value is exactly the proxy's (the text form writes `URI` and `DNS`
    /// unescaped).
    pub const fn is_json(&self) -> bool {
        self.json
    }

    /// The subject's common names, most significant first.
    pub fn subject_cns(&self) -> impl Iterator<Item = &str> {
        self.subject
            .iter()
            .flat_map(DistinguishedName::common_names)
    }

    /// The URI SANs the proxy forwarded (`URI`), in header order.
    pub fn uri(&self) -> &[String] {
        &self.uri
    }

    /// The DNS SANs the proxy forwarded (`DNS`), in header order.
    pub fn dns(&self) -> &[String] {
        &self.dns
    }

    /// The DNS names a rule may match: the single `DNS` of an element
    /// with no (non-empty) `URI`, else none. Envoy writes `URI` and `DNS`
    /// unescaped, so `DNS=a;DNS=b` may be one SAN `a;DNS=b`, and a `DNS`
    /// after a `URI` may have come from inside the URI SAN.
    pub(crate) fn unambiguous_dns(&self) -> &[String] {
        if self.json {
            return &self.dns;
        }
        match (self.uri.as_slice(), self.dns.as_slice()) {
            ([], one @ [_]) => one,
            _ => &[],
        }
    }

    /// The SPIFFE ID: the single `URI`, when it is a valid SPIFFE ID.
    /// `None` with zero or several (Envoy writes URI SANs unescaped, so a
    /// SAN holding `;URI=` reads as two: one URI is the only reading that
    /// cannot have been smuggled).
    pub fn spiffe_id(&self) -> Option<&str> {
        match self.uri.as_slice() {
            [one] if crate::spiffe::parse_id(one).is_ok() => Some(one),
            _ => None,
        }
    }
}
