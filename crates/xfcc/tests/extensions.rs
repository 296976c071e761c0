//! Certificate-policy and extension rules (`certificate_policies`,
//! `extension`), on certificates rcgen builds with those extensions, read
//! back by x509-cert as an independent oracle.
#![expect(clippy::unwrap_used)]

use rcgen::{CertificateParams, CustomExtension, DnType, KeyPair};
use x509_cert::der::Decode as _;
use xfcc::{Policy, Rule, inspect::CertIdentity, outcome::IdentityFrom, render::EnvoyFields};

const DV: &str = "2.23.140.1.2.1";
const OV: &str = "2.23.140.1.2.2";
const PRIVATE: &str = "1.3.6.1.4.1.99999.7.1";
const ANY_POLICY: &str = "2.5.29.32.0";
const TIER: &str = "1.3.6.1.4.1.99999.1";
const RAW: &str = "1.3.6.1.4.1.99999.2";

/// DER of an OID from its dotted form (first two arcs combined, base 128).
fn oid_der(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().unwrap()).collect();
    let mut body = Vec::new();
    for arc in std::iter::once(arcs[0] * 40 + arcs[1]).chain(arcs[2..].iter().copied()) {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            groups.push((rest & 0x7f) as u8 | 0x80);
            rest >>= 7;
        }
        body.extend(groups.iter().rev());
    }
    tlv(0x06, &body)
}

fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = body.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend([0x81, n as u8]);
    } else {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(body);
    out
}

fn arcs(dotted: &str) -> Vec<u64> {
    dotted.split('.').map(|a| a.parse().unwrap()).collect()
}

/// certificatePolicies with `policies`; the first carries a CPS qualifier.
fn policies_ext(policies: &[&str]) -> CustomExtension {
    let mut infos = Vec::new();
    for (i, p) in policies.iter().enumerate() {
        let mut info = oid_der(p);
        if i == 0 {
            // PolicyQualifierInfo { id-qt-cps, IA5String URI }
            let q = [
                oid_der("1.3.6.1.5.5.7.2.1"),
                tlv(0x16, b"https://pki.example/cps"),
            ]
            .concat();
            info.extend(tlv(0x30, &tlv(0x30, &q)));
        }
        infos.extend(tlv(0x30, &info));
    }
    CustomExtension::from_oid_content(&arcs("2.5.29.32"), tlv(0x30, &infos))
}

fn leaf(exts: Vec<CustomExtension>) -> CertIdentity {
    let mut p = CertificateParams::new(vec!["client.example".to_owned()]).unwrap();
    p.distinguished_name
        .push(DnType::CommonName, "client.example");
    p.custom_extensions = exts;
    let key = KeyPair::generate().unwrap();
    CertIdentity::from_der(p.self_signed(&key).unwrap().der().to_vec()).unwrap()
}

fn header(c: &CertIdentity) -> String {
    xfcc::render::render_envoy(&[], c, &[], EnvoyFields::ACA)
}

fn standard() -> CertIdentity {
    leaf(vec![
        policies_ext(&[DV, PRIVATE]),
        CustomExtension::from_oid_content(&arcs(TIER), tlv(0x0c, b"production")),
        CustomExtension::from_oid_content(&arcs(RAW), vec![0x04, 0x02, 0xbe, 0xef]),
    ])
}

fn policy(rule: Rule) -> Policy {
    Policy::builder()
        .proxy_verifies_chain(true)
        .allow(rule)
        .build()
        .unwrap()
}

#[test]
fn policy_oids_are_read_as_x509_cert_reads_them() {
    let c = standard();
    assert_eq!(c.certificate_policies(), [DV, PRIVATE]);
    let cert = x509_cert::Certificate::from_der(c.der()).unwrap();
    let ext = cert
        .tbs_certificate()
        .extensions()
        .unwrap()
        .iter()
        .find(|e| e.extn_id.to_string() == "2.5.29.32")
        .unwrap();
    let theirs =
        x509_cert::ext::pkix::CertificatePolicies::from_der(ext.extn_value.as_bytes()).unwrap();
    let theirs: Vec<String> = theirs
        .0
        .iter()
        .map(|p| p.policy_identifier.to_string())
        .collect();
    assert_eq!(c.certificate_policies(), theirs);
    // Every extension, and one by OID: the value its OCTET STRING holds.
    let oids = c.extension_oids();
    for o in ["2.5.29.32", TIER, RAW] {
        assert!(oids.iter().any(|x| x == o), "{o} not in {oids:?}");
    }
    assert_eq!(c.extension(RAW), Some(&[0x04, 0x02, 0xbe, 0xef][..]));
    assert_eq!(c.extension("1.2.3.4"), None);
    assert_eq!(c.extension("not an oid"), None);
    assert!(leaf(vec![]).certificate_policies().is_empty());
}

#[test]
fn a_certificate_policy_rule_allows_a_leaf_that_asserts_one_of_its_policies() {
    let c = standard();
    let dv = policy(Rule::new("dv").certificate_policies([OV, DV]));
    assert_eq!(dv.verify(&header(&c)).unwrap().rule(), "dv");
    let ov = policy(Rule::new("ov").certificate_policies([OV]));
    let r = ov.verify(&header(&c)).unwrap_err();
    assert_eq!(r.code(), "not_allowed");
    let why = r.explanation().unwrap();
    assert_eq!(why.rules()[0].failed(), ["certificate_policies"]);
    // What the leaf asserts is shown, never what the rule pins.
    assert_eq!(
        why.rules()[0].seen(),
        [
            format!("certificate_policies: {DV}"),
            format!("certificate_policies: {PRIVATE}")
        ]
    );
    let line = why.to_string();
    assert!(
        line.contains(&format!(
            "rule \"ov\" failed certificate_policies (certificate has certificate_policies: {DV}"
        )),
        "{line}"
    );
    assert!(!line.contains(OV), "{line}");
    // No extension at all: "none".
    let r = ov.verify(&header(&leaf(vec![]))).unwrap_err();
    assert_eq!(
        r.explanation().unwrap().rules()[0].seen(),
        ["certificate_policies: none"]
    );
    // anyPolicy in the leaf is not every policy: it matches only when listed.
    let any = leaf(vec![policies_ext(&[ANY_POLICY])]);
    assert_eq!(ov.verify(&header(&any)).unwrap_err().code(), "not_allowed");
    let listed = policy(Rule::new("any").certificate_policies([ANY_POLICY]));
    assert!(listed.verify(&header(&any)).is_ok());
}

#[test]
fn an_extension_rule_checks_presence_a_string_value_or_exact_bytes() {
    let c = standard();
    let allowed = |spec: &str| {
        policy(Rule::new("ext").extension([spec]))
            .verify(&header(&c))
            .map(|a| a.rule().to_owned())
            .map_err(|r| r.explanation().unwrap().rules()[0].seen().to_vec())
    };
    assert_eq!(allowed(TIER).unwrap(), "ext");
    assert_eq!(allowed(&format!("{TIER}=\"production\"")).unwrap(), "ext");
    assert_eq!(
        allowed(&format!("{TIER} = 0C0A70726F64756374696F6E")).unwrap(),
        "ext"
    );
    assert_eq!(allowed(&format!("{RAW}=04:02:be:ef")).unwrap(), "ext");
    // A wrong value: the certificate's value is shown, in hex.
    assert_eq!(
        allowed(&format!("{TIER}=\"staging\"")).unwrap_err(),
        [format!("extension {TIER}: 0C0A70726F64756374696F6E")]
    );
    // Text is compared with a string value only, not with raw bytes.
    assert!(allowed(&format!("{RAW}=\"\\u{{4}}\"")).is_err());
    assert_eq!(
        allowed("1.2.3.4").unwrap_err(),
        ["extension 1.2.3.4: absent"]
    );
    // Any of the listed extensions.
    let either = policy(Rule::new("either").extension(["1.2.3.4", RAW]));
    assert!(either.verify(&header(&c)).is_ok());
}

#[test]
fn what_an_explanation_shows_is_bounded() {
    let many: Vec<String> = (0..50)
        .map(|i| format!("1.3.6.1.4.1.99999.9.{i}"))
        .collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let big = vec![0x41; 2000];
    let c = leaf(vec![
        policies_ext(&refs),
        CustomExtension::from_oid_content(&arcs(TIER), tlv(0x04, &big)),
    ]);
    assert_eq!(c.certificate_policies().len(), 50);
    let r = policy(
        Rule::new("r")
            .certificate_policies([OV])
            .extension([format!("{TIER}=\"x\"")]),
    )
    .verify(&header(&c))
    .unwrap_err();
    let why = r.explanation().unwrap();
    let seen = why.rules()[0].seen();
    assert_eq!(seen.len(), 8, "{seen:?}");
    let r = policy(Rule::new("r").extension([format!("{TIER}=\"x\"")]))
        .verify(&header(&c))
        .unwrap_err();
    let seen = r.explanation().unwrap().rules()[0].seen().to_vec();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].ends_with("...(+1972 bytes)"), "{seen:?}");
    assert!(seen[0].len() < 200, "{seen:?}");
    assert!(r.explanation().unwrap().to_string().len() < 3 * 1024);
}

#[test]
fn bad_oids_and_values_are_refused_at_build_naming_the_setting() {
    for (rule, key, value) in [
        (
            Rule::new("r").certificate_policies(["2.23.140.x"]),
            "certificate_policies",
            "2.23.140.x",
        ),
        (
            Rule::new("r").certificate_policies(["3.1.2"]),
            "certificate_policies",
            "3.1.2",
        ),
        (
            Rule::new("r").certificate_policies(["1"]),
            "certificate_policies",
            "1",
        ),
        (
            Rule::new("r").extension(["1.2.3=zz"]),
            "extension",
            "1.2.3=zz",
        ),
        (
            Rule::new("r").extension(["1.2.3=ABC"]),
            "extension",
            "1.2.3=ABC",
        ),
        (Rule::new("r").extension(["1.2.3="]), "extension", "1.2.3="),
        (
            Rule::new("r").extension(["production"]),
            "extension",
            "production",
        ),
        (Rule::new("r").extension(["=\"x\""]), "extension", "=\"x\""),
    ] {
        let e = Policy::builder()
            .proxy_verifies_chain(true)
            .allow(rule)
            .build()
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(key) && msg.contains(&format!("{value:?}")),
            "{msg}"
        );
    }
    let long = format!("1.2.3=\"{}\"", "x".repeat(1025));
    let e = Policy::builder()
        .proxy_verifies_chain(true)
        .allow(Rule::new("r").extension([long]))
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("at most 1024 bytes"), "{e}");
    let e = Policy::builder()
        .proxy_verifies_chain(true)
        .allow(Rule::new("r").certificate_policies(Vec::<String>::new()))
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("certificate_policies"), "{e}");
    // Proxy fields carry no extensions: refused, by name.
    for (rule, key) in [
        (
            Rule::new("r").certificate_policies([DV]),
            "certificate_policies",
        ),
        (Rule::new("r").extension([TIER]), "extension"),
    ] {
        let e = Policy::builder()
            .proxy_verifies_chain(true)
            .identity_from(IdentityFrom::ProxyFields)
            .trusted_peers(["10.0.0.0/8"])
            .allow(rule)
            .build()
            .unwrap_err();
        assert!(e.to_string().contains(key), "{e}");
    }
}

#[test]
#[cfg(feature = "toml")]
fn the_file_and_the_environment_read_both_keys() {
    let c = standard();
    let file = xfcc::config::PolicyConfig::from_toml_str(
        &format!(
            "proxy_verifies_chain = true\n[[allow]]\nname = \"f\"\ncertificate_policies = [\"{DV}\"]\nextension = ['{TIER}=\"production\"']\n"
        ),
        std::path::Path::new("."),
    )
    .unwrap()
    .build()
    .unwrap();
    assert_eq!(file.verify(&header(&c)).unwrap().rule(), "f");
    // A self-signed certificate asserts what it likes: still names-only.
    let codes: Vec<&str> = file
        .warnings()
        .iter()
        .map(xfcc::outcome::Warning::code)
        .collect();
    assert_eq!(codes, ["names_only_rule"]);
    let env = Policy::from_env_pairs([
        ("XFCC_PROXY_VERIFIES_CHAIN", "true"),
        ("XFCC_ALLOWED_CERTIFICATE_POLICIES", OV),
        ("XFCC_ALLOWED_EXTENSIONS", TIER),
    ])
    .unwrap();
    assert_eq!(env.verify(&header(&c)).unwrap_err().code(), "not_allowed");
    let e = Policy::from_env_pairs([("XFCC_ALLOWED_EXTENSIONS", "1.2.3=zz")]).unwrap_err();
    assert!(e.to_string().contains("XFCC_ALLOWED_EXTENSIONS"), "{e}");
}
