//! Fuzz target bodies, shared by the libFuzzer binaries in `fuzz_targets/`
//! and by the stable corpus-replay test in `tests/corpus.rs` (with the x509-cert and webpki agreement test in
//! `tests/x509_agreement.rs`).
//! Each panics only when an invariant the library promises is broken.
#![forbid(unsafe_code)]

use arbitrary::{Arbitrary, Unstructured};
use xfcc::{
    Format,
    inspect::{CertIdentity, Limits, ParseOptions, Syntax, XfccHeader},
    render::EnvoyFields,
};

/// Header parsing in every format; the first byte picks the format and syntax.
pub fn parse(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let format = Format::ALL[usize::from(selector) % Format::ALL.len()];
    let syntax = if selector & 0x80 == 0 {
        Syntax::Strict
    } else {
        Syntax::Lenient
    };
    let opts = ParseOptions::DEFAULT.with_syntax(syntax);
    match XfccHeader::parse_bytes(rest, &opts) {
        Ok(header) => {
            assert!(header.len() >= 1);
            assert_eq!(header.elements().count(), header.len());
            for e in header.elements() {
                assert!(e.offset() < rest.len());
                // One header, one form (Envoy's text or JSON).
                assert_eq!(e.is_json(), header.is_json());
                for p in e.pairs() {
                    assert!(p.value().offset() <= rest.len());
                    // Undoing JSON escapes never panics, and a value
                    // without one is borrowed as it is.
                    let text = p.value().text();
                    if !p.value().raw().contains('\\') || !header.is_json() {
                        assert_eq!(&*text, p.value().raw());
                    }
                }
                if let Ok(fc) = e.decode() {
                    // Whatever decodes must be consistent with what it came with.
                    assert_eq!(e.inconsistencies(&fc).count(), 0);
                }
            }
            let _ = header.check_all(&Limits::DEFAULT);
        }
        Err(err) => assert!(err.offset() <= opts.limits().bytes().max(rest.len())),
    }
    if format != Format::Envoy
        && let Ok(s) = std::str::from_utf8(rest)
    {
        let (value, chain) = s.split_once('\n').map_or((s, None), |(a, b)| (a, Some(b)));
        let _ = format.decode(value, chain, &Limits::DEFAULT);
    }
}

/// Certificate decoding: text encodings, raw DER and DN strings.
pub fn decode(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(c) = xfcc::inspect::decode_certificate(s) {
            check_identity(&c);
        }
        if let Ok(dn) = xfcc::inspect::DistinguishedName::parse(s) {
            // RFC 4514 output parses back to the same name.
            let again = xfcc::inspect::DistinguishedName::parse(&dn.to_string())
                .expect("re-parse RFC 4514");
            assert_eq!(again, dn);
            let openssl = xfcc::inspect::DistinguishedName::parse(&dn.to_openssl_rfc2253())
                .expect("re-parse 2253");
            assert_eq!(openssl, dn);
        }
    }
    if let Ok(c) = CertIdentity::from_der(data.to_vec()) {
        check_identity(&c);
        agrees_with_x509_cert(data, &c);
    }
}

/// xfcc reads certificates with its own borrowed DER walker. Two oracles
/// hold it to account: x509-cert must accept what it accepts and read the
/// same values, except where x509-cert cannot represent a valid
/// certificate (OID arcs over 32 bits; UniversalString and GraphicString
/// values), and rustls-webpki, wherever it parses the certificate too,
/// must read the same serial, key, DNS and URI names.
pub fn agrees_with_x509_cert(der: &[u8], c: &CertIdentity) {
    agrees_with_webpki(der, c);
    use x509_cert::der::Decode;
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};

    let cert = match x509_cert::Certificate::from_der(der) {
        Ok(cert) => cert,
        // A real date before 1970 reads here as the negative seconds it
        // is; x509-cert refuses it.
        Err(e)
            if matches!(
                e.kind(),
                x509_cert::der::ErrorKind::DateTime
                    | x509_cert::der::ErrorKind::Value {
                        tag: x509_cert::der::Tag::UtcTime | x509_cert::der::Tag::GeneralizedTime
                    }
            ) && (c.not_before_unix() < 0 || c.not_after_unix() < 0) =>
        {
            return;
        }
        Err(e) => {
            assert!(
                unrepresentable(e.kind()),
                "x509-cert refuses what xfcc reads, and not for a documented reason: {e}"
            );
            return;
        }
    };
    let tbs = cert.tbs_certificate();
    assert_eq!(tbs.serial_number().as_bytes(), c.serial(), "serial");
    let secs = |t: &x509_cert::time::Time| i64::try_from(t.to_unix_duration().as_secs()).ok();
    assert_eq!(secs(&tbs.validity().not_before), Some(c.not_before_unix()));
    assert_eq!(secs(&tbs.validity().not_after), Some(c.not_after_unix()));
    for (name, ours) in [
        (tbs.subject(), c.subject_name()),
        (tbs.issuer(), c.issuer_name()),
    ] {
        use x509_cert::der::{Tag, Tagged};
        let theirs: Vec<Vec<Attr>> = name
            .iter_rdn()
            .map(|rdn| {
                rdn.iter()
                    .map(|a| {
                        // Every string type, decoded here independently as
                        // OpenSSL (and so Envoy) reads it: UTF8String as
                        // UTF-8, the one-byte types as Latin-1, BMPString as
                        // UTF-16. (UniversalString never gets here:
                        // x509-cert refuses it.) Other types stay DER.
                        let bytes = a.value.value();
                        let latin1 = || bytes.iter().map(|&b| char::from(b)).collect::<String>();
                        let text: Option<String> = match a.value.tag() {
                            Tag::Utf8String => std::str::from_utf8(bytes).ok().map(str::to_owned),
                            Tag::PrintableString
                            | Tag::Ia5String
                            | Tag::VisibleString
                            | Tag::NumericString
                            | Tag::TeletexString
                            | Tag::GeneralString
                            | Tag::UtcTime
                            | Tag::GeneralizedTime => Some(latin1()),
                            Tag::BmpString if bytes.len() % 2 == 0 => char::decode_utf16(
                                bytes
                                    .chunks_exact(2)
                                    .map(|c| u16::from_be_bytes([c[0], c[1]])),
                            )
                            .collect::<Result<String, _>>()
                            .ok(),
                            _ => None,
                        };
                        (a.oid.as_bytes().to_vec(), text.map(String::into_bytes))
                    })
                    .collect()
            })
            .collect();
        let ours: Vec<Vec<Attr>> = ours
            .rdns()
            .map(|rdn| {
                rdn.iter()
                    .map(|a| {
                        (
                            a.oid_der().to_vec(),
                            a.value().map(|t| t.as_bytes().to_vec()),
                        )
                    })
                    .collect()
            })
            .collect();
        assert_eq!(ours.len(), theirs.len(), "RDN count");
        for (o, t) in ours.iter().zip(&theirs) {
            // x509-cert sorts a SET OF; xfcc keeps the encoded order.
            assert_eq!(o.len(), t.len(), "attributes in an RDN");
            let mut unused: Vec<_> = o.iter().collect();
            for (oid, value) in t {
                let at = unused
                    .iter()
                    .position(|(o_oid, o_value)| {
                        o_oid == oid && (value.is_none() || o_value == value)
                    })
                    .expect("same attribute read");
                unused.swap_remove(at);
            }
        }
    }
    // The key, from x509-cert's SubjectPublicKeyInfo.
    let spki = tbs.subject_public_key_info();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<x509_cert::der::asn1::ObjectIdentifier>().ok())
        .map(|o| o.to_string());
    let key = c.public_key().to_string();
    match (spki.algorithm.oid.to_string().as_str(), curve.as_deref()) {
        ("1.2.840.113549.1.1.1", _) => assert!(key.starts_with("rsa-"), "key {key}"),
        ("1.2.840.10045.2.1", Some("1.2.840.10045.3.1.7")) => assert_eq!(key, "ecdsa-p256"),
        ("1.2.840.10045.2.1", Some("1.3.132.0.34")) => assert_eq!(key, "ecdsa-p384"),
        ("1.2.840.10045.2.1", Some("1.3.132.0.35")) => assert_eq!(key, "ecdsa-p521"),
        ("1.3.101.112", _) => assert_eq!(key, "ed25519"),
        ("1.3.101.113", _) => assert_eq!(key, "ed448"),
        // const-oid prints an arc over 32 bits wrongly (xfcc prints it in
        // full): compare the name only where const-oid can hold it.
        (_, _) if has_wide_arc(spki.algorithm.oid.as_bytes()) => {
            assert!(key.starts_with("other-"), "key {key}");
        }
        (alg, _) => assert!(
            key.starts_with(&format!("other-{alg}")),
            "key {key} for {alg}"
        ),
    }
    let (mut dns, mut uri, mut email, mut ip) = (vec![], vec![], vec![], vec![]);
    let mut ekus = vec![];
    for ext in tbs.extensions().map(|e| e.as_slice()).unwrap_or(&[]) {
        let value = ext.extn_value.as_bytes();
        if ext.extn_id == SUBJECT_ALT_NAME {
            // x509-cert cannot hold an OID arc over 32 bits (in an
            // otherName or registeredID): then only webpki compares.
            let names = match SubjectAltName::from_der(value) {
                Ok(SubjectAltName(names)) => names,
                Err(e) if unrepresentable(e.kind()) => return,
                Err(e) => panic!("SAN decodes: {e}"),
            };
            for n in names {
                match n {
                    GeneralName::DnsName(s) => dns.push(s.to_string()),
                    GeneralName::UniformResourceIdentifier(s) => uri.push(s.to_string()),
                    GeneralName::Rfc822Name(s) => email.push(s.to_string()),
                    GeneralName::IpAddress(o) => match o.as_bytes().len() {
                        4 | 16 => ip.push(o.as_bytes().to_vec()),
                        _ => {}
                    },
                    _ => {}
                }
            }
        } else if ext.extn_id == EXT_KEY_USAGE {
            match ExtendedKeyUsage::from_der(value) {
                // const-oid misprints arcs over 32 bits: compare the rest.
                Ok(ExtendedKeyUsage(oids)) if oids.iter().any(|o| has_wide_arc(o.as_bytes())) => {
                    ekus = c.extended_key_usages();
                }
                Ok(ExtendedKeyUsage(oids)) => {
                    ekus = oids.iter().map(ToString::to_string).collect();
                }
                // An EKU x509-cert cannot hold (an arc over 32 bits).
                Err(e) if unrepresentable(e.kind()) => {
                    ekus = c.extended_key_usages();
                }
                Err(e) => panic!("EKU decodes: {e}"),
            }
        } else if ext.extn_id == CERTIFICATE_POLICIES {
            // What a `certificate_policies` rule reads. xfcc frames the
            // qualifiers without reading them, so only where x509-cert
            // reads the list (and can hold its OIDs) must they agree.
            if let Ok(policies) = x509_cert::ext::pkix::CertificatePolicies::from_der(value)
                && !policies
                    .0
                    .iter()
                    .any(|p| has_wide_arc(p.policy_identifier.as_bytes()))
            {
                let theirs: Vec<String> = policies
                    .0
                    .iter()
                    .map(|p| p.policy_identifier.to_string())
                    .collect();
                assert_eq!(c.certificate_policies(), theirs, "certificate policies");
            }
        }
        // Every extension is found by its OID, with the same value.
        if !has_wide_arc(ext.extn_id.as_bytes()) {
            assert_eq!(
                c.extension(&ext.extn_id.to_string()),
                Some(value),
                "extension value"
            );
        }
    }
    assert_eq!(c.san().dns(), dns.as_slice(), "DNS SANs");
    assert_eq!(c.san().uri(), uri.as_slice(), "URI SANs");
    assert_eq!(c.san().email(), email.as_slice(), "e-mail SANs");
    let our_ip: Vec<Vec<u8>> = c
        .san()
        .ip()
        .iter()
        .map(|a| match a {
            std::net::IpAddr::V4(v) => v.octets().to_vec(),
            std::net::IpAddr::V6(v) => v.octets().to_vec(),
        })
        .collect();
    assert_eq!(our_ip, ip, "IP SANs");
    assert_eq!(c.extended_key_usages(), ekus, "EKUs");
}

/// What x509-cert cannot represent of a valid certificate: OID arcs over
/// 32 bits, OIDs longer than const-oid's 39 bytes, UniversalString and
/// GraphicString values.
fn unrepresentable(kind: x509_cert::der::ErrorKind) -> bool {
    use x509_cert::der::ErrorKind as K;
    matches!(
        kind,
        K::OidMalformed
            | K::TagUnknown { byte: 0x19 | 0x1c }
            | K::Length {
                tag: x509_cert::der::Tag::ObjectIdentifier
            }
    )
}

/// Whether an encoded OID has an arc that needs more than 32 bits.
fn has_wide_arc(oid: &[u8]) -> bool {
    oid.split_inclusive(|b| b & 0x80 == 0)
        .any(|arc| arc.len() > 5 || (arc.len() == 5 && arc[0] > 0x8f))
}

/// An attribute as both oracles compare it: type (OID contents) and,
/// for plain text, the value's bytes.
type Attr = (Vec<u8>, Option<Vec<u8>>);

/// The second oracle: where rustls-webpki parses the certificate as an
/// end-entity certificate, it reads the same serial and key, and its valid
/// DNS and URI names are exactly xfcc's, in order, less those webpki
/// deems invalid.
fn agrees_with_webpki(der: &[u8], c: &CertIdentity) {
    let der = rustls_pki_types::CertificateDer::from(der);
    let Ok(ee) = webpki::EndEntityCert::try_from(&der) else {
        return;
    };
    // Both keep the INTEGER's bytes as encoded (sign byte included).
    assert_eq!(ee.serial(), c.serial(), "webpki: serial");
    let subsequence = |theirs: Vec<&str>, ours: &[String]| {
        let mut ours = ours.iter();
        theirs.iter().all(|t| ours.any(|o| o == t))
    };
    assert!(
        subsequence(ee.valid_dns_names().collect(), c.san().dns()),
        "webpki: DNS names"
    );
    assert!(
        subsequence(ee.valid_uri_names().collect(), c.san().uri()),
        "webpki: URI names"
    );
}

const SUBJECT_ALT_NAME: x509_cert::der::oid::ObjectIdentifier =
    x509_cert::der::oid::ObjectIdentifier::new_unwrap("2.5.29.17");
const EXT_KEY_USAGE: x509_cert::der::oid::ObjectIdentifier =
    x509_cert::der::oid::ObjectIdentifier::new_unwrap("2.5.29.37");
const CERTIFICATE_POLICIES: x509_cert::der::oid::ObjectIdentifier =
    x509_cert::der::oid::ObjectIdentifier::new_unwrap("2.5.29.32");

fn check_identity(c: &CertIdentity) {
    assert_eq!(c.sha256_hex().len(), 64);
    let dn = xfcc::inspect::DistinguishedName::parse(c.subject()).expect("own subject parses");
    assert_eq!(&dn, c.subject_name());
    let _ = c.public_key().to_string();
}

const CERTS: &[&[u8]] = &[
    include_bytes!("../../crates/xfcc/tests/fixtures/certs/client-rsa.der"),
    include_bytes!("../../crates/xfcc/tests/fixtures/certs/client-p256.der"),
    include_bytes!("../../crates/xfcc/tests/fixtures/certs/client-utf8.der"),
    include_bytes!("../../crates/xfcc/tests/fixtures/certs/client-many-sans.der"),
    include_bytes!("../../crates/xfcc/tests/fixtures/certs/evil-uri.der"),
    include_bytes!("../../crates/xfcc/tests/fixtures/certs/client-uuid-oids.der"),
    include_bytes!("../../crates/xfcc/tests/fixtures/certs/client-universal.der"),
    include_bytes!("../../crates/xfcc/tests/fixtures/certs/client-x520.der"),
];

/// One change to one TLV of a fixture certificate.
#[derive(Debug, Arbitrary)]
enum Mutation {
    /// Replace the identifier octet.
    Tag(u8),
    /// Replace the first length octet.
    Length(u8),
    /// Replace a contents byte (index modulo the length).
    Byte(u16, u8),
    /// Insert a byte into the contents.
    Insert(u16, u8),
    /// Remove a contents byte.
    Remove(u16),
    /// Replace the contents with these bytes (lengths fixed up outward).
    Contents(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
struct Structured {
    cert: u8,
    edits: Vec<(u16, Mutation)>,
}

/// A certificate as a tree of TLVs, so that a change to one field keeps
/// every enclosing length right.
struct Tlv {
    tag: u8,
    /// Contents of a primitive TLV (or of a constructed one that failed to
    /// split into TLVs).
    contents: Vec<u8>,
    children: Option<Vec<Tlv>>,
    /// A raw first length octet that replaces the computed one.
    length: Option<u8>,
}

fn split(der: &[u8], depth: usize) -> Option<Vec<Tlv>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < der.len() {
        let tag = *der.get(i)?;
        let first = *der.get(i + 1)?;
        let (len, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let n = usize::from(first & 0x7f);
            let octets = der.get(i + 2..i + 2 + n).filter(|_| (1..=3).contains(&n))?;
            (
                octets.iter().fold(0usize, |a, &b| a << 8 | usize::from(b)),
                2 + n,
            )
        };
        let contents = der.get(i + header..i + header + len)?;
        let children = (tag & 0x20 != 0 && depth < 16)
            .then(|| split(contents, depth + 1))
            .flatten();
        out.push(Tlv {
            tag,
            contents: if children.is_some() {
                Vec::new()
            } else {
                contents.to_vec()
            },
            children,
            length: None,
        });
        i += header + len;
    }
    Some(out)
}

fn encode(nodes: &[Tlv], out: &mut Vec<u8>) {
    for n in nodes {
        let mut body = Vec::new();
        match &n.children {
            Some(c) => encode(c, &mut body),
            None => body.extend_from_slice(&n.contents),
        }
        out.push(n.tag);
        match (n.length, body.len()) {
            (Some(l), _) => out.push(l),
            (None, len @ 0..=0x7f) => out.push(len as u8),
            (None, len @ 0x80..=0xff) => out.extend([0x81, len as u8]),
            (None, len) => out.extend([0x82, (len >> 8) as u8, len as u8]),
        }
        out.extend(body);
    }
}

/// Structure-aware decoding: a fixture certificate with up to eight
/// field-level changes, each aimed at one TLV (the index picks it among
/// all TLVs in pre-order, nested ones included), re-encoded with correct
/// lengths, then [`decode`].
pub fn decode_structured(data: &[u8]) {
    let Ok(input) = Structured::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let der = CERTS[usize::from(input.cert) % CERTS.len()];
    let Some(mut tree) = split(der, 0) else {
        return;
    };
    for (index, mutation) in input.edits.into_iter().take(8) {
        let count = count(&tree);
        let Some(node) = pick(&mut tree, usize::from(index) % count.max(1)) else {
            break;
        };
        let at = |i: u16, len: usize| usize::from(i) % len.max(1);
        match mutation {
            Mutation::Tag(t) => node.tag = t,
            Mutation::Length(l) => node.length = Some(l),
            Mutation::Byte(i, b) if !node.contents.is_empty() => {
                let i = at(i, node.contents.len());
                node.contents[i] = b;
            }
            Mutation::Insert(i, b) if node.children.is_none() => {
                let i = at(i, node.contents.len() + 1);
                node.contents.insert(i, b);
            }
            Mutation::Remove(i) if !node.contents.is_empty() => {
                let i = at(i, node.contents.len());
                node.contents.remove(i);
            }
            Mutation::Contents(bytes) => {
                node.children = None;
                node.contents = bytes.into_iter().take(256).collect();
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    encode(&tree, &mut out);
    decode(&out);
}

fn count(nodes: &[Tlv]) -> usize {
    nodes
        .iter()
        .map(|n| 1 + n.children.as_deref().map_or(0, count))
        .sum()
}

fn pick(nodes: &mut [Tlv], mut k: usize) -> Option<&mut Tlv> {
    for n in nodes {
        if k == 0 {
            return Some(n);
        }
        k -= 1;
        let below = n.children.as_deref().map_or(0, count);
        if k < below {
            return pick(n.children.as_deref_mut()?, k);
        }
        k -= below;
    }
    None
}

#[derive(Debug, Arbitrary)]
struct Hop {
    cert: u8,
    chain: Vec<u8>,
    by: Vec<String>,
    fields: u8,
}

/// Render an arbitrary multi-hop header, parse it back, compare.
pub fn roundtrip(data: &[u8]) {
    let Ok(hops) = Vec::<Hop>::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    if hops.is_empty() || hops.len() > 8 {
        return;
    }
    let cert = |i: u8| {
        CertIdentity::from_der(CERTS[usize::from(i) % CERTS.len()].to_vec()).expect("fixture")
    };
    // The first hop's top bit picks Envoy's JSON form for the whole header
    // (one header has one form), where every value is escaped.
    let json = hops[0].fields & 128 != 0;
    let mut rendered = Vec::new();
    let mut clean = true;
    for hop in &hops {
        let f = hop.fields;
        let mut fields = EnvoyFields::NONE;
        fields.hash = f & 1 != 0;
        fields.cert = f & 2 != 0 || f & 4 == 0;
        fields.chain = f & 4 != 0;
        fields.subject = f & 8 != 0;
        fields.uri = f & 16 != 0;
        fields.dns = f & 32 != 0;
        fields.issuer = f & 64 != 0;
        let by: Vec<&str> = hop.by.iter().take(4).map(String::as_str).collect();
        if !json {
            // Values Envoy would write unquoted, and that therefore stay one pair.
            clean &= by.iter().all(|b| {
                !b.is_empty()
                    && !b
                        .bytes()
                        .any(|c| matches!(c, b',' | b';' | b'"') || c < 0x20 || c == 0x7f)
            });
            // evil-uri's URI SAN deliberately contains delimiters.
            clean &= !(hop.cert as usize % CERTS.len() == 4 && fields.uri);
        }
        let chain: Vec<CertIdentity> = hop.chain.iter().take(3).map(|&i| cert(i)).collect();
        let leaf = cert(hop.cert);
        let text = if json {
            let one = xfcc::render::render_envoy_json(&by, &leaf, &chain, fields);
            // The object alone: the hops are joined into one array below.
            one[1..one.len() - 1].to_owned()
        } else {
            xfcc::render::render_envoy(&by, &leaf, &chain, fields)
        };
        rendered.push((text, leaf, by.clone()));
    }
    let joined = rendered
        .iter()
        .map(|(s, _, _)| s.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let value = if json { format!("[{joined}]") } else { joined };
    let parsed = XfccHeader::parse(&value);
    if value.len() > Limits::DEFAULT.bytes() {
        // Many hops with long chains: the size limit must reject it.
        let kind = parsed.expect_err("over the byte limit").kind();
        assert_eq!(kind, xfcc::error::ParseErrorKind::TooLong);
        return;
    }
    if !clean {
        return;
    }
    // A JSON header with a control character in a `by` is refused (the
    // header cannot carry one); anything else renders and parses back.
    if json && parsed.is_err() {
        let kind = parsed.as_ref().err().map(xfcc::error::ParseError::kind);
        assert!(
            rendered
                .iter()
                .any(|(_, _, by)| by.iter().any(|b| b.chars().any(char::is_control))),
            "{kind:?}"
        );
        return;
    }
    let header = parsed.expect("clean render parses");
    assert_eq!(header.is_json(), json);
    assert_eq!(header.len(), rendered.len());
    for ((_, leaf, by), e) in rendered.iter().zip(header.elements()) {
        // In the JSON form every `by` is exactly what was written.
        let got: Vec<String> = e.by().map(|v| v.text().into_owned()).collect();
        if json {
            assert_eq!(&got, by);
        } else {
            assert_eq!(got.len(), by.len());
        }
        let fc = e.decode().expect("rendered element is consistent");
        assert_eq!(fc.leaf(), leaf);
    }
}

/// Full verification with a fixed policy (a thumbprint pin on the RSA
/// client, any element count, trust the last): never panics, and whatever
/// it accepts really is the pinned certificate.
pub fn verify(data: &[u8]) {
    use std::sync::OnceLock;
    use std::time::Duration;
    static POLICY: OnceLock<(xfcc::Policy, xfcc::Policy, CertIdentity)> = OnceLock::new();
    let (policy, cached, pinned) = POLICY.get_or_init(|| {
        let pinned = CertIdentity::from_der(CERTS[0].to_vec()).expect("fixture");
        let at = pinned.not_before() + Duration::from_secs(86_400);
        let build = |cache| {
            xfcc::Policy::builder()
                .clock(move || at)
                .cache(cache)
                .elements(xfcc::ElementCount::Any)
                .trust_element(-1)
                .allow(xfcc::Rule::new("pin").thumbprint([pinned.sha256_hex()]))
                .build()
                .expect("policy")
        };
        (build(0), build(64), pinned)
    });
    let outcome = |r: Result<Option<xfcc::ClientCert>, xfcc::Rejection>| match r {
        Ok(c) => Ok(c.and_then(|c| c.certificate().cloned())),
        Err(e) => Err((e.code(), e.detail().code())),
    };
    let uncached = outcome(policy.verify_header_values([data]));
    if let Ok(Some(cert)) = &uncached {
        assert_eq!(cert, pinned);
    }
    // The cache never changes an answer: not on the first sight of a
    // header (a miss) nor on the second (a hit, or a miss when the first
    // was not stored).
    for _ in 0..2 {
        assert_eq!(outcome(cached.verify_header_values([data])), uncached);
    }
}

/// `[[trusted_proxies]]`: a connection's certificate chain, anything at
/// all, judged as a proxy's. `data` is the chain: length-prefixed
/// certificates (two bytes, big-endian, then that many bytes), at most 12;
/// what is left over is one more. Never panics; allows the header only
/// over edge.pem (pinned by thumbprint) or over a chain to the fixture root
/// whose leaf has the edge's SPIFFE ID, and by the element's `By`; and
/// answers the same when the connection's next request asks again (the
/// decision remembered on its `PeerCert`). Returns the entry that allowed
/// it, or the refusal's codes.
pub fn peer(data: &[u8]) -> Result<Option<String>, (&'static str, &'static str)> {
    use std::sync::{Arc, OnceLock};
    const EDGE: &[u8] = include_bytes!("../../crates/xfcc/tests/fixtures/certs/edge.der");
    const EDGE_ID: &str = "spiffe://xfcc.test/ns/edge/sa/envoy";
    static POLICY: OnceLock<(xfcc::Policy, String)> = OnceLock::new();
    let (policy, header) = POLICY.get_or_init(|| {
        let edge = CertIdentity::from_der(EDGE.to_vec()).expect("fixture");
        let client = CertIdentity::from_der(CERTS[0].to_vec()).expect("fixture");
        let at = edge.not_before() + std::time::Duration::from_secs(86_400);
        let root = include_str!("../../crates/xfcc/tests/fixtures/certs/root.pem").to_owned()
            + include_str!("../../crates/xfcc/tests/fixtures/certs/inter.pem");
        let policy = xfcc::Policy::builder()
            .clock(move || at)
            .chain(xfcc::TrustAnchors::new("mesh", root))
            .trusted_proxies([
                xfcc::TrustedProxy::new(xfcc::Rule::new("pinned").thumbprint([edge.sha256_hex()])),
                xfcc::TrustedProxy::new(xfcc::Rule::new("mesh").chain("mesh").spiffe_id([EDGE_ID])),
            ])
            .allow(xfcc::Rule::new("pin").thumbprint([client.sha256_hex()]))
            .build()
            .expect("policy");
        let header =
            xfcc::render::render_envoy(&[EDGE_ID], &client, &[], xfcc::render::EnvoyFields::ACA);
        (policy, header)
    });
    let mut chain = Vec::new();
    let mut rest = data;
    while chain.len() < 12 && rest.len() >= 2 {
        let n = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let take = n.min(rest.len() - 2);
        chain.push(rest[2..2 + take].to_vec());
        rest = &rest[2 + take..];
    }
    if !rest.is_empty() {
        chain.push(rest.to_vec());
    }
    let cert = Arc::new(xfcc::PeerCert::new(chain.clone()));
    let ask = || {
        policy
            .verify_request(
                xfcc::Peer::unknown().with_tls(Some(Arc::clone(&cert))),
                |name| (name == "x-forwarded-client-cert").then_some(header.as_bytes()),
            )
            .map(|c| c.and_then(|c| c.proxy().map(str::to_owned)))
            .map_err(|e| (e.code(), e.detail().code()))
    };
    let first = ask();
    match &first {
        Ok(Some(proxy)) => {
            let leaf = chain.first().expect("a chain that passed has a leaf");
            match proxy.as_str() {
                "pinned" => assert_eq!(leaf.as_slice(), EDGE),
                "mesh" => {
                    let c = CertIdentity::from_der(leaf.clone()).expect("a verified leaf reads");
                    assert_eq!(c.spiffe_id(), Some(EDGE_ID));
                }
                other => panic!("allowed by an entry the policy does not have: {other}"),
            }
        }
        Ok(None) => panic!("a policy with trusted_proxies allowed without naming the proxy"),
        Err((code, _)) => assert!(
            matches!(*code, "untrusted_proxy" | "peer_unavailable"),
            "{code}"
        ),
    }
    assert_eq!(ask(), first);
    first
}
