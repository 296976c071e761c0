//! Rejection events under a flood: at most the log rate per reason per
//! second, then a summary that counts the rest (the same `RejectionLog` as
//! the tower layer). Its own test binary: tracing caches per-callsite
//! interest process-wide.
#![cfg(feature = "tracing")]
#![expect(clippy::unwrap_used)]

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use actix_web::http::StatusCode;
use actix_web::{App, test, web};
use xfcc::{Policy, Rule, run::LogRate};
use xfcc_actix::Xfcc;

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything logged at INFO and above while the guard lives.
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

#[actix_web::test]
async fn a_flood_of_rejections_logs_the_rate_and_a_summary_across_workers() {
    let (buf, _guard) = capture_logs();

    let header = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/envoy/rsa-chain.txt"),
    )
    .unwrap();
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(move || at)
        .allow(Rule::new("partner").subject_cn(["nobody"]))
        .build()
        .unwrap();
    let xfcc = Xfcc::new(policy).log_rate(LogRate::per_second(NonZeroU32::new(3).unwrap()));
    // Two workers' apps, built from clones of one middleware: one count.
    let started = std::time::Instant::now();
    {
        let a = test::init_service(
            App::new()
                .wrap(xfcc.clone())
                .route("/", web::get().to(|| async { "ok" })),
        )
        .await;
        let b = test::init_service(
            App::new()
                .wrap(xfcc.clone())
                .route("/", web::get().to(|| async { "ok" })),
        )
        .await;
        for i in 0..200 {
            let req = test::TestRequest::get()
                .uri("/")
                .insert_header(("x-forwarded-client-cert", header.as_str()))
                .to_request();
            let res = if i % 2 == 0 {
                test::call_service(&a, req).await
            } else {
                test::call_service(&b, req).await
            };
            assert_eq!(res.status(), StatusCode::FORBIDDEN);
        }
    }
    // Dropping the last clone reports what was left.
    drop(xfcc);
    let seconds = started.elapsed().as_secs() + 1;
    let logged = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let events = logged.matches("client certificate rejected").count() as u64;
    let summaries = logged.matches("rejections not logged").count() as u64;
    assert!(
        events >= 3 && events <= 3 * seconds,
        "{events} events in {seconds}s"
    );
    assert!(
        summaries >= 1 && summaries <= seconds,
        "{summaries} summaries"
    );
    let suppressed: u64 = logged
        .lines()
        .filter_map(|l| l.split("suppressed=").nth(1))
        .filter_map(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(events + suppressed, 200, "{logged}");
}

#[actix_web::test]
async fn building_the_middleware_logs_each_policy_warning_once_at_warn() {
    let (buf, _guard) = capture_logs();
    let policy = Policy::builder()
        .mode(xfcc::Mode::Accept)
        .allow(Rule::new("pinned").thumbprint(["ab".repeat(32)]))
        .build()
        .unwrap();
    let xfcc = Xfcc::new(policy);
    // Clones (one per worker) do not log again.
    let _workers = [xfcc.clone(), xfcc.clone()];
    let logged = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert_eq!(logged.matches("WARN").count(), 1, "{logged}");
    assert!(
        logged.contains("WARN xfcc: policy warning: mode = \"accept\"")
            && logged.contains("code=\"accept_mode\"")
            && logged.contains("fix="),
        "{logged}"
    );
}
