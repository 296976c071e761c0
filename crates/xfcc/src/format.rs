//! The header formats proxies use to forward a client certificate, and a
//! renderer that writes each of them (Envoy's byte for byte).

use core::fmt;
use core::str::FromStr;

use crate::cert::CertIdentity;
use crate::error::UnknownFormat;
use crate::error::{CertErrorKind as C, Error, Field, ParseErrorKind};
use crate::forwarded::ForwardedCert;
use crate::limits::Limits;
use crate::parse::{ParseOptions, XfccHeader};
use crate::text::{decode_base64_der, decode_certificates, decode_one, percent_decode_text};

/// Which proxy's header format to read. [`Format::Envoy`] is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Format {
    /// Envoy's `X-Forwarded-Client-Cert` (Azure Container Apps, Istio,
    /// Consul, Contour, Envoy Gateway; also gorouter's `xfcc_format: envoy`).
    #[default]
    Envoy,
    /// RFC 9440 `Client-Cert` (`:base64 DER:`) and `Client-Cert-Chain`
    /// (a list of them, leaf excluded).
    Rfc9440,
    /// nginx `$ssl_client_escaped_cert`: URL-encoded PEM, in a header the
    /// operator names (commonly `X-SSL-Client-Cert`).
    Nginx,
    /// Traefik `X-Forwarded-Tls-Client-Cert`: base64 DER per certificate,
    /// comma-separated, leaf first.
    Traefik,
    /// AWS ALB `X-Amzn-Mtls-Clientcert`: URL-encoded PEM with `+`, `=` and
    /// `/` left raw, leaf first, then the chain.
    AwsAlb,
    /// Azure App Service `X-ARR-ClientCert`: base64 DER of the leaf.
    AppService,
    /// Cloud Foundry gorouter (`xfcc_format: raw`): base64 DER of the leaf,
    /// under the name `X-Forwarded-Client-Cert`.
    Gorouter,
    /// HAProxy `http-request set-header X-SSL-Client-Cert
    /// %[ssl_c_der,base64]`: base64 DER of the leaf. An empty value (what
    /// HAProxy sets when the client sent no certificate) is a missing
    /// header ([`means_no_certificate`](Self::means_no_certificate)).
    Haproxy,
    /// Caddy `header_up X-Client-Cert
    /// {http.request.tls.client.certificate_der_base64}`: base64 DER of the
    /// leaf. Without a client certificate Caddy forwards the placeholder
    /// unreplaced, which is a missing header
    /// ([`means_no_certificate`](Self::means_no_certificate)).
    Caddy,
}

impl Format {
    /// Every format.
    pub const ALL: &'static [Self] = &[
        Self::Envoy,
        Self::Rfc9440,
        Self::Nginx,
        Self::Traefik,
        Self::AwsAlb,
        Self::AppService,
        Self::Gorouter,
        Self::Haproxy,
        Self::Caddy,
    ];

    /// The format's name as the CLI and configuration spell it: `envoy`,
    /// `rfc9440`, `nginx`, `traefik`, `alb`, `app-service`, `gorouter`,
    /// `haproxy`, `caddy`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Envoy => "envoy",
            Self::Rfc9440 => "rfc9440",
            Self::Nginx => "nginx",
            Self::Traefik => "traefik",
            Self::AwsAlb => "alb",
            Self::AppService => "app-service",
            Self::Gorouter => "gorouter",
            Self::Haproxy => "haproxy",
            Self::Caddy => "caddy",
        }
    }

    /// The (lower-case) header the certificate arrives in by default.
    pub const fn header_name(self) -> &'static str {
        match self {
            Self::Envoy | Self::Gorouter => "x-forwarded-client-cert",
            Self::Rfc9440 => "client-cert",
            Self::Nginx => "x-ssl-client-cert",
            Self::Traefik => "x-forwarded-tls-client-cert",
            Self::AwsAlb => "x-amzn-mtls-clientcert",
            Self::AppService => "x-arr-clientcert",
            Self::Haproxy => "x-ssl-client-cert",
            Self::Caddy => "x-client-cert",
        }
    }

    /// Whether `value` is what this format's proxy sends when the client
    /// presented no certificate, which the policy treats as a missing
    /// header: for HAProxy an empty value (`%[ssl_c_der,base64]` is empty
    /// then); for Caddy an empty value or its placeholder left unreplaced
    /// (Caddy 2.6 forwards `{http.request.tls.client.certificate_der_base64}`
    /// as is). Never true for the other formats.
    pub fn means_no_certificate(self, value: &str) -> bool {
        let v = value.trim();
        match self {
            Self::Haproxy => v.is_empty(),
            Self::Caddy => {
                v.is_empty()
                    || (v.starts_with("{http.request.tls.client.")
                        && v.ends_with('}')
                        && v.bytes().filter(|&b| b == b'{').count() == 1)
            }
            _ => false,
        }
    }

    /// Whether a chain (intermediates) reaches the policy in this format:
    /// Envoy's `Chain`, RFC 9440's `Client-Cert-Chain`, Traefik's list and
    /// AWS ALB's concatenated PEM do; nginx, App Service, gorouter, HAProxy
    /// and Caddy forward the leaf alone.
    pub const fn carries_chain(self) -> bool {
        matches!(
            self,
            Self::Envoy | Self::Rfc9440 | Self::Traefik | Self::AwsAlb
        )
    }

    /// The separate chain header, for formats that have one
    /// (`client-cert-chain` for RFC 9440).
    pub const fn chain_header_name(self) -> Option<&'static str> {
        match self {
            Self::Rfc9440 => Some("client-cert-chain"),
            _ => None,
        }
    }

    /// Decodes the forwarded certificate from a header value (and, for RFC
    /// 9440, the optional `Client-Cert-Chain` value).
    ///
    /// For [`Format::Envoy`] the header must hold exactly one element (what
    /// an edge proxy in `SANITIZE_SET` mode sends), which is decoded and
    /// checked as [`Element::decode`](crate::inspect::Element::decode) does; use
    /// [`XfccHeader`] directly, or the policy, for multi-hop headers.
    ///
    /// # Errors
    /// Parse, certificate and consistency errors.
    pub fn decode(
        self,
        value: &str,
        chain: Option<&str>,
        limits: &Limits,
    ) -> Result<ForwardedCert, Error> {
        let leaf = |der: Vec<u8>| CertIdentity::from_der_with(der, limits);
        match self {
            Self::Envoy => {
                let header =
                    XfccHeader::parse_with(value, &ParseOptions::DEFAULT.with_limits(*limits))?;
                if header.len() != 1 {
                    return Err(
                        crate::error::ParseError::new(ParseErrorKind::TooManyElements, 0).into(),
                    );
                }
                match header.element(0) {
                    Some(e) => e.decode_with(limits),
                    None => Err(Error::cert(C::NoCertificate, Field::Cert)),
                }
            }
            Self::Rfc9440 => {
                let cert = leaf(sf_binary(value.trim(), Field::Cert)?)?;
                let chain = match chain {
                    Some(list) if !list.trim().is_empty() => {
                        let items: Vec<&str> = list.split(',').map(str::trim).collect();
                        if items.len() > limits.chain() {
                            return Err(Error::cert(C::ChainTooLong, Field::Chain(0)));
                        }
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, item)| sf_binary(item, Field::Chain(i)))
                            .collect::<Result<Vec<_>, _>>()?
                    }
                    _ => Vec::new(),
                };
                Ok(ForwardedCert::new(cert, chain, false))
            }
            Self::Nginx => Ok(ForwardedCert::new(
                leaf(decode_one(value, Field::Cert)?)?,
                Vec::new(),
                false,
            )),
            Self::AppService | Self::Gorouter | Self::Haproxy | Self::Caddy => {
                let value = value.trim();
                if let Some(other) = other_form(value) {
                    return Err(crate::error::ParseError::new(other, 0).into());
                }
                let der = decode_base64_der(value.as_bytes(), Field::Cert)?;
                Ok(ForwardedCert::new(leaf(der)?, Vec::new(), false))
            }
            Self::Traefik => {
                let text = percent_decode_text(value, Field::Cert)?;
                let items: Vec<&str> = text.split(',').map(str::trim).collect();
                if items.len() > limits.chain() {
                    return Err(Error::cert(C::ChainTooLong, Field::Chain(0)));
                }
                let ders = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let field = if i == 0 { Field::Cert } else { Field::Chain(i) };
                        decode_base64_der(item.as_bytes(), field)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                chain_from_list(ders, limits)
            }
            Self::AwsAlb => chain_from_list(
                decode_certificates(value, Field::Cert, limits.chain())?,
                limits,
            ),
        }
    }
}

fn chain_from_list(mut ders: Vec<Vec<u8>>, limits: &Limits) -> Result<ForwardedCert, Error> {
    let Some(first) = ders.first() else {
        return Err(Error::cert(C::NoCertificate, Field::Cert));
    };
    let leaf = CertIdentity::from_der_with(first.clone(), limits)?;
    if ders.len() == 1 {
        ders.clear();
    }
    let in_chain = !ders.is_empty();
    Ok(ForwardedCert::new(leaf, ders, in_chain))
}

/// What a value meant for a bare-base64 format looks like instead, when
/// it is plainly another proxy's form: an RFC 9440 item, PEM (plain or
/// URL-encoded armour), or Envoy's pairs (an element starts with a key). `None` leaves the verdict to
/// the base64 decoder.
fn other_form(value: &str) -> Option<ParseErrorKind> {
    let b = value.as_bytes();
    if b.len() > 1 && b.first() == Some(&b':') && b.last() == Some(&b':') {
        Some(ParseErrorKind::WrongFormatRfc9440)
    } else if [
        "By=", "Hash=", "Cert=", "Chain=", "Subject=", "URI=", "DNS=", "Issuer=", "[{\"",
    ]
    .iter()
    .any(|k| value.starts_with(k))
    {
        // (A certificate's base64 starts with `MI`: never with a key, nor
        // with Envoy's JSON form. Before PEM: Envoy's `Cert` holds PEM.)
        Some(ParseErrorKind::WrongFormatEnvoy)
    } else if value.contains("-----BEGIN") || value.contains("BEGIN%20") {
        Some(ParseErrorKind::WrongFormatPem)
    } else {
        None
    }
}

/// An RFC 8941 byte sequence: `:` base64 `:`.
fn sf_binary(item: &str, field: Field) -> Result<Vec<u8>, Error> {
    let inner = item
        .strip_prefix(':')
        .and_then(|s| s.strip_suffix(':'))
        .filter(|s| !s.contains(':'))
        .ok_or(Error::cert(C::BadEncoding, field))?;
    decode_base64_der(inner.as_bytes(), field)
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, UnknownFormat> {
        Self::ALL
            .iter()
            .copied()
            .find(|f| f.code().eq_ignore_ascii_case(s))
            .ok_or(UnknownFormat)
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_round_trip() {
        for &f in Format::ALL {
            assert_eq!(f.code().parse::<Format>().unwrap(), f);
        }
        assert_eq!("ALB".parse::<Format>().unwrap(), Format::AwsAlb);
        assert!("traefik2".parse::<Format>().is_err());
    }

    #[test]
    fn sf_binary_requires_colons() {
        assert!(sf_binary("AAAA", Field::Cert).is_err());
        assert!(sf_binary(":AAAA", Field::Cert).is_err());
        assert!(sf_binary(":AA:AA:", Field::Cert).is_err());
        assert_eq!(sf_binary(":AAAA:", Field::Cert).unwrap(), vec![0, 0, 0]);
    }
}
