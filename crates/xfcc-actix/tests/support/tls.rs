//! A PKI and a TLS client for the adapters' `trusted_proxies` tests (copied
//! into xfcc-tower's and xfcc-actix's tests by `.ci/fixtures.sh`, since each
//! crate's tests run from its package alone): the
//! service's certificate, the proxy's client certificate (URI SAN
//! `PROXY_ID`), another certificate with the proxy's names and its own
//! key, and a client whose header the proxy forwards.
#![allow(dead_code, reason = "each including test uses its part")]
#![allow(clippy::unwrap_used, reason = "test support")]

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::{self, pki_types};
use xfcc::{
    Policy, Rule, TrustedProxy,
    inspect::CertIdentity,
    render::{EnvoyFields, render_envoy},
};

pub(crate) const PROXY_ID: &str = "spiffe://mesh.example/ns/edge/sa/envoy";

/// A certificate and its key, as a TLS client presents them.
#[derive(Clone)]
pub(crate) struct Identity {
    pub(crate) der: Vec<u8>,
    pub(crate) key: Vec<u8>,
}

#[derive(Clone)]
pub(crate) struct Pki {
    pub(crate) server_cert_pem: String,
    pub(crate) server_key_pem: String,
    ca_der: Vec<u8>,
    pub(crate) proxy: Identity,
    /// The proxy's names, another key, another CA.
    pub(crate) lookalike: Identity,
    pub(crate) client: CertIdentity,
}

fn ca(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    p
}

fn proxy_params() -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.subject_alt_names = vec![SanType::URI(PROXY_ID.try_into().unwrap())];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p
}

pub(crate) fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca("Test CA").self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca("Test CA"), ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let proxy_key = KeyPair::generate().unwrap();
    let proxy = proxy_params().signed_by(&proxy_key, &issuer).unwrap();
    let fake = Issuer::new(ca("Test CA"), KeyPair::generate().unwrap());
    let fake_key = KeyPair::generate().unwrap();
    let lookalike = proxy_params().signed_by(&fake_key, &fake).unwrap();
    let mut c = CertificateParams::new(vec!["client.example".to_owned()]).unwrap();
    c.distinguished_name
        .push(DnType::CommonName, "client.example");
    let client = c.self_signed(&KeyPair::generate().unwrap()).unwrap();
    Pki {
        server_cert_pem: server.pem(),
        server_key_pem: server_key.serialize_pem(),
        ca_der: ca_cert.der().to_vec(),
        proxy: Identity {
            der: proxy.der().to_vec(),
            key: proxy_key.serialize_der(),
        },
        lookalike: Identity {
            der: lookalike.der().to_vec(),
            key: fake_key.serialize_der(),
        },
        client: CertIdentity::from_der(client.der().to_vec()).unwrap(),
    }
}

impl Pki {
    /// Trusts the proxy by its key (an SPKI pin) and the client by its
    /// thumbprint.
    pub(crate) fn policy(&self) -> Policy {
        let pin = CertIdentity::from_der(self.proxy.der.clone())
            .unwrap()
            .spki_sha256_base64();
        Policy::builder()
            .trusted_proxies([TrustedProxy::new(
                Rule::new("edge").spki_sha256([pin.as_str()]),
            )])
            .allow(Rule::new("client").thumbprint([self.client.sha256_hex()]))
            .build()
            .unwrap()
    }

    /// The header the proxy writes (its URI SAN as `By`), or one naming
    /// another proxy.
    pub(crate) fn header(&self, by: &str) -> String {
        render_envoy(&[by], &self.client, &[], EnvoyFields::ACA)
    }

    pub(crate) fn server_config(&self) -> rustls::ServerConfig {
        xfcc::tls::server_config_from_pem(
            self.server_cert_pem.as_bytes(),
            self.server_key_pem.as_bytes(),
        )
        .unwrap()
    }

    fn client_config(&self, id: Option<&Identity>) -> rustls::ClientConfig {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(pki_types::CertificateDer::from(self.ca_der.clone()))
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let mut config = match id {
            None => builder.with_no_client_auth(),
            Some(id) => builder
                .with_client_auth_cert(
                    vec![pki_types::CertificateDer::from(id.der.clone())],
                    pki_types::PrivateKeyDer::Pkcs8(id.key.clone().into()),
                )
                .unwrap(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config
    }

    /// One HTTP/1.1 request over TLS as `id` (or with no certificate), with
    /// `header` as the XFCC value: the status and the body.
    pub(crate) async fn call(
        &self,
        port: u16,
        id: Option<&Identity>,
        header: Option<&str>,
    ) -> (u16, String) {
        let connector = tokio_rustls::TlsConnector::from(Arc::new(self.client_config(id)));
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let name = pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        exchange(&mut tls, header).await
    }
}

/// Writes one request, reads the answer to the end: (status, body).
pub(crate) async fn exchange<S>(s: &mut S, header: Option<&str>) -> (u16, String)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut req = String::from("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some(h) = header {
        req.push_str(&format!("X-Forwarded-Client-Cert: {h}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got).await;
    let text = String::from_utf8_lossy(&got).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// What both adapters must answer over TLS: the proxy's connection is
/// served (`<rule> via <proxy>`), a direct caller with no certificate or
/// with the proxy's names on another key is `untrusted_proxy`, a header
/// naming another proxy as `By` over the proxy's own connection is refused,
/// and a stranger without the header gets `missing`.
pub(crate) async fn assert_trusted_proxy_cases(pki: &Pki, port: u16) {
    let good = pki.header(PROXY_ID);
    let forged = pki.header("spiffe://mesh.example/ns/edge/sa/other");
    let refused = r#"{"error":"untrusted_proxy"}"#;
    let missing = r#"{"error":"missing"}"#;
    let (good, forged) = (Some(good.as_str()), Some(forged.as_str()));
    let cases = [
        (
            "the proxy",
            Some(&pki.proxy),
            good,
            (200, "client via edge"),
        ),
        ("no certificate", None, good, (403, refused)),
        ("look-alike", Some(&pki.lookalike), good, (403, refused)),
        (
            "By of another proxy",
            Some(&pki.proxy),
            forged,
            (403, refused),
        ),
        ("stranger, no header", None, None, (403, missing)),
    ];
    for (what, id, header, want) in cases {
        let (status, text) = pki.call(port, id, header).await;
        assert_eq!((status, text.as_str()), want, "{what}");
    }
}

/// Over plain TCP the adapter cannot tell what the connection presented:
/// the proxy's header is refused as a wiring error, never served.
pub(crate) async fn assert_plain_fails_closed(pki: &Pki, port: u16) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (status, body) = exchange(&mut s, Some(&pki.header(PROXY_ID))).await;
    assert_eq!(
        (status, body.as_str()),
        (500, r#"{"error":"peer_unavailable"}"#)
    );
}
