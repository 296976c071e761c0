//! The tracing event for rejections. Its own test binary: tracing caches
//! per-callsite interest process-wide, so other tests must not hit the
//! callsite first without a subscriber.
#![cfg(all(feature = "axum", feature = "tracing"))]
#![expect(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::Request;
use tower::ServiceExt;
use tracing::Level;
use xfcc::{Policy, Rule};
use xfcc_tower::XfccLayer;

fn capture(name: &str) -> String {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/envoy/{name}.txt"));
    std::fs::read_to_string(p).unwrap()
}

async fn send(app: &Router, header: &str) {
    let req = Request::get("/")
        .header("x-forwarded-client-cert", header)
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), http::StatusCode::FORBIDDEN);
}

fn policy() -> Policy {
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    Policy::builder()
        .proxy_verifies_chain(true)
        .clock(move || at)
        .allow(Rule::new("partner").subject_cn(["nobody"]))
        .build()
        .unwrap()
}

#[derive(Clone, Default)]
struct Buf(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything logged at INFO and above while the guard lives, as text.
fn capture_logs() -> (Buf, tracing::subscriber::DefaultGuard) {
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    (buf, tracing::subscriber::set_default(subscriber))
}

/// The lines logged other than the layers' start-up policy warnings.
fn lines_besides_warnings(logged: &str) -> usize {
    logged
        .lines()
        .filter(|l| !l.contains("policy warning"))
        .count()
}

#[tokio::test]
async fn emits_a_tracing_event_per_rejection_at_the_chosen_level() {
    let (buf, _guard) = capture_logs();
    let app = |level: Option<Level>| {
        Router::new()
            .route("/", get(|| async { "ok" }))
            .layer(XfccLayer::new(policy()).log_level(level))
    };
    send(&app(Some(Level::INFO)), &capture("wrong-cn")).await;
    let logged = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("INFO xfcc: client certificate rejected")
            && logged.contains("reason=\"not_allowed\"")
            && logged.contains("element=0"),
        "{logged}"
    );
    let cert = xfcc::inspect::decode_certificate(&{
        let c = capture("wrong-cn");
        let s = c.find("Cert=\"").unwrap() + 6;
        c[s..s + c[s..].find('"').unwrap()].to_owned()
    })
    .unwrap();
    // One event says it all: both thumbprints (the SHA-1 is what the Azure
    // portal shows), subject, issuer, and which rule failed on what.
    for field in [
        format!("thumbprint=\"{}\"", cert.sha256_hex().to_ascii_uppercase()),
        format!("sha1=\"{}\"", cert.sha1_hex().to_ascii_uppercase()),
        format!("subject=\"{}\"", cert.subject()),
        format!("issuer=\"{}\"", cert.issuer()),
        "rule \"partner\" failed subject_cn".to_owned(),
    ] {
        assert!(logged.contains(&field), "{field} not in {logged}");
    }
    // One rejection event; the layers' start-up warning (this test policy
    // relies on proxy_verifies_chain) is the only other line.
    assert_eq!(
        logged.matches("client certificate rejected").count(),
        1,
        "{logged}"
    );
    assert_eq!(lines_besides_warnings(&logged), 1, "{logged}");
    assert!(!logged.contains("MII"));
    // The pinned value of the rule is not logged.
    assert!(!logged.contains("nobody"), "{logged}");
    let (debug, off) = (app(Some(Level::DEBUG)), app(None));
    buf.0.lock().unwrap().clear();
    send(&debug, &capture("wrong-cn")).await;
    assert!(
        buf.0.lock().unwrap().is_empty(),
        "DEBUG is below the subscriber's INFO"
    );
    send(&off, &capture("wrong-cn")).await;
    assert!(buf.0.lock().unwrap().is_empty(), "None turns the event off");
}

#[tokio::test]
async fn building_the_layer_logs_each_policy_warning_once_at_warn_with_code_and_fix() {
    let (buf, _guard) = capture_logs();
    let report = Policy::builder()
        .mode(xfcc::Mode::Report)
        .allow(Rule::new("pinned").thumbprint(["ab".repeat(32)]))
        .build()
        .unwrap();
    let layer = XfccLayer::new(report);
    let _app: Router = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(layer.clone())
        .layer(layer);
    let logged = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert_eq!(logged.matches("WARN").count(), 1, "{logged}");
    assert!(
        logged.contains("WARN xfcc: policy warning: mode = \"report\"")
            && logged.contains("code=\"report_mode\"")
            && logged.contains("fix=\"mode = \\\"require\\\""),
        "{logged}"
    );
    buf.0.lock().unwrap().clear();
    // A names-only rule builds only with the operator's claim, and is
    // then named at start.
    let _ = XfccLayer::new(policy());
    let logged = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("code=\"names_only_rule\"")
            && logged.contains("relies on proxy_verifies_chain = true"),
        "{logged}"
    );
}

#[tokio::test]
async fn a_flood_of_rejections_logs_the_rate_and_a_summary() {
    let (buf, _guard) = capture_logs();
    let rate = xfcc::run::LogRate::per_second(std::num::NonZeroU32::new(3).unwrap());
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(XfccLayer::new(policy()).log_rate(rate));
    let started = std::time::Instant::now();
    for _ in 0..200 {
        send(&app, &capture("wrong-cn")).await;
    }
    // Every clone of the layer shares the count; dropping the last one
    // reports what was left.
    drop(app);
    let seconds = started.elapsed().as_secs() + 1;
    let logged = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let events = logged.matches("client certificate rejected").count();
    let summaries = logged.matches("rejections not logged").count();
    // At most the rate in each second the burst spanned, and one summary
    // per second that suppressed something.
    assert!(
        events >= 3 && events as u64 <= 3 * seconds,
        "{events} events in {seconds}s"
    );
    assert!(
        summaries >= 1 && summaries as u64 <= seconds,
        "{summaries} summaries"
    );
    let suppressed: u64 = logged
        .lines()
        .filter_map(|l| l.split("suppressed=").nth(1))
        .filter_map(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(events as u64 + suppressed, 200, "{logged}");
}

#[tokio::test]
async fn an_untrusted_peer_is_logged_with_its_address_and_the_next_step() {
    let (buf, _guard) = capture_logs();
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .trusted_peers(["10.0.0.0/8"])
        .allow(Rule::new("partner").subject_cn(["nobody"]))
        .build()
        .unwrap();
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(XfccLayer::new(policy));
    let mut req = Request::get("/")
        .header("x-forwarded-client-cert", capture("wrong-cn"))
        .body(Body::empty())
        .unwrap();
    let peer: std::net::SocketAddr = "192.0.2.7:40000".parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), http::StatusCode::FORBIDDEN);
    // Without the peer's address: the wiring is named.
    let req = Request::get("/")
        .header("x-forwarded-client-cert", capture("wrong-cn"))
        .body(Body::empty())
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    assert_eq!(res.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
    let logged = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("reason=\"untrusted_peer\"")
            && logged.contains("peer=192.0.2.7")
            && logged.contains("add it (or its block) to trusted_peers"),
        "{logged}"
    );
    assert!(
        logged.contains("reason=\"peer_unavailable\"")
            && logged.contains("into_make_service_with_connect_info"),
        "{logged}"
    );
}

#[tokio::test]
async fn report_mode_logs_the_would_be_refusal_and_serves_the_request() {
    let (buf, _guard) = capture_logs();
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let report = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(move || at)
        .mode(xfcc::Mode::Report)
        .allow(Rule::new("partner").subject_cn(["nobody"]))
        .build()
        .unwrap();
    let app = Router::new()
        .route("/", get(|| async { "served" }))
        .layer(XfccLayer::new(report));
    let req = Request::get("/")
        .header("x-forwarded-client-cert", capture("wrong-cn"))
        .body(Body::empty())
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    assert_eq!(res.status(), http::StatusCode::OK);
    let logged = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    // The same event as require mode's, saying the request went on.
    assert!(
        logged
            .contains("client certificate would be rejected (mode = report: the request goes on)")
            && logged.contains("reason=\"not_allowed\"")
            && logged.contains("would_deny=true")
            && logged.contains("rule \"partner\" failed subject_cn"),
        "{logged}"
    );
    // One event; the layer's start-up warnings are the only other lines.
    assert_eq!(lines_besides_warnings(&logged), 1, "{logged}");
}
