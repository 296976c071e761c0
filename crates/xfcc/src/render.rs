//! Rendering headers as each proxy sends them (feature `render`): for
//! tests, the CLI's `xfcc header` and `xfcc probe`, and fixtures. Not on the
//! request path.

use crate::cert::CertIdentity;
use crate::format::Format;

impl Format {
    /// Renders the header value this format's proxy would send for `leaf`
    /// and `chain` (intermediates, leaf excluded). For Envoy, all fields are
    /// rendered ([`EnvoyFields::ALL`]); use [`render_envoy`] to choose.
    pub fn render(self, leaf: &CertIdentity, chain: &[CertIdentity]) -> String {
        let all = || core::iter::once(leaf).chain(chain);
        match self {
            Self::Envoy => render_envoy(&[], leaf, chain, EnvoyFields::ALL),
            Self::Rfc9440 => format!(":{}:", base64_simd::STANDARD.encode_to_string(leaf.der())),
            Self::Nginx => envoy_url_encode(&pem(leaf.der())),
            Self::Traefik => all()
                .map(|c| base64_simd::STANDARD.encode_to_string(c.der()))
                .collect::<Vec<_>>()
                .join(","),
            Self::AwsAlb => all()
                .map(|c| pem(c.der()).replace('\n', "%0A").replace(' ', "%20"))
                .collect(),
            Self::AppService | Self::Gorouter | Self::Haproxy | Self::Caddy => {
                base64_simd::STANDARD.encode_to_string(leaf.der())
            }
        }
    }
}

/// Which details an Envoy element carries, as Envoy's
/// `set_current_client_cert_details` chooses them. `Hash` is always there in
/// real Envoy output; it can be left out here to build test headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[expect(clippy::struct_excessive_bools, reason = "one switch per Envoy detail")]
pub struct EnvoyFields {
    /// `Hash`.
    pub hash: bool,
    /// `Cert`.
    pub cert: bool,
    /// `Chain`.
    pub chain: bool,
    /// `Subject`.
    pub subject: bool,
    /// `URI`.
    pub uri: bool,
    /// `DNS`.
    pub dns: bool,
    /// `Issuer` (Envoy 1.38 and later, `issuer: true`).
    pub issuer: bool,
}

impl EnvoyFields {
    /// No detail: set the fields you want on a copy of it (new fields may
    /// be added, so the struct cannot be built from a literal outside this
    /// crate).
    pub const NONE: Self = Self {
        hash: false,
        cert: false,
        chain: false,
        subject: false,
        uri: false,
        dns: false,
        issuer: false,
    };

    /// Every detail Envoy wrote before 1.38: all but `Issuer` (set it on a
    /// copy).
    pub const ALL: Self = Self {
        hash: true,
        cert: true,
        chain: true,
        subject: true,
        uri: true,
        dns: true,
        issuer: false,
    };

    /// What Azure Container Apps forwards: `Hash`, `Cert`, `Chain`.
    pub const ACA: Self = Self {
        hash: true,
        cert: true,
        chain: true,
        subject: false,
        uri: false,
        dns: false,
        issuer: false,
    };
}

/// Renders one XFCC element exactly as Envoy does for a peer presenting
/// `leaf` followed by `chain` (intermediates as the client sent them):
/// `By` (one per value), `Hash` (lower-case hex SHA-256), `Cert` and `Chain`
/// (quoted URL-encoded PEM), `Subject` (quoted, OpenSSL RFC 2253), `URI`
/// (one per URI SAN, or an empty `URI=`), `DNS` (one per DNS SAN),
/// `Issuer` (quoted, as `Subject`). Join elements with `,`.
///
/// ```
/// # let der = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/certs/client-rsa.der")).unwrap();
/// use xfcc::{inspect::{CertIdentity, XfccHeader}, render::{EnvoyFields, render_envoy}};
/// let leaf = CertIdentity::from_der(der)?;
/// let value = render_envoy(&[], &leaf, &[], EnvoyFields::ACA);
/// assert!(value.starts_with("Hash="));
/// let header = XfccHeader::parse(&value).unwrap();
/// assert_eq!(header.element(0).unwrap().decode()?.leaf(), &leaf);
/// # Ok::<(), xfcc::error::Error>(())
/// ```
pub fn render_envoy(
    by: &[&str],
    leaf: &CertIdentity,
    chain: &[CertIdentity],
    fields: EnvoyFields,
) -> String {
    let mut pairs: Vec<String> = by.iter().map(|b| format!("By={b}")).collect();
    if fields.hash {
        pairs.push(format!("Hash={}", leaf.sha256_hex().to_ascii_lowercase()));
    }
    if fields.cert {
        pairs.push(format!("Cert=\"{}\"", envoy_url_encode(&pem(leaf.der()))));
    }
    if fields.chain {
        let all: String = core::iter::once(leaf)
            .chain(chain)
            .map(|c| pem(c.der()))
            .collect();
        pairs.push(format!("Chain=\"{}\"", envoy_url_encode(&all)));
    }
    if fields.subject {
        pairs.push(format!(
            "Subject=\"{}\"",
            leaf.subject_name().to_openssl_rfc2253()
        ));
    }
    if fields.uri {
        if leaf.san().uri().is_empty() {
            pairs.push("URI=".to_owned());
        }
        pairs.extend(leaf.san().uri().iter().map(|u| format!("URI={u}")));
    }
    if fields.dns {
        pairs.extend(leaf.san().dns().iter().map(|d| format!("DNS={d}")));
    }
    if fields.issuer {
        pairs.push(format!(
            "Issuer=\"{}\"",
            leaf.issuer_name().to_openssl_rfc2253()
        ));
    }
    pairs.join(";")
}

/// Renders a header of one element in Envoy's JSON form
/// (`set_current_client_cert_details: {format: JSON}`), byte for byte as
/// Envoy 1.40 writes it: an array of one object whose keys come in
/// Envoy's order, `cert` and each item of `chain` a PEM string, and `uri`
/// and `dns` left out when the certificate has none. To add a hop, put
/// another object before the final `]` (as Envoy does).
///
/// ```
/// # let der = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/certs/client-rsa.der")).unwrap();
/// use xfcc::{inspect::{CertIdentity, XfccHeader}, render::{EnvoyFields, render_envoy_json}};
/// let leaf = CertIdentity::from_der(der)?;
/// let value = render_envoy_json(&["spiffe://edge"], &leaf, &[], EnvoyFields::ACA);
/// assert!(value.starts_with(r#"[{"by":["spiffe://edge"],"hash":""#));
/// let header = XfccHeader::parse(&value).unwrap();
/// assert!(header.is_json());
/// assert_eq!(header.element(0).unwrap().decode()?.leaf(), &leaf);
/// # Ok::<(), xfcc::error::Error>(())
/// ```
pub fn render_envoy_json(
    by: &[&str],
    leaf: &CertIdentity,
    chain: &[CertIdentity],
    fields: EnvoyFields,
) -> String {
    let string = |s: &str| format!("\"{}\"", json_escape(s));
    let array = |items: &mut dyn Iterator<Item = String>| {
        format!(
            "[{}]",
            items.map(|s| string(&s)).collect::<Vec<_>>().join(",")
        )
    };
    let mut members: Vec<String> = Vec::new();
    if !by.is_empty() {
        members.push(format!(
            "\"by\":{}",
            array(&mut by.iter().map(|b| (*b).to_owned()))
        ));
    }
    if fields.hash {
        members.push(format!(
            "\"hash\":{}",
            string(&leaf.sha256_hex().to_ascii_lowercase())
        ));
    }
    if fields.cert {
        members.push(format!("\"cert\":{}", string(&pem(leaf.der()))));
    }
    if fields.chain {
        let all = &mut core::iter::once(leaf).chain(chain).map(|c| pem(c.der()));
        members.push(format!("\"chain\":{}", array(all)));
    }
    if fields.subject {
        members.push(format!(
            "\"subject\":{}",
            string(&leaf.subject_name().to_openssl_rfc2253())
        ));
    }
    if fields.uri && !leaf.san().uri().is_empty() {
        members.push(format!(
            "\"uri\":{}",
            array(&mut leaf.san().uri().iter().cloned())
        ));
    }
    if fields.dns && !leaf.san().dns().is_empty() {
        members.push(format!(
            "\"dns\":{}",
            array(&mut leaf.san().dns().iter().cloned())
        ));
    }
    if fields.issuer {
        members.push(format!(
            "\"issuer\":{}",
            string(&leaf.issuer_name().to_openssl_rfc2253())
        ));
    }
    format!("[{{{}}}]", members.join(","))
}

/// A JSON string's contents for `s`: `"` and `\` escaped, `\n` for a line
/// break, other control characters as `\u00XX`.
fn json_escape(s: &str) -> String {
    use core::fmt::Write as _;
    let mut out = String::with_capacity(s.len() + s.len() / 32);
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// PEM as OpenSSL writes it: 64-character lines, LF, trailing newline.
pub(crate) fn pem(der: &[u8]) -> String {
    pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, der).unwrap_or_default()
}

/// Envoy's URL encoding of PEM: exactly LF, space, `+`, `/`, `=`.
pub(crate) fn envoy_url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("%0A"),
            ' ' => out.push_str("%20"),
            '+' => out.push_str("%2B"),
            '/' => out.push_str("%2F"),
            '=' => out.push_str("%3D"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envoy_url_encoding_is_exactly_five_characters() {
        assert_eq!(envoy_url_encode("a b\n+/=-%"), "a%20b%0A%2B%2F%3D-%");
    }
}
