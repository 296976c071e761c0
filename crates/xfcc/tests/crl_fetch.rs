//! CRLs fetched from a real HTTP server on loopback, in the background:
//! a newly revoked certificate is refused within one interval, a server
//! that stays down past the maximum age gives the configured behaviour,
//! and a huge or slow answer is cut off.
#![cfg(feature = "crl-fetch")]
#![expect(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    RevokedCertParams, SerialNumber, date_time_ymd,
};
use std::sync::atomic::{AtomicUsize, Ordering};

use xfcc::{
    Policy, Rule, TrustAnchors,
    chain::{CrlExpiry, Revocation, UnknownStatus},
    config::PolicyConfig,
    inspect::CertIdentity,
    render::EnvoyFields,
};

/// What the loopback server answers.
#[derive(Clone)]
enum Answer {
    Crl(Vec<u8>),
    /// The connection is closed without an answer.
    Down,
    /// 20 MiB of body.
    Huge,
    /// Nothing for 30 s.
    Slow,
}

fn serve(answer: Arc<Mutex<Answer>>) -> String {
    serve_counting(answer, Arc::new(AtomicUsize::new(0)))
}

/// [`serve`], counting the requests in `hits`.
fn serve_counting(answer: Arc<Mutex<Answer>>, hits: Arc<AtomicUsize>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/ca.crl", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            hits.fetch_add(1, Ordering::SeqCst);
            let answer = answer.lock().unwrap().clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let _ = match answer {
                    Answer::Crl(body) => conn
                        .write_all(
                            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())
                                .as_bytes(),
                        )
                        .and_then(|()| conn.write_all(&body)),
                    Answer::Down => Ok(()),
                    Answer::Huge => {
                        let n = 20usize << 20;
                        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\nConnection: close\r\n\r\n");
                        let chunk = vec![b'A'; 1 << 16];
                        conn.write_all(head.as_bytes()).and_then(|()| {
                            (0..n / chunk.len()).try_for_each(|_| conn.write_all(&chunk))
                        })
                    }
                    Answer::Slow => {
                        std::thread::sleep(Duration::from_secs(30));
                        Ok(())
                    }
                };
            });
        }
    });
    url
}

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
    leaf: CertIdentity,
}

fn ca() -> Ca {
    ca_named("Fetch Test CA")
}

fn ca_named(name: &str) -> Ca {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, name);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().unwrap();
    let pem = p.self_signed(&key).unwrap().pem();
    let issuer = Issuer::new(p, key);
    let mut l = CertificateParams::new(vec!["client.example".to_owned()]).unwrap();
    l.distinguished_name
        .push(DnType::CommonName, "client.example");
    l.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let leaf = l.signed_by(&KeyPair::generate().unwrap(), &issuer).unwrap();
    Ca {
        issuer,
        pem,
        leaf: CertIdentity::from_der(leaf.der().to_vec()).unwrap(),
    }
}

fn crl(ca: &Ca, revoked: &[&CertIdentity]) -> Vec<u8> {
    crl_numbered(ca, revoked, 1, 1)
}

/// CRL number `number`, issued on day `day` of 2025.
fn crl_numbered(ca: &Ca, revoked: &[&CertIdentity], number: u64, day: u8) -> Vec<u8> {
    CertificateRevocationListParams {
        this_update: date_time_ymd(2025, 1, day),
        next_update: date_time_ymd(2045, 1, 1),
        crl_number: SerialNumber::from(number),
        issuing_distribution_point: None,
        revoked_certs: revoked
            .iter()
            .map(|c| RevokedCertParams {
                serial_number: SerialNumber::from_slice(c.serial()),
                revocation_time: date_time_ymd(2025, 6, 1),
                reason_code: None,
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&ca.issuer)
    .unwrap()
    .der()
    .to_vec()
}

fn policy(ca: &Ca, url: &str, refresh: u64, max_age: u64, expiry: CrlExpiry) -> Policy {
    let mut revocation = Revocation::default();
    revocation.expiry = expiry;
    policy_with(&ca.pem, url, (refresh, max_age), revocation, &[])
}

/// A policy over `anchors` (PEM), fetching from `url` every `refresh`
/// seconds with CRLs at most `max_age` seconds old, with `revocation`,
/// and `files` as CRL files beside the URL.
fn policy_with(
    anchors: &str,
    url: &str,
    (refresh, max_age): (u64, u64),
    revocation: Revocation,
    files: &[Vec<u8>],
) -> Policy {
    Policy::builder()
        .revocation(revocation)
        .chain(
            TrustAnchors::new("fetched", anchors.to_owned())
                .crls(files.to_vec())
                .crl_urls([url])
                .crl_refresh(Duration::from_secs(refresh))
                .crl_max_age(Duration::from_secs(max_age)),
        )
        .allow(
            Rule::new("r")
                .subject_cn(["client.example"])
                .chain("fetched"),
        )
        .build()
        .unwrap()
}

fn outcome(p: &Policy, ca: &Ca) -> String {
    outcome_of(p, &ca.leaf)
}

fn outcome_of(p: &Policy, leaf: &CertIdentity) -> String {
    let h = xfcc::render::render_envoy(&[], leaf, &[], EnvoyFields::ACA);
    match p.verify(&h) {
        Ok(_) => "ok".to_owned(),
        Err(r) => r.detail().code().to_owned(),
    }
}

fn eventually(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "not within {secs} s: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_newly_revoked_certificate_is_refused_within_one_interval() {
    let ca = ca();
    let answer = Arc::new(Mutex::new(Answer::Crl(crl(&ca, &[]))));
    let url = serve(answer.clone());
    let p = policy(&ca, &url, 1, 3600, CrlExpiry::Enforce);
    // Fetched while the policy was built: allowed at once.
    assert_eq!(outcome(&p, &ca), "ok");
    *answer.lock().unwrap() = Answer::Crl(crl(&ca, &[&ca.leaf]));
    eventually("revoked", 4, || outcome(&p, &ca) == "revoked");
}

#[test]
fn a_server_down_past_the_maximum_age_denies_unless_told_to_allow() {
    let ca = ca();
    let answer = Arc::new(Mutex::new(Answer::Crl(crl(&ca, &[]))));
    let url = serve(answer.clone());
    let deny = policy(&ca, &url, 1, 2, CrlExpiry::Enforce);
    let allow = policy(&ca, &url, 1, 2, CrlExpiry::Ignore);
    assert_eq!(
        (outcome(&deny, &ca), outcome(&allow, &ca)),
        ("ok".into(), "ok".into())
    );
    *answer.lock().unwrap() = Answer::Down;
    // Within the maximum age the last CRLs serve.
    assert_eq!(outcome(&deny, &ca), "ok");
    eventually("stale", 6, || outcome(&deny, &ca) == "crl_expired");
    assert_eq!(outcome(&allow, &ca), "ok", "Ignore uses the last CRLs");
    // Back up: fresh again within one interval.
    *answer.lock().unwrap() = Answer::Crl(crl(&ca, &[]));
    eventually("fresh again", 4, || outcome(&deny, &ca) == "ok");
}

#[test]
fn a_huge_or_slow_answer_is_cut_off_and_never_trusted() {
    let ca = ca();
    for bad in [Answer::Huge, Answer::Slow] {
        let answer = Arc::new(Mutex::new(bad));
        let url = serve(answer);
        let started = Instant::now();
        // The first fetch (at build) fails within its bound: a refresh of
        // 2 s bounds it to 2 s.
        let p = policy(&ca, &url, 2, 2, CrlExpiry::Enforce);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        // Never fetched: stale, refused.
        assert_eq!(outcome(&p, &ca), "crl_expired");
    }
}

#[test]
fn only_http_urls_and_sound_intervals_are_accepted() {
    let ca = ca();
    let build = |anchors: TrustAnchors| {
        Policy::builder()
            .chain(anchors)
            .allow(Rule::new("r").subject_cn(["x"]).chain("fetched"))
            .build()
            .unwrap_err()
            .to_string()
    };
    let base = || TrustAnchors::new("fetched", ca.pem.clone());
    let e = build(base().crl_urls(["https://ca.example/ca.crl"]));
    assert!(
        e.contains("invalid crl_urls value") && e.contains("http://"),
        "{e}"
    );
    let e = build(
        base()
            .crl_urls(["http://127.0.0.1:9/ca.crl"])
            .crl_refresh(Duration::from_secs(60))
            .crl_max_age(Duration::from_secs(30)),
    );
    assert!(e.contains("crl_max_age_seconds"), "{e}");
}

#[test]
fn stale_crls_is_chosen_in_the_policy_file_and_the_environment_alike() {
    let ca = ca();
    let answer = Arc::new(Mutex::new(Answer::Crl(crl(&ca, &[]))));
    let url = serve(answer.clone());
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("xfcc-stale-crls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let anchors = dir.join("ca.pem");
    std::fs::write(&anchors, &ca.pem).unwrap();
    let file = |revocation: &str| {
        format!(
            "{revocation}[[allow]]\nname = \"r\"\nsubject_cn = [\"client.example\"]\nchain = \"fetched\"\n\
             [chain.fetched]\ntrust_anchors = \"ca.pem\"\ncrl_urls = [\"{url}\"]\n\
             crl_refresh_seconds = 1\ncrl_max_age_seconds = 2\n"
        )
    };
    let toml = |revocation: &str| Policy::from_toml_str(&file(revocation), &dir);
    let env = |stale: &str| {
        let anchors = anchors.to_str().unwrap();
        let mut vars = vec![
            ("ALLOWED_CERT_COMMON_NAMES", "client.example"),
            ("XFCC_CHAIN_ANCHORS", anchors),
            ("XFCC_CHAIN_CRL_URLS", url.as_str()),
            ("XFCC_CHAIN_CRL_REFRESH_SECONDS", "1"),
            ("XFCC_CHAIN_CRL_MAX_AGE_SECONDS", "2"),
        ];
        if !stale.is_empty() {
            vars.push(("XFCC_STALE_CRLS", stale));
        }
        PolicyConfig::from_env_pairs(vars).and_then(|c| c.build())
    };
    // Unset is deny, as is "deny"; only "allow" allows.
    let denying = [
        toml("").unwrap(),
        toml("[revocation]\nstale_crls = \"deny\"\n").unwrap(),
        env("").unwrap(),
        env("deny").unwrap(),
    ];
    let allowing = [
        toml("[revocation]\nstale_crls = \"allow\"\n").unwrap(),
        env("allow").unwrap(),
    ];
    for p in denying.iter().chain(&allowing) {
        assert_eq!(outcome(p, &ca), "ok");
    }
    // Allowing says so, with the key and the fix; denying is quiet.
    let codes = |p: &Policy| -> Vec<&'static str> {
        p.warnings()
            .iter()
            .map(xfcc::outcome::Warning::code)
            .collect()
    };
    for p in &denying {
        assert!(codes(p).is_empty(), "{:?}", p.warnings());
    }
    for p in &allowing {
        assert_eq!(codes(p), ["stale_crls_used"]);
        let w = &p.warnings()[0];
        assert!(
            w.message().starts_with("stale_crls = \"allow\"")
                && w.fix().contains("stale_crls = \"deny\""),
            "{w:?}"
        );
    }
    *answer.lock().unwrap() = Answer::Down;
    eventually("stale", 6, || {
        denying.iter().all(|p| outcome(p, &ca) == "crl_expired")
    });
    for p in &allowing {
        assert_eq!(
            outcome(p, &ca),
            "ok",
            "stale_crls = allow uses the last CRLs"
        );
    }

    // Refused with its name: a value it does not know, and "allow" where
    // there are no CRLs for it to apply to.
    let e = toml("[revocation]\nstale_crls = \"maybe\"\n").unwrap_err();
    assert!(
        e.to_string().contains("invalid stale_crls value \"maybe\"")
            && e.to_string().contains("\"deny\" or \"allow\""),
        "{e}"
    );
    let e = env("maybe").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("environment variable XFCC_STALE_CRLS"),
        "{e}"
    );
    let e = Policy::from_toml_str(
        "[revocation]\nstale_crls = \"allow\"\n[[allow]]\nsubject_cn = [\"client.example\"]\nchain = \"c\"\n[chain.c]\ntrust_anchors = \"ca.pem\"\n",
        &dir,
    )
    .unwrap_err();
    assert_eq!(e.setting(), "stale_crls", "{e}");
    assert!(
        e.to_string().contains("no anchor set has crls or crl_urls"),
        "{e}"
    );
    let e = PolicyConfig::from_env_pairs([
        ("ALLOWED_CERT_COMMON_NAMES", "client.example"),
        ("XFCC_CHAIN_CRL_MAX_AGE_SECONDS", "60"),
    ])
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("environment variable XFCC_CHAIN_CRL_MAX_AGE_SECONDS")
            && e.to_string().contains("XFCC_CHAIN_ANCHORS"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A loopback server answering `crl`, and its URL.
fn serving(crl: Vec<u8>) -> (Arc<Mutex<Answer>>, String) {
    let answer = Arc::new(Mutex::new(Answer::Crl(crl)));
    let url = serve(answer.clone());
    (answer, url)
}

/// [`policy_with`] fetching every second, CRLs up to an hour old.
fn policy_over(anchors: &str, url: &str, revocation: Revocation, files: &[Vec<u8>]) -> Policy {
    policy_with(anchors, url, (1, 3600), revocation, files)
}

/// Waits for `n` more requests to the server, so that the fetcher has
/// judged the answer now served at least once.
fn fetched_again(hits: &AtomicUsize, n: usize) {
    let from = hits.load(Ordering::SeqCst);
    eventually("fetched again", 5, || {
        hits.load(Ordering::SeqCst) >= from + n
    });
}

#[test]
fn another_cas_crl_or_an_older_one_never_replaces_the_crl_held() {
    let ca = ca();
    let other = self::ca();
    let revoking = crl_numbered(&ca, &[&ca.leaf], 2, 2);
    let answer = Arc::new(Mutex::new(Answer::Crl(revoking.clone())));
    let hits = Arc::new(AtomicUsize::new(0));
    let url = serve_counting(answer.clone(), hits.clone());
    // unknown_status = allow (the default): a set whose CA no CRL covers
    // is allowed, which is what serving another CA's CRL would buy.
    let p = policy(&ca, &url, 1, 3600, CrlExpiry::Enforce);
    assert_eq!(outcome(&p, &ca), "revoked");
    for (what, bad) in [
        (
            "another CA's CRL, validly signed by it",
            crl(&ca_named("Other CA"), &[]),
        ),
        (
            "a CRL in the CA's name signed by another key",
            crl(&other, &[]),
        ),
        (
            "the CA's own CRL from before the revocation",
            crl_numbered(&ca, &[], 1, 1),
        ),
        ("a CRL that does not read", b"0 not a CRL".to_vec()),
    ] {
        *answer.lock().unwrap() = Answer::Crl(bad);
        fetched_again(&hits, 2);
        assert_eq!(outcome(&p, &ca), "revoked", "{what}");
        // The same answer at the fetch a rebuilt policy makes at once
        // (a reload): refused there too, the held CRLs carried over.
        let reloaded = policy(&ca, &url, 1, 3600, CrlExpiry::Enforce);
        assert_eq!(outcome(&reloaded, &ca), "revoked", "{what} (reloaded)");
    }
    // A newer CRL of the CA is taken, whatever it says (by a policy built
    // now: `p` remembers its failed chain for a while, as designed).
    *answer.lock().unwrap() = Answer::Crl(crl_numbered(&ca, &[], 3, 3));
    let reloaded = policy(&ca, &url, 1, 3600, CrlExpiry::Enforce);
    assert_eq!(outcome(&reloaded, &ca), "ok");
}

#[cfg(feature = "metrics")]
#[test]
fn a_refused_answer_counts_as_a_failed_fetch() {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    let ca = ca();
    let (answer, url) = serving(crl_numbered(&ca, &[&ca.leaf], 2, 2));
    let held = policy(&ca, &url, 3600, 3600, CrlExpiry::Enforce);
    *answer.lock().unwrap() = Answer::Crl(crl_numbered(&ca, &[], 1, 1));
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    // The fetch at build runs on this thread, under the local recorder.
    let reloaded = metrics::with_local_recorder(&recorder, || {
        policy(&ca, &url, 3600, 3600, CrlExpiry::Enforce)
    });
    let failures: u64 = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter_map(|(key, _, _, value)| {
            let key = key.key().clone();
            let failed = key.name() == "xfcc_crl_fetches_total"
                && key
                    .labels()
                    .any(|l| l.key() == "result" && l.value() == "error");
            match value {
                DebugValue::Counter(n) if failed => Some(n),
                _ => None,
            }
        })
        .sum();
    assert_eq!(failures, 1);
    assert_eq!(outcome(&reloaded, &ca), "revoked");
    drop(held);
}

#[test]
fn a_reload_while_the_server_is_down_keeps_the_fetched_crls() {
    let ca = ca();
    let (answer, url) = serving(crl_numbered(&ca, &[&ca.leaf], 1, 1));
    let mut allow_stale = Revocation::default();
    allow_stale.expiry = CrlExpiry::Ignore;
    let p = policy_over(&ca.pem, &url, allow_stale, &[]);
    assert_eq!(outcome(&p, &ca), "revoked");
    *answer.lock().unwrap() = Answer::Down;
    // The same files built again (SIGHUP, a watched file touched): the new
    // policy's first fetch fails, and the revocation stays.
    let reloaded = policy_over(&ca.pem, &url, allow_stale, &[]);
    drop(p);
    assert_eq!(outcome(&reloaded, &ca), "revoked");
    // Other anchors are another set: nothing is carried to it.
    let other = self::ca();
    let fresh = policy_over(&other.pem, &url, allow_stale, &[]);
    assert_eq!(outcome_of(&fresh, &other.leaf), "ok");
}

#[test]
fn unknown_status_deny_denies_while_no_crl_is_held() {
    let ca = ca();
    let url = serve(Arc::new(Mutex::new(Answer::Down)));
    let mut deny = Revocation::default();
    deny.unknown = UnknownStatus::Deny;
    deny.expiry = CrlExpiry::Ignore;
    let p = policy_over(&ca.pem, &url, deny, &[]);
    assert_eq!(outcome(&p, &ca), "revocation_unknown");
    // With allow, the same state is allowed (stale CRLs used: none).
    let mut allow = deny;
    allow.unknown = UnknownStatus::Allow;
    let p = policy_over(&ca.pem, &url, allow, &[]);
    assert_eq!(outcome(&p, &ca), "ok");
}

#[test]
fn per_issuer_the_newest_crl_applies_whether_a_file_or_fetched() {
    let ca = ca();
    let old_file = crl_numbered(&ca, &[], 1, 1);
    let (_answer, url) = serving(crl_numbered(&ca, &[&ca.leaf], 2, 2));
    let p = policy_over(&ca.pem, &url, Revocation::default(), &[old_file]);
    assert_eq!(outcome(&p, &ca), "revoked", "the fetched CRL is newer");
    let newer_file = crl_numbered(&ca, &[], 5, 5);
    let p = policy_over(&ca.pem, &url, Revocation::default(), &[newer_file]);
    assert_eq!(outcome(&p, &ca), "ok", "the file is newer");
}

#[test]
fn an_answer_that_drops_an_issuer_the_set_held_is_refused() {
    let (a, b) = (ca_named("Fetch Test CA A"), ca_named("Fetch Test CA B"));
    let pem = |der: Vec<u8>| {
        pem_rfc7468::encode_string("X509 CRL", pem_rfc7468::LineEnding::LF, &der).unwrap()
    };
    let both = format!(
        "{}{}",
        pem(crl_numbered(&a, &[], 1, 1)),
        pem(crl_numbered(&b, &[&b.leaf], 1, 1))
    );
    let answer = Arc::new(Mutex::new(Answer::Crl(both.into_bytes())));
    let hits = Arc::new(AtomicUsize::new(0));
    let url = serve_counting(answer.clone(), hits.clone());
    let anchors = format!("{}{}", a.pem, b.pem);
    let p = policy_over(&anchors, &url, Revocation::default(), &[]);
    assert_eq!(outcome_of(&p, &b.leaf), "revoked");
    // Only A's CRL (newer, even): B's CA would be covered by none.
    *answer.lock().unwrap() = Answer::Crl(crl_numbered(&a, &[], 2, 2));
    fetched_again(&hits, 2);
    assert_eq!(outcome_of(&p, &b.leaf), "revoked");
    assert_eq!(outcome_of(&p, &a.leaf), "ok");
}
