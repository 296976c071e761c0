//! Chain-verification attack headers, built against the fixture PKI: what
//! a client of an ingress that accepts any certificate can send to make
//! path building expensive. Shared by `tests/chain_attack.rs` and the
//! `worst/*` benches (included with `#[path]`; the including file defines
//! `FIXTURES`, the fixture certificate folder).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "included by tests and benches that use different parts"
)]

use std::path::PathBuf;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyPair, KeyUsagePurpose, date_time_ymd,
};
use xfcc::{
    inspect::CertIdentity,
    render::{EnvoyFields, render_envoy},
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(super::FIXTURES).join(name)
}

/// A fixture certificate.
pub(crate) fn fixture_cert(name: &str) -> CertIdentity {
    CertIdentity::from_der(std::fs::read(fixture(&format!("{name}.der"))).unwrap()).unwrap()
}

/// The fixture root, as PEM (the anchor the attacked policy trusts).
pub(crate) fn root_pem() -> String {
    std::fs::read_to_string(fixture("root.pem")).unwrap()
}

/// The encoded name openssl gave a fixture CA: C as PrintableString, O and
/// CN as UTF8String.
fn contoso_name(cn: &str) -> rcgen::DistinguishedName {
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(
        DnType::CountryName,
        DnValue::PrintableString("US".try_into().unwrap()),
    );
    dn.push(DnType::OrganizationName, "Contoso");
    dn.push(DnType::CommonName, cn);
    dn
}

/// The issuing CA's name: what the leaves below claim as their issuer.
pub(crate) const ISSUING_CA: &str = "Contoso Issuing CA 1";
const ROOT: &str = "Contoso Test Root CA";

fn ca(subject: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name = contoso_name(subject);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2045, 1, 1);
    p
}

/// A CA certificate named `subject`, "issued" by a fresh key under the
/// name `issuer`: no CA key is needed, and its signature verifies under
/// nothing the policy trusts.
fn forged_ca(subject: &str, issuer: &str) -> CertIdentity {
    let issuer = Issuer::new(ca(issuer), KeyPair::generate().unwrap());
    let c = ca(subject)
        .signed_by(&KeyPair::generate().unwrap(), &issuer)
        .unwrap();
    CertIdentity::from_der(c.der().to_vec()).unwrap()
}

/// A client leaf that names the real issuing CA as its issuer (so it
/// matches an `issuer_cn` rule) but is signed by a key of the attacker's.
pub(crate) fn forged_leaf() -> CertIdentity {
    let issuer = Issuer::new(ca(ISSUING_CA), KeyPair::generate().unwrap());
    let mut p = CertificateParams::new(vec!["client-app.contoso.example".into()]).unwrap();
    p.distinguished_name
        .push(DnType::CommonName, "client-app.contoso.example");
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2045, 1, 1);
    let c = p.signed_by(&KeyPair::generate().unwrap(), &issuer).unwrap();
    CertIdentity::from_der(c.der().to_vec()).unwrap()
}

/// An ACA-style header (`Hash;Cert;Chain`) for `leaf` and `chain`.
pub(crate) fn header(leaf: &CertIdentity, chain: &[CertIdentity]) -> String {
    render_envoy(&[], leaf, chain, EnvoyFields::ACA)
}

/// Each attack: a name, the header, and the rejection detail expected.
pub(crate) fn attacks() -> Vec<(&'static str, String, &'static str)> {
    let leaf = forged_leaf();
    // 15 intermediates (16 certificates with the leaf: the default chain
    // limit), all named like the issuing CA and self-issued, each with its
    // own key: every ordering is a path to webpki.
    let same_name: Vec<_> = (0..15).map(|_| forged_ca(ISSUING_CA, ISSUING_CA)).collect();
    // The same, with one of them claiming the root as its issuer: every
    // path now ends at the trusted root, each costing a signature check.
    let mut to_root = same_name[..14].to_vec();
    to_root.push(forged_ca(ISSUING_CA, ROOT));
    // The real issuing CA (public) among the junk: a signature that
    // verifies, then one that does not, on every path through it.
    let mut with_real = same_name[..14].to_vec();
    with_real.push(fixture_cert("inter"));
    // One junk intermediate sent fifteen times.
    let repeated = vec![forged_ca(ISSUING_CA, ROOT); 15];
    // A linear chain of fifteen distinct names up to the root's.
    let mut linear = Vec::new();
    let mut subject = ISSUING_CA.to_owned();
    for i in 0..15 {
        let issuer = if i == 14 {
            ROOT.to_owned()
        } else {
            format!("hop {i}")
        };
        linear.push(forged_ca(&subject, &issuer));
        subject = issuer;
    }
    vec![
        ("same-name-15", header(&leaf, &same_name), "unknown_issuer"),
        (
            "same-name-to-root-15",
            header(&leaf, &to_root),
            "ambiguous_chain",
        ),
        (
            "real-inter-among-junk-15",
            header(&leaf, &with_real),
            "ambiguous_chain",
        ),
        (
            "one-junk-repeated-15",
            header(&leaf, &repeated),
            "bad_signature",
        ),
        ("linear-15", header(&leaf, &linear), "path_too_long"),
    ]
}

/// Four same-name intermediates that lead to the root: as many as the
/// default `max_chain_intermediates` allows, so only the search budget
/// stands between them and rustls-webpki.
pub(crate) fn ambiguous_within_limit() -> String {
    let leaf = forged_leaf();
    let mut chain: Vec<_> = (0..3).map(|_| forged_ca(ISSUING_CA, ISSUING_CA)).collect();
    chain.push(forged_ca(ISSUING_CA, ROOT));
    header(&leaf, &chain)
}
