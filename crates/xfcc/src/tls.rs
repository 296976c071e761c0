//! Terminating the proxy's TLS in the service (feature `rustls`), so that
//! the policy's `trusted_proxies` can judge the certificate the proxy
//! presents: a rustls server configuration that asks every connection for
//! a certificate, checks in the handshake that the peer holds its key, and
//! leaves the trust decision to the policy; and the [`PeerCert`] an adapter
//! builds from what rustls kept.
//!
//! The adapters build on it: xfcc-tower's `TlsListener` (axum, hyper) and
//! xfcc-actix's `tls` module.
//!
//! ```
//! # let key_pair = rcgen::KeyPair::generate().unwrap();
//! # let made = rcgen::CertificateParams::new(vec!["app.internal".to_owned()]).unwrap().self_signed(&key_pair).unwrap();
//! # let (cert, key) = (made.pem().into_bytes(), key_pair.serialize_pem().into_bytes());
//! let config = xfcc::tls::server_config_from_pem(&cert, &key)?;
//! assert_eq!(config.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
//! # Ok::<(), xfcc::ConfigError>(())
//! ```

use std::sync::Arc;

use rustls::DistinguishedName;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};

use crate::outcome::ConfigError;

use crate::peer::PeerCert;
/// The rustls server configuration type (rustls 0.23), re-exported so that
/// its version always matches.
pub use rustls::ServerConfig;

/// Asks every connection for a certificate and accepts any whose key the
/// peer proves it holds (rustls checks the handshake signature with the
/// provider's algorithms): which certificates are trusted proxies is the
/// policy's decision (`trusted_proxies`), made per request with the
/// policy's anchor sets, pins and SPIFFE IDs, and explained with a reason
/// code. A connection without a certificate is let in too, and its
/// requests carrying the header are refused (`untrusted_proxy`,
/// `no_proxy_certificate`) rather than failing in the handshake with
/// nothing in the logs.
#[derive(Debug)]
struct PolicyDecides {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PolicyDecides {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        // The policy judges it, request by request (see the type's doc).
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The client-certificate verifier of [`server_config`], for a caller
/// that builds its own `ServerConfig`: it asks for a certificate, checks
/// the peer's proof that it holds the key, and trusts nothing by itself.
/// Never use it without a policy with `trusted_proxies` behind it.
pub fn proxy_cert_verifier(provider: &CryptoProvider) -> Arc<dyn ClientCertVerifier> {
    Arc::new(PolicyDecides {
        algorithms: provider.signature_verification_algorithms,
    })
}

/// A rustls server configuration for the service's side of the proxy's
/// connection: this certificate chain and key (the service's own), TLS 1.2
/// and 1.3 with rustls's safe defaults and the `ring` provider, ALPN `h2`
/// and `http/1.1`, and [`proxy_cert_verifier`].
///
/// # Errors
/// What rustls says of the certificate and key.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = proxy_cert_verifier(&provider);
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// [`server_config`] from PEM: the service's certificate chain and its
/// private key (PKCS#8, PKCS#1 or SEC1).
///
/// # Errors
/// A [`ConfigError`] naming `tls_cert` or `tls_key` when one does not
/// read, or what rustls says of the pair; never the key's bytes.
pub fn server_config_from_pem(
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<ServerConfig, ConfigError> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ConfigError::value("tls_cert", "(PEM)", "PEM CERTIFICATE blocks"))?;
    if chain.is_empty() {
        return Err(ConfigError::value(
            "tls_cert",
            "(PEM)",
            "at least one PEM CERTIFICATE block",
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| {
        ConfigError::value(
            "tls_key",
            "(PEM)",
            "a PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)",
        )
    })?;
    server_config(chain, key)
        .map_err(|e| ConfigError::value("tls_cert", "(PEM)", format!("a pair rustls takes: {e}")))
}

/// What a connection presented, as an adapter hands it to
/// [`Peer::with_tls`](crate::Peer::with_tls): the chain rustls kept after
/// the handshake (`peer_certificates()`), or `None` for a connection
/// without one. Build it once per connection.
pub fn peer_cert(chain: Option<&[CertificateDer<'_>]>) -> Option<Arc<PeerCert>> {
    let chain = chain.filter(|c| !c.is_empty())?;
    Some(Arc::new(PeerCert::new(chain.iter().map(|c| c.to_vec()))))
}
