//! What a rule reads: a decoded certificate, or the fields a proxy wrote
//! in its place.

use std::net::IpAddr;

use crate::cert::CertIdentity;
use crate::dn::DistinguishedName;

/// What a rule reads: a decoded certificate, or the fields a proxy wrote
/// in its place ([`ProxyFields`](crate::outcome::ProxyFields)). What the fields do
/// not carry is absent, and a constraint on it fails.
pub(crate) trait Facts {
    fn issuer_name(&self) -> Option<&DistinguishedName>;
    fn subject_name(&self) -> Option<&DistinguishedName>;
    /// Whether `cn` is a common name of the issuer (`issuer`) or the
    /// subject: what `issuer_cn` and `subject_cn` ask, which a certificate
    /// answers without building the name.
    fn has_cn(&self, issuer: bool, cn: &str) -> bool {
        let name = if issuer {
            self.issuer_name()
        } else {
            self.subject_name()
        };
        name.is_some_and(|n| n.common_names().any(|x| x == cn))
    }
    fn san_dns(&self) -> &[String];
    fn san_uri(&self) -> &[String];
    fn san_email(&self) -> &[String];
    fn san_ip(&self) -> &[IpAddr];
    fn spiffe_id(&self) -> Option<&str>;
    fn sha256(&self) -> &[u8; 32];
    fn sha1(&self) -> Option<&[u8; 20]>;
    /// SHA-256 of the SubjectPublicKeyInfo (none in proxy fields).
    fn spki_sha256(&self) -> Option<[u8; 32]>;
    /// The certificate, for its extensions (none in proxy fields).
    fn certificate(&self) -> Option<&CertIdentity>;
}

impl Facts for CertIdentity {
    fn issuer_name(&self) -> Option<&DistinguishedName> {
        Some(Self::issuer_name(self))
    }
    fn subject_name(&self) -> Option<&DistinguishedName> {
        Some(Self::subject_name(self))
    }
    fn has_cn(&self, issuer: bool, cn: &str) -> bool {
        self.any_cn(issuer, |x| x == cn)
    }
    fn san_dns(&self) -> &[String] {
        self.san().dns()
    }
    fn san_uri(&self) -> &[String] {
        self.san().uri()
    }
    fn san_email(&self) -> &[String] {
        self.san().email()
    }
    fn san_ip(&self) -> &[IpAddr] {
        self.san().ip()
    }
    fn spiffe_id(&self) -> Option<&str> {
        Self::spiffe_id(self)
    }
    fn sha256(&self) -> &[u8; 32] {
        Self::sha256(self)
    }
    fn sha1(&self) -> Option<&[u8; 20]> {
        Some(Self::sha1(self))
    }
    fn spki_sha256(&self) -> Option<[u8; 32]> {
        Some(Self::spki_sha256(self))
    }
    fn certificate(&self) -> Option<&CertIdentity> {
        Some(self)
    }
}

impl Facts for crate::outcome::ProxyFields {
    /// The proxy's `Issuer`, when it is unambiguous (see
    /// `ProxyFields::issuer_name`).
    fn issuer_name(&self) -> Option<&DistinguishedName> {
        Self::issuer_name(self)
    }
    fn subject_name(&self) -> Option<&DistinguishedName> {
        Self::subject_name(self)
    }
    /// Only the single `DNS` of an element without `URI` (see
    /// `ProxyFields::unambiguous_dns`).
    fn san_dns(&self) -> &[String] {
        self.unambiguous_dns()
    }
    /// Only a single `URI` in the text form: Envoy writes URI SANs
    /// unescaped there, so a SAN holding `;URI=` reads as two, and one is
    /// the only reading that cannot have been smuggled. Every `uri` of the
    /// JSON form.
    fn san_uri(&self) -> &[String] {
        match self.uri() {
            all if self.is_json() => all,
            one @ [_] => one,
            _ => &[],
        }
    }
    fn san_email(&self) -> &[String] {
        &[]
    }
    fn san_ip(&self) -> &[IpAddr] {
        &[]
    }
    fn spiffe_id(&self) -> Option<&str> {
        Self::spiffe_id(self)
    }
    fn sha256(&self) -> &[u8; 32] {
        Self::sha256(self)
    }
    fn sha1(&self) -> Option<&[u8; 20]> {
        None
    }
    fn spki_sha256(&self) -> Option<[u8; 32]> {
        None
    }
    fn certificate(&self) -> Option<&CertIdentity> {
        None
    }
}
