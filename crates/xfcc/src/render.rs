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
    };

    /// Every detail.
    pub const ALL: Self = Self {
        hash: true,
        cert: true,
        chain: true,
        subject: true,
        uri: true,
        dns: true,
    };

    /// What Azure Container Apps forwards: `Hash`, `Cert`, `Chain`.
    pub const ACA: Self = Self {
        hash: true,
        cert: true,
        chain: true,
        subject: false,
        uri: false,
        dns: false,
    };
}

/// Renders one XFCC element exactly as Envoy does for a peer presenting
/// `leaf` followed by `chain` (intermediates as the client sent them):
/// `By` (one per value), `Hash` (lower-case hex SHA-256), `Cert` and `Chain`
/// (quoted URL-encoded PEM), `Subject` (quoted, OpenSSL RFC 2253), `URI`
/// (one per URI SAN, or an empty `URI=`), `DNS` (one per DNS SAN). Join
/// elements with `,`.
///
/// ```
/// # let der = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/certs/client-rsa.der")).unwrap();
/// use xfcc::{CertIdentity, EnvoyFields, XfccHeader, render_envoy};
/// let leaf = CertIdentity::from_der(der)?;
/// let value = render_envoy(&[], &leaf, &[], EnvoyFields::ACA);
/// assert!(value.starts_with("Hash="));
/// let header = XfccHeader::parse(&value).unwrap();
/// assert_eq!(header.element(0).unwrap().decode()?.leaf(), &leaf);
/// # Ok::<(), xfcc::Error>(())
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
    pairs.join(";")
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
