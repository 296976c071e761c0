//! Chain policy (feature `chain`): the committed openssl PKI (certificates
//! only: no private key is packaged) plus a CA generated here with rcgen,
//! named like the fixture's, for what must be signed while the tests run.
#![cfg(feature = "chain")]
#![expect(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    RevokedCertParams, SerialNumber, date_time_ymd,
};
use xfcc::{
    Policy, PolicyBuilder, Rule,
    inspect::CertIdentity,
    render::{EnvoyFields, render_envoy},
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/certs")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

fn cert(name: &str) -> CertIdentity {
    CertIdentity::from_der(std::fs::read(fixture(&format!("{name}.der"))).unwrap()).unwrap()
}

fn ident(der: &[u8]) -> CertIdentity {
    CertIdentity::from_der(der.to_vec()).unwrap()
}

fn now() -> SystemTime {
    cert("client-rsa").not_before() + Duration::from_secs(86_400)
}

/// A test PKI made while the test runs, with the fixture's names: root
/// "Contoso Test Root CA", issuing CA "Contoso Issuing CA 1", and two
/// clients, "client-app.contoso.example" and "wrong-cn".
struct Pki {
    root_pem: String,
    root: Issuer<'static, KeyPair>,
    inter_cert: CertIdentity,
    inter: Issuer<'static, KeyPair>,
    client: CertIdentity,
    other: CertIdentity,
}

fn contoso(cn: &str) -> rcgen::DistinguishedName {
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(DnType::CountryName, "US");
    dn.push(DnType::OrganizationName, "Contoso");
    dn.push(DnType::CommonName, cn);
    dn
}

impl Pki {
    fn new() -> Self {
        let mut root_params = ca_params("root");
        root_params.distinguished_name = contoso("Contoso Test Root CA");
        let root_key = KeyPair::generate().unwrap();
        let root_pem = root_params.self_signed(&root_key).unwrap().pem();
        let root = Issuer::new(root_params, root_key);
        let mut inter_params = ca_params("inter");
        inter_params.distinguished_name = contoso("Contoso Issuing CA 1");
        let inter_key = KeyPair::generate().unwrap();
        let inter_cert = ident(inter_params.signed_by(&inter_key, &root).unwrap().der());
        let inter = Issuer::new(inter_params, inter_key);
        let client = |cn: &str| {
            let mut p = leaf_params(cn);
            p.distinguished_name = contoso(cn);
            ident(
                p.signed_by(&KeyPair::generate().unwrap(), &inter)
                    .unwrap()
                    .der(),
            )
        };
        let (client, other) = (client("client-app.contoso.example"), client("wrong-cn"));
        Self {
            root_pem,
            root,
            inter_cert,
            inter,
            client,
            other,
        }
    }

    fn policy(&self) -> Policy {
        policy_with(&self.root_pem, vec![], |b| b)
    }
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2045, 1, 1);
    p
}

fn leaf_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(vec![format!("{cn}.contoso.example")]).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2045, 1, 1);
    p
}

fn header(leaf: &CertIdentity, chain: &[CertIdentity]) -> String {
    render_envoy(&[], leaf, chain, EnvoyFields::ACA)
}

fn policy_with(
    anchors: &str,
    crls: Vec<Vec<u8>>,
    f: impl FnOnce(PolicyBuilder) -> PolicyBuilder,
) -> Policy {
    f(Policy::builder()
        .proxy_verifies_chain(true)
        .clock(now)
        .chain(xfcc::TrustAnchors::new("partners", anchors.as_bytes().to_vec()).crls(crls))
        .allow(
            Rule::new("partner")
                .issuer_cn([
                    "Contoso Issuing CA 1",
                    "Contoso EC Issuing CA",
                    "rogue-inter",
                    "i3",
                ])
                .chain("partners"),
        ))
    .build()
    .unwrap()
}

fn policy() -> Policy {
    policy_with(&read("root.pem"), vec![], |b| b)
}

fn outcome(p: &Policy, h: &str) -> (String, String) {
    match p.verify(h) {
        Ok(c) => {
            assert!(c.chain_verified());
            ("ok".into(), c.rule().into())
        }
        Err(r) => (r.code().into(), r.detail().code().into()),
    }
}

fn is(p: &Policy, h: &str, code: &str, detail: &str) {
    assert_eq!(outcome(p, h), (code.to_owned(), detail.to_owned()));
}

#[test]
fn rsa_leaf_via_one_intermediate() {
    is(
        &policy(),
        &header(&cert("client-rsa"), &[cert("inter")]),
        "ok",
        "partner",
    );
}

#[test]
fn ecdsa_leaf_via_two_intermediates_of_mixed_algorithms() {
    // client-p256 (P-256) <- inter-ec (P-256, signed with RSA) <- inter (RSA) <- root (RSA)
    is(
        &policy(),
        &header(&cert("client-p256"), &[cert("inter-ec"), cert("inter")]),
        "ok",
        "partner",
    );
}

#[test]
fn intermediate_missing_from_chain() {
    is(
        &policy(),
        &header(&cert("client-rsa"), &[]),
        "chain_invalid",
        "unknown_issuer",
    );
    // The capture of a client that sent only its leaf, straight from Envoy.
    let capture = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/envoy/rsa-leaf-only.txt"),
    )
    .unwrap();
    is(&policy(), &capture, "chain_invalid", "unknown_issuer");
}

#[test]
fn wrong_root() {
    let other_root = ca_params("Other Root")
        .self_signed(&KeyPair::generate().unwrap())
        .unwrap();
    let p = policy_with(&other_root.pem(), vec![], |b| b);
    is(
        &p,
        &header(&cert("client-rsa"), &[cert("inter")]),
        "chain_invalid",
        "unknown_issuer",
    );
}

#[test]
fn rogue_ca_with_the_same_subject_name() {
    // A self-made "Contoso Issuing CA 1": same name, different key.
    let rogue_key = KeyPair::generate().unwrap();
    // The same encoded name as openssl wrote: C PrintableString, O and CN UTF8String.
    let mut rogue_params = ca_params("x");
    rogue_params.distinguished_name = rcgen::DistinguishedName::new();
    rogue_params.distinguished_name.push(
        DnType::CountryName,
        rcgen::DnValue::PrintableString("US".try_into().unwrap()),
    );
    rogue_params
        .distinguished_name
        .push(DnType::OrganizationName, "Contoso");
    rogue_params
        .distinguished_name
        .push(DnType::CommonName, "Contoso Issuing CA 1");
    let rogue = rogue_params.self_signed(&rogue_key).unwrap();
    let rogue_issuer = Issuer::new(rogue_params, rogue_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = leaf_params("client-app")
        .signed_by(&leaf_key, &rogue_issuer)
        .unwrap();
    let leaf = ident(leaf.der());
    assert_eq!(
        leaf.issuer_name(),
        cert("client-rsa").issuer_name(),
        "same issuer name as the real CA"
    );
    assert_eq!(
        ident(rogue.der()).subject_name(),
        cert("inter").subject_name()
    );
    // Passing the rogue CA as an intermediate does not help: its signature
    // does not verify under the real root.
    let (code, detail) = outcome(&policy(), &header(&leaf, &[ident(rogue.der())]));
    assert_eq!(code, "chain_invalid");
    assert!(
        detail == "bad_signature" || detail == "unknown_issuer",
        "{detail}"
    );
    // Nor does trusting the real issuing CA's name with no chain at all.
    let (code, _) = outcome(&policy(), &header(&leaf, &[]));
    assert_eq!(code, "chain_invalid");
}

#[test]
fn expired_intermediate() {
    let key = KeyPair::generate().unwrap();
    let mut params = ca_params("expired-inter");
    params.not_after = date_time_ymd(2021, 1, 1);
    let pki = Pki::new();
    let inter = params.signed_by(&key, &pki.root).unwrap();
    let issuer = Issuer::new(params, key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = ident(
        leaf_params("leaf")
            .signed_by(&leaf_key, &issuer)
            .unwrap()
            .der(),
    );
    let p = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(now)
        .chain(xfcc::TrustAnchors::new(
            "partners",
            pki.root_pem.clone().into_bytes(),
        ))
        .allow(Rule::new("partner").subject_cn(["leaf"]).chain("partners"))
        .build()
        .unwrap();
    is(
        &p,
        &header(&leaf, &[ident(inter.der())]),
        "chain_invalid",
        "expired",
    );
}

#[test]
fn not_yet_valid_leaf() {
    let mut params = leaf_params("future");
    params.not_before = date_time_ymd(2040, 1, 1);
    let pki = Pki::new();
    let leaf = ident(
        params
            .signed_by(&KeyPair::generate().unwrap(), &pki.inter)
            .unwrap()
            .der(),
    );
    is(
        &pki.policy(),
        &header(&leaf, std::slice::from_ref(&pki.inter_cert)),
        "not_yet_valid",
        "not_yet_valid",
    );
}

#[test]
fn server_auth_only_leaf() {
    let h = header(&cert("client-serverauth"), &[cert("inter")]);
    is(&policy(), &h, "chain_invalid", "wrong_eku");
    // A leaf with no EKU extension at all does not claim clientAuth either.
    let mut params = leaf_params("no-eku");
    params.extended_key_usages.clear();
    let pki = Pki::new();
    let no_eku = ident(
        params
            .signed_by(&KeyPair::generate().unwrap(), &pki.inter)
            .unwrap()
            .der(),
    );
    is(
        &pki.policy(),
        &header(&no_eku, std::slice::from_ref(&pki.inter_cert)),
        "chain_invalid",
        "wrong_eku",
    );
    // Opting out of the EKU requirement.
    let p = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(now)
        .chain(
            xfcc::TrustAnchors::new("any-eku", read("root.pem").into_bytes())
                .require_client_auth(false),
        )
        .allow(
            Rule::new("partner")
                .issuer_cn(["Contoso Issuing CA 1"])
                .chain("any-eku"),
        )
        .build()
        .unwrap();
    is(&p, &h, "ok", "partner");
}

fn crl_revoking(pki: &Pki, serial_hex: &str) -> Vec<u8> {
    let serial: Vec<u8> = (0..serial_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&serial_hex[i..i + 2], 16).unwrap())
        .collect();
    let params = CertificateRevocationListParams {
        this_update: date_time_ymd(2026, 1, 1),
        next_update: date_time_ymd(2040, 1, 1),
        crl_number: SerialNumber::from(7u64),
        issuing_distribution_point: None,
        revoked_certs: vec![RevokedCertParams {
            serial_number: SerialNumber::from_slice(&serial),
            revocation_time: date_time_ymd(2026, 6, 1),
            reason_code: None,
            invalidity_date: None,
        }],
        key_identifier_method: KeyIdMethod::Sha256,
    };
    params
        .signed_by(&pki.inter)
        .unwrap()
        .pem()
        .unwrap()
        .into_bytes()
}

#[test]
fn revoked_leaf_via_crl() {
    let pki = Pki::new();
    let h = header(&pki.client, std::slice::from_ref(&pki.inter_cert));
    let revoking = policy_with(
        &pki.root_pem,
        vec![crl_revoking(&pki, &pki.client.serial_hex())],
        |b| b,
    );
    is(&revoking, &h, "chain_invalid", "revoked");
    // The same CRL does not affect another certificate.
    is(
        &revoking,
        &header(&pki.other, std::slice::from_ref(&pki.inter_cert)),
        "ok",
        "partner",
    );
    // DER CRLs load too.
    let pem = String::from_utf8(crl_revoking(&pki, &pki.client.serial_hex())).unwrap();
    let der = <rustls_pki_types::CertificateRevocationListDer as rustls_pki_types::pem::PemObject>::from_pem_slice(pem.as_bytes()).unwrap();
    let p = policy_with(&pki.root_pem, vec![der.as_ref().to_vec()], |b| b);
    is(&p, &h, "chain_invalid", "revoked");
}

#[test]
fn chain_with_extra_unrelated_certificates() {
    let unrelated = [cert("client-p384"), cert("client-nocn"), cert("inter-ec")];
    let mut chain = unrelated.to_vec();
    chain.push(cert("inter"));
    is(
        &policy(),
        &header(&cert("client-rsa"), &chain),
        "ok",
        "partner",
    );
}

#[test]
fn chain_longer_than_the_limit() {
    // root -> i1 -> i2 -> i3 -> leaf, all generated.
    let root_key = KeyPair::generate().unwrap();
    let root_params = ca_params("deep-root");
    let root = root_params.self_signed(&root_key).unwrap();
    let mut issuer = Issuer::new(root_params, root_key);
    let mut inters = Vec::new();
    for name in ["i1", "i2", "i3"] {
        let key = KeyPair::generate().unwrap();
        let params = ca_params(name);
        let c = params.signed_by(&key, &issuer).unwrap();
        inters.insert(0, ident(c.der()));
        issuer = Issuer::new(params, key);
    }
    let leaf = ident(
        leaf_params("deep")
            .signed_by(&KeyPair::generate().unwrap(), &issuer)
            .unwrap()
            .der(),
    );
    let h = header(&leaf, &inters);
    is(
        &policy_with(&root.pem(), vec![], |b| b.max_chain_intermediates(3)),
        &h,
        "ok",
        "partner",
    );
    is(
        &policy_with(&root.pem(), vec![], |b| b.max_chain_intermediates(2)),
        &h,
        "chain_invalid",
        "path_too_long",
    );
}

#[test]
fn chain_result_is_cached_only_while_the_path_is_valid() {
    // An intermediate that expires before its leaf: a cached decision must
    // not outlive it.
    let key = KeyPair::generate().unwrap();
    let mut params = ca_params("short-inter");
    params.not_after = date_time_ymd(2030, 1, 1);
    let pki = Pki::new();
    let inter = ident(params.signed_by(&key, &pki.root).unwrap().der());
    let leaf = ident(
        leaf_params("short")
            .signed_by(&KeyPair::generate().unwrap(), &Issuer::new(params, key))
            .unwrap()
            .der(),
    );
    let t = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(
        now().duration_since(UNIX_EPOCH).unwrap().as_secs(),
    ));
    let clock = {
        let t = t.clone();
        move || UNIX_EPOCH + Duration::from_secs(t.load(std::sync::atomic::Ordering::SeqCst))
    };
    let p = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(clock)
        .cache(8)
        .chain(xfcc::TrustAnchors::new(
            "partners",
            pki.root_pem.clone().into_bytes(),
        ))
        .allow(Rule::new("partner").subject_cn(["short"]).chain("partners"))
        .build()
        .unwrap();
    let h = header(&leaf, &[inter]);
    is(&p, &h, "ok", "partner");
    is(&p, &h, "ok", "partner");
    assert_eq!(p.cache_len(), 1);
    // 2031: the intermediate has expired, the leaf has not.
    t.store(1_925_000_000, std::sync::atomic::Ordering::SeqCst);
    is(&p, &h, "chain_invalid", "expired");
}

#[test]
fn anchor_configuration_errors() {
    let bad = |pem: &str| {
        Policy::builder()
            .proxy_verifies_chain(true)
            .chain(xfcc::TrustAnchors::new("p", pem.as_bytes().to_vec()))
            .allow(Rule::new("r").subject_cn(["x"]).chain("p"))
            .build()
            .unwrap_err()
            .to_string()
    };
    assert!(bad("").contains("no CERTIFICATE"));
    assert!(
        bad("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
            .contains("trust anchor 0")
    );
    let e = Policy::builder()
        .proxy_verifies_chain(true)
        .chain(
            xfcc::TrustAnchors::new("p", read("root.pem").into_bytes())
                .crls(vec![b"garbage".to_vec()]),
        )
        .allow(Rule::new("r").subject_cn(["x"]).chain("p"))
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("CRL 0"), "{e}");
    let e = Policy::builder()
        .proxy_verifies_chain(true)
        .allow(Rule::new("r").subject_cn(["x"]).chain("nope"))
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown chain anchor set \"nope\""), "{e}");
}

/// A fresh PKI with its root in `ca.pem` and, in `revoked.crl`, the
/// issuing CA's CRL revoking `client`, in a scratch directory of its own.
#[cfg(feature = "toml")]
fn pki_files(tag: &str) -> (PathBuf, Pki) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("xfcc-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pki = Pki::new();
    std::fs::write(dir.join("ca.pem"), &pki.root_pem).unwrap();
    std::fs::write(
        dir.join("revoked.crl"),
        crl_revoking(&pki, &pki.client.serial_hex()),
    )
    .unwrap();
    (dir, pki)
}

#[test]
#[cfg(feature = "toml")]
fn policy_file_names_anchor_and_crl_files() {
    let (dir, pki) = pki_files("chain");
    std::fs::write(
        dir.join("policy.toml"),
        "[[allow]]\nname = \"partner\"\nissuer = \"CN=Contoso Issuing CA 1,O=Contoso,C=US\"\nchain = \"partners\"\n\
         [chain.partners]\ntrust_anchors = \"ca.pem\"\ncrls = [\"revoked.crl\"]\nrequire_client_auth = true\n",
    )
    .unwrap();
    let p = Policy::from_toml_file(dir.join("policy.toml")).unwrap();
    let at = now();
    assert_eq!(
        p.verify_at(
            &header(&pki.other, std::slice::from_ref(&pki.inter_cert)),
            at
        )
        .unwrap()
        .rule(),
        "partner"
    );
    let r = p
        .verify_at(
            &header(&pki.client, std::slice::from_ref(&pki.inter_cert)),
            at,
        )
        .unwrap_err();
    assert_eq!((r.code(), r.detail().code()), ("chain_invalid", "revoked"));
    assert!(p.warnings().is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_allowed_client_names_the_anchor_set_and_the_anchor_it_relies_on() {
    // A rotation in progress: the set holds the old CA and the new one
    // (here an unrelated self-signed certificate and the fixture root).
    let both = format!("{}{}", read("client-selfsigned.pem"), read("root.pem"));
    let p = policy_with(&both, vec![], |b| b.cache(8));
    let h = header(&cert("client-rsa"), &[cert("inter")]);
    for _ in 0..2 {
        // Decided, then from the cache: the same answer.
        let c = p.verify(&h).unwrap();
        assert_eq!(c.anchor_set(), Some("partners"));
        assert_eq!(c.anchor(), Some("CN=Contoso Test Root CA,O=Contoso,C=US"));
    }
    // A rule without a chain names none.
    let names_only = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(now)
        .allow(Rule::new("names").subject_cn(["client-app.contoso.example"]))
        .build()
        .unwrap();
    let c = names_only.verify(&h).unwrap();
    assert_eq!((c.anchor_set(), c.anchor()), (None, None));
}

#[test]
fn crl_intervals_without_crl_urls_are_refused_not_ignored() {
    for anchors in [
        xfcc::TrustAnchors::new("partners", read("root.pem")).crl_refresh(Duration::from_secs(60)),
        xfcc::TrustAnchors::new("partners", read("root.pem")).crl_max_age(Duration::from_secs(60)),
    ] {
        let e = Policy::builder()
            .proxy_verifies_chain(true)
            .chain(anchors)
            .allow(Rule::new("r").subject_cn(["x"]).chain("partners"))
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("this anchor set has none"), "{e}");
        assert!(e.setting().starts_with("crl_"), "{e}");
    }
}

#[test]
#[cfg(feature = "toml")]
fn revocation_depth_and_unknown_status_are_set_in_the_policy_file_and_the_environment() {
    // The issuing CA's CRL revokes `client`; no CRL covers the issuing CA
    // itself (the root publishes none here).
    let (dir, pki) = pki_files("revocation");
    let file = |revocation: &str| {
        format!(
            "{revocation}[[allow]]\nname = \"partner\"\nissuer_cn = [\"Contoso Issuing CA 1\"]\nchain = \"partners\"\n\
             [chain.partners]\ntrust_anchors = \"ca.pem\"\ncrls = [\"revoked.crl\"]\n"
        )
    };
    let env = |extra: &[(&'static str, &'static str)]| {
        let anchors = dir.join("ca.pem").to_str().unwrap().to_owned();
        let crls = dir.join("revoked.crl").to_str().unwrap().to_owned();
        let mut vars = vec![
            (
                "XFCC_ALLOWED_ISSUER_CNS".to_owned(),
                "Contoso Issuing CA 1".to_owned(),
            ),
            ("XFCC_CHAIN_ANCHORS".to_owned(), anchors),
            ("XFCC_CHAIN_CRLS".to_owned(), crls),
        ];
        vars.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        xfcc::config::PolicyConfig::from_env_pairs(vars).and_then(|c| c.build())
    };
    let at = now();
    let judge = |p: &Policy| -> (String, String) {
        let one = |leaf: &CertIdentity| match p
            .verify_at(&header(leaf, std::slice::from_ref(&pki.inter_cert)), at)
        {
            Ok(_) => "ok".to_owned(),
            Err(r) => r.detail().code().to_owned(),
        };
        (one(&pki.other), one(&pki.client))
    };
    let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    for (revocation, vars, expected) in [
        // Defaults: every certificate checked, one no CRL covers allowed.
        ("", &[][..], pair("ok", "revoked")),
        (
            "[revocation]\nunknown_status = \"deny\"\n",
            &[("XFCC_REVOCATION_UNKNOWN_STATUS", "deny")][..],
            pair("revocation_unknown", "revocation_unknown"),
        ),
        (
            "[revocation]\nunknown_status = \"deny\"\ndepth = \"end-entity\"\n",
            &[
                ("XFCC_REVOCATION_UNKNOWN_STATUS", "deny"),
                ("XFCC_REVOCATION_DEPTH", "end-entity"),
            ][..],
            pair("ok", "revoked"),
        ),
    ] {
        let from_file = Policy::from_toml_str(&file(revocation), &dir).unwrap();
        assert_eq!(judge(&from_file), expected, "{revocation}");
        assert_eq!(judge(&env(vars).unwrap()), expected, "{vars:?}");
    }

    // Refused with their names: a value they do not know, and a setting
    // for CRLs where there are none.
    let e = Policy::from_toml_str(&file("[revocation]\ndepth = \"leaf\"\n"), &dir).unwrap_err();
    assert!(
        e.to_string()
            .contains("invalid depth value \"leaf\": \"chain\" or \"end-entity\""),
        "{e}"
    );
    let e = env(&[("XFCC_REVOCATION_UNKNOWN_STATUS", "maybe")]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("environment variable XFCC_REVOCATION_UNKNOWN_STATUS"),
        "{e}"
    );
    let no_crls =
        file("[revocation]\nunknown_status = \"deny\"\n").replace("crls = [\"revoked.crl\"]\n", "");
    let e = Policy::from_toml_str(&no_crls, &dir).unwrap_err();
    assert_eq!(e.setting(), "unknown_status", "{e}");
    assert!(
        e.to_string().contains("no anchor set has crls or crl_urls"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
