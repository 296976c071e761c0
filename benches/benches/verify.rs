//! Policy verification: uncached and cached allowlist checks of an
//! ACA-style header, and chain verification next to raw rustls-webpki on
//! the same certificates, so the library's overhead is visible.
#![expect(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::UNIX_EPOCH;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rustls_pki_types::{CertificateDer, UnixTime};
use webpki::{EndEntityCert, KeyUsage};
#[path = "../../crates/xfcc/tests/support/attack.rs"]
mod attack;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../crates/xfcc/tests/fixtures/certs"
);

use xfcc_benches::{aca_header, allowlist_policy, chain_policy, der, fixture_time, header_for};

fn verify(c: &mut Criterion) {
    let header = aca_header();
    let mut g = c.benchmark_group("verify");
    // The floor the uncached verify is held to (issue 17: at most 3x),
    // measured right before it in the same process, so that the ratio is
    // taken under the same conditions: SHA-256 of the DER the header
    // carries (the leaf and its issuing CA).
    let mut carried = der("client-rsa");
    carried.extend(der("inter"));
    g.bench_function("floor-sha256-leaf-and-chain-der", |b| {
        use sha2::Digest as _;
        b.iter(|| black_box(sha2::Sha256::digest(black_box(&carried))))
    });
    let uncached = allowlist_policy(0);
    g.bench_function("uncached-aca-rsa-chain", |b| {
        b.iter(|| black_box(uncached.verify(black_box(&header)).unwrap()))
    });
    let cached = allowlist_policy(1024);
    cached.verify(&header).unwrap();
    g.bench_function("cached-aca-rsa-chain", |b| {
        b.iter(|| black_box(cached.verify(black_box(&header)).unwrap()))
    });
    g.finish();
}

fn chain(c: &mut Criterion) {
    let policy = chain_policy();
    let anchor_der = der("root");
    let anchor = webpki::anchor_from_trusted_cert(&CertificateDer::from(anchor_der.as_slice()))
        .unwrap()
        .to_owned();
    let time = UnixTime::since_unix_epoch(fixture_time().duration_since(UNIX_EPOCH).unwrap());
    let mut g = c.benchmark_group("chain");
    for (id, leaf, inters) in [
        ("rsa2048", "client-rsa", vec!["inter"]),
        ("p256", "client-p256", vec!["inter-ec", "inter"]),
    ] {
        let header = header_for(leaf, &inters);
        assert!(policy.verify(&header).unwrap().chain_verified());
        g.bench_function(format!("xfcc-verify-{id}"), |b| {
            b.iter(|| black_box(policy.verify(black_box(&header)).unwrap()))
        });

        let leaf_der = der(leaf);
        let inter_ders: Vec<Vec<u8>> = inters.iter().map(|n| der(n)).collect();
        g.bench_function(format!("webpki-raw-{id}"), |b| {
            b.iter(|| {
                let leaf = CertificateDer::from(leaf_der.as_slice());
                let ee = EndEntityCert::try_from(&leaf).unwrap();
                let inters: Vec<CertificateDer<'_>> = inter_ders
                    .iter()
                    .map(|d| CertificateDer::from(d.as_slice()))
                    .collect();
                let anchors = [anchor.clone()];
                black_box(
                    ee.verify_for_usage(
                        webpki::ALL_VERIFICATION_ALGS,
                        &anchors,
                        &inters,
                        time,
                        KeyUsage::client_auth(),
                        None,
                        None,
                    )
                    .is_ok(),
                )
            });
        });
    }
    g.finish();
}

/// The worst headers we know how to build for a chain policy (the
/// README's: issuer name plus a chain to the root), each at first sight
/// (a fresh policy, so nothing is remembered) and repeated (the failure is
/// remembered), beside a legitimate chain-verified request.
fn worst(c: &mut Criterion) {
    let policy = || {
        let t = fixture_time();
        xfcc::Policy::builder()
            .clock(move || t)
            .chain(xfcc::TrustAnchors::new(
                "root",
                attack::root_pem().into_bytes(),
            ))
            .allow(
                xfcc::Rule::new("partner")
                    .issuer_cn([attack::ISSUING_CA])
                    .chain("root"),
            )
            .build()
            .unwrap()
    };
    let mut g = c.benchmark_group("worst");
    let legit = header_for("client-rsa", &["inter"]);
    let warm = policy();
    assert!(warm.verify(&legit).unwrap().chain_verified());
    g.bench_function("legit-rsa-chain", |b| {
        b.iter(|| black_box(warm.verify(black_box(&legit)).unwrap()))
    });
    let mut attacks: Vec<_> = attack::attacks()
        .into_iter()
        .map(|(name, header, _)| (name, header))
        .collect();
    attacks.push(("ambiguous-within-limit", attack::ambiguous_within_limit()));
    for (name, header) in &attacks {
        assert!(header.len() <= 64 * 1024);
        assert_eq!(warm.verify(header).unwrap_err().code(), "chain_invalid");
        g.bench_function(format!("{name}-first-sight"), |b| {
            b.iter_batched(
                policy,
                |p| black_box(p.verify(black_box(header)).unwrap_err()),
                BatchSize::SmallInput,
            )
        });
        g.bench_function(format!("{name}-repeated"), |b| {
            b.iter(|| black_box(warm.verify(black_box(header)).unwrap_err()))
        });
    }
    g.finish();
}

/// The same leaf in each text form a proxy forwards it in (nginx format,
/// one certificate per header value), uncached and cached: the issue 17
/// target is every form within 1.2x of the URL-encoded one.
fn encodings(c: &mut Criterion) {
    let pem = xfcc_benches::pem("client-rsa");
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let forms = [
        ("url-encoded-pem", xfcc::Format::Nginx.render(&leaf(), &[])),
        ("escaped-newline-pem", pem.trim_end().replace('\n', "\\n")),
        ("raw-pem", pem.clone()),
        ("bare-base64", b64),
    ];
    let mut g = c.benchmark_group("encodings");
    for cache in [0, 1024] {
        let policy = xfcc_benches::nginx_policy(cache);
        let kind = if cache == 0 { "uncached" } else { "cached" };
        for (id, value) in &forms {
            policy.verify(value).unwrap();
            g.bench_function(format!("{kind}-{id}"), |b| {
                b.iter(|| black_box(policy.verify(black_box(value)).unwrap()))
            });
        }
    }
    g.finish();
}

/// The same client through a real Envoy 1.40 in each form it writes
/// (`tests/fixtures/envoy`): the text form, the text form with `Issuer`,
/// and the JSON form (with `issuer`), uncached and cached. The issue 40
/// target: the JSON form within 1.2x of the text form. Then the worst a
/// JSON header within the 64 KiB limit costs: every string full of
/// `\uXXXX` escapes, which are checked while parsing and undone where a
/// value is read.
fn forms(c: &mut Criterion) {
    let capture = |name: &str| {
        std::fs::read_to_string(format!(
            "{}/../crates/xfcc/tests/fixtures/envoy/{name}.txt",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    let forms = [
        ("text", capture("rsa-chain")),
        ("text-issuer", capture("issuer/rsa-chain")),
        ("json", capture("json/rsa-chain")),
        // The JSON form without `issuer`, beside the text form without it.
        ("json-no-issuer", {
            let json = capture("json/rsa-chain");
            let at = json.find(",\"issuer\":").unwrap();
            format!("{}}}]", &json[..at])
        }),
    ];
    let mut g = c.benchmark_group("forms");
    for cache in [0, 1024] {
        let policy = allowlist_policy(cache);
        let kind = if cache == 0 { "uncached" } else { "cached" };
        for (id, value) in &forms {
            policy.verify(value).unwrap();
            g.bench_function(format!("{kind}-{id}"), |b| {
                b.iter(|| black_box(policy.verify(black_box(value)).unwrap()))
            });
        }
    }
    // Thirty-two elements, each with one long `uri` of escapes: as much
    // checking as the byte limit lets through, then refused (no element
    // carries a certificate).
    let escapes = "\\u00e9".repeat(330);
    let element = format!("{{\"by\":[\"spiffe://edge\"],\"uri\":[\"{escapes}\"]}}");
    let worst = format!("[{}]", vec![element; 32].join(","));
    assert!(worst.len() <= 64 * 1024, "{}", worst.len());
    let any = xfcc_benches::any_hops_policy();
    assert_eq!(any.verify(&worst).unwrap_err().code(), "bad_certificate");
    g.bench_function("worst-json-escapes-64k", |b| {
        b.iter(|| black_box(any.verify(black_box(&worst)).unwrap_err()))
    });
    g.finish();
}

fn leaf() -> xfcc::inspect::CertIdentity {
    xfcc::inspect::CertIdentity::from_der(der("client-rsa")).unwrap()
}

/// Uncached verify of 1, 2 and 3 hops (each element the RSA leaf and its
/// issuing CA, as Envoy renders them; the last is trusted), with
/// throughput in header bytes: the cost per byte should stay flat.
fn hops(c: &mut Criterion) {
    let leaf = leaf();
    let inter = xfcc::inspect::CertIdentity::from_der(der("inter")).unwrap();
    let element = xfcc::render::render_envoy(&[], &leaf, &[inter], xfcc::render::EnvoyFields::ACA);
    let policy = xfcc_benches::any_hops_policy();
    let mut g = c.benchmark_group("hops");
    for n in 1..=3 {
        let header = vec![element.as_str(); n].join(",");
        policy.verify(&header).unwrap();
        g.throughput(criterion::Throughput::Bytes(header.len() as u64));
        g.bench_function(format!("uncached-{n}"), |b| {
            b.iter(|| black_box(policy.verify(black_box(&header)).unwrap()))
        });
    }
    g.finish();
}

/// The most a `not_allowed` rejection can cost to explain: a certificate
/// with as many SANs as fit a 64 KiB header, against rules whose every
/// constraint must be evaluated for the explanation (each rule's failed
/// keys), with the bounded one-line `Display` the log event writes.
fn explain(c: &mut Criterion) {
    use rcgen::{CertificateParams, DnType, KeyPair, SanType};
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, "many-sans");
    p.subject_alt_names = (0..900)
        .map(|i| SanType::DnsName(format!("host-{i}.attacker.example").try_into().unwrap()))
        .chain((0..300).map(|i| {
            SanType::URI(
                format!("spiffe://attacker.example/w/{i}")
                    .try_into()
                    .unwrap(),
            )
        }))
        .collect();
    let key = KeyPair::generate().unwrap();
    let cert =
        xfcc::inspect::CertIdentity::from_der(p.self_signed(&key).unwrap().der().to_vec()).unwrap();
    let mut fields = xfcc::render::EnvoyFields::NONE;
    (fields.hash, fields.cert) = (true, true);
    let header = xfcc::render::render_envoy(&[], &cert, &[], fields);
    assert!(header.len() <= 64 * 1024, "{}", header.len());
    let t = fixture_time();
    // Names only (the rules' matching cost is what is measured).
    let mut builder = xfcc::Policy::builder()
        .proxy_verifies_chain(true)
        .clock(move || t);
    for r in 0..8 {
        builder = builder.allow(
            xfcc::Rule::new(format!("rule-{r}"))
                .san_dns((0..8).map(|i| format!("*.svc-{r}-{i}.contoso.example")))
                .san_uri_prefix((0..8).map(|i| format!("spiffe://contoso.example/{r}/{i}/")))
                .spiffe_trust_domain(["contoso.example"]),
        );
    }
    let policy = builder.build().unwrap();
    let rejection = policy.verify(&header).unwrap_err();
    assert_eq!(rejection.code(), "not_allowed");
    let mut g = c.benchmark_group("explain");
    g.bench_function("not-allowed-1200-sans-8-rules", |b| {
        b.iter(|| {
            let r = policy.verify(black_box(&header)).unwrap_err();
            black_box(r.explanation().map(ToString::to_string))
        })
    });
    g.finish();
}

/// `[[trusted_proxies]]`: what one request costs for the connection's
/// certificate. A connection's first request verifies its chain (edge.pem
/// to the Contoso root, its SPIFFE ID): the worst a stranger can make each
/// request cost, by bringing a new chain per request (through a binding
/// that hands the chain per request: Python, Node). Later requests on the
/// same connection reuse the decision remembered on its `PeerCert`; a
/// binding finds that `PeerCert` again in `RecentPeers` by the chain's
/// bytes, here with 16 other chains ahead of it (its capacity).
fn proxies(c: &mut Criterion) {
    use std::sync::Arc;
    use xfcc::{Peer, PeerCert, Policy, RecentPeers, Rule, TrustAnchors, TrustedProxy};
    let root = std::fs::read_to_string(format!("{FIXTURES}/root.pem")).unwrap()
        + &std::fs::read_to_string(format!("{FIXTURES}/inter.pem")).unwrap();
    let header = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/xfcc/tests/fixtures/envoy/rsa-chain.txt"
    ))
    .unwrap();
    let client = || {
        Rule::new("client")
            .thumbprint(["642d3d0cbbf64d1e59f2c73be3d715c222020123909713797a9ee8b9410643a4"])
    };
    let policy = Policy::builder()
        .chain(TrustAnchors::new("mesh", root))
        .trusted_proxies([TrustedProxy::new(
            Rule::new("edge")
                .chain("mesh")
                .spiffe_id(["spiffe://xfcc.test/ns/edge/sa/envoy"]),
        )])
        .allow(client())
        .clock(fixture_time)
        .build()
        .unwrap();
    let edge = der("edge");
    let decide = |peer: Peer| {
        policy.verify_request(peer, |name| {
            (name == "x-forwarded-client-cert").then_some(header.trim().as_bytes())
        })
    };
    let fresh = || Peer::unknown().with_tls(Some(Arc::new(PeerCert::new([edge.clone()]))));
    assert_eq!(decide(fresh()).unwrap().unwrap().proxy(), Some("edge"));
    let baseline = Policy::builder()
        .allow(client())
        .clock(fixture_time)
        .build()
        .unwrap();
    let mut g = c.benchmark_group("proxies");
    // The same header under the same rule, without trusted_proxies.
    g.bench_function("baseline-no-trusted-proxies", |b| {
        b.iter(|| {
            black_box(
                baseline
                    .verify_request(None::<std::net::IpAddr>, |name| {
                        (name == "x-forwarded-client-cert").then_some(header.trim().as_bytes())
                    })
                    .unwrap(),
            )
        })
    });
    g.bench_function("new-connection-chain-verified", |b| {
        b.iter_batched(
            fresh,
            |p| black_box(decide(p).unwrap()),
            BatchSize::SmallInput,
        )
    });
    let known = fresh();
    decide(known.clone()).unwrap();
    g.bench_function("same-connection-remembered", |b| {
        b.iter(|| black_box(decide(black_box(known.clone())).unwrap()))
    });
    let recent = RecentPeers::new(17);
    let strangers: Vec<Vec<u8>> = (0..16)
        .map(|_| {
            let mut d = edge.clone();
            let last = d.len() - 1;
            d[last] ^= 0xff;
            d
        })
        .collect();
    let _ = recent.get(std::slice::from_ref(&edge));
    for s in &strangers {
        let _ = recent.get(std::slice::from_ref(s));
    }
    g.bench_function("binding-chain-found-in-recent-peers-17", |b| {
        b.iter(|| {
            let cert = recent.get(std::slice::from_ref(black_box(&edge)));
            black_box(decide(Peer::unknown().with_tls(Some(cert))).unwrap())
        })
    });
    g.finish();
}

criterion_group!(
    benches, verify, chain, worst, encodings, forms, hops, explain, proxies
);
criterion_main!(benches);
