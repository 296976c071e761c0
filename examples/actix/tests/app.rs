//! The actix example with `actix_web::test`: real Envoy captures, and local
//! stand-ins for the Dapr sidecar and the backend.
#![expect(clippy::unwrap_used)]

use std::time::Duration;

use actix_web::{App, test};
use serde_json::{Value, json};
use xfcc_example_common::Config;
use xfcc_example_common::standin::{refused_port, serve};
use xfcc_example_common::testing::{capture, config, policy};

fn healthy(path: &str) -> (u16, String, Duration) {
    match path {
        "/v1.0/invoke/backend/method/health" => (
            200,
            r#"{"status":"healthy","via":"dapr"}"#.into(),
            Duration::ZERO,
        ),
        "/health" => (200, "plain text ok".into(), Duration::ZERO),
        _ => (404, String::new(), Duration::ZERO),
    }
}

async fn get_json(config: Config, path: &str, header: Option<&str>) -> (u16, Value) {
    let app = test::init_service(
        App::new().configure(xfcc_example_actix::configure(policy(), config).unwrap()),
    )
    .await;
    let mut req = test::TestRequest::get().uri(path);
    if let Some(h) = header {
        req = req.append_header(("x-forwarded-client-cert", h));
    }
    let res = test::call_service(&app, req.to_request()).await;
    let status = res.status().as_u16();
    let body = test::read_body(res).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn backends() -> Config {
    let port = serve(healthy);
    config(port, format!("http://127.0.0.1:{port}"))
}

#[actix_web::test]
async fn cert_info_returns_the_verified_identity() {
    let (status, v) = get_json(backends(), "/cert-info", Some(&capture("rsa-chain"))).await;
    assert_eq!(status, 200);
    assert_eq!(v["rule"], "partner");
    assert_eq!(
        v["identity"]["subject_cn"],
        json!(["client-app.contoso.example"])
    );
    assert_eq!(v["identity"]["sha256"].as_str().unwrap().len(), 64);
}

#[actix_web::test]
async fn rejections_are_403_with_the_reason_code() {
    assert_eq!(
        get_json(backends(), "/cert-info", None).await,
        (403, json!({"error": "missing"}))
    );
    assert_eq!(
        get_json(backends(), "/cert-info", Some(&capture("wrong-cn"))).await,
        (403, json!({"error": "not_allowed"}))
    );
    assert_eq!(
        get_json(backends(), "/call-backend/dapr", None).await,
        (403, json!({"error": "missing"}))
    );
}

#[actix_web::test]
async fn health_needs_no_certificate() {
    assert_eq!(
        get_json(backends(), "/health", None).await,
        (200, json!({"status": "ok"}))
    );
}

#[actix_web::test]
async fn calls_the_backend_through_dapr_and_directly() {
    let h = capture("rsa-chain");
    assert_eq!(
        get_json(backends(), "/call-backend/dapr", Some(&h)).await,
        (
            200,
            json!({"path": "dapr", "status": {"status": "healthy", "via": "dapr"}})
        )
    );
    assert_eq!(
        get_json(backends(), "/call-backend/direct", Some(&h)).await,
        (200, json!({"path": "direct", "status": "plain text ok"}))
    );
}

#[actix_web::test]
async fn backend_failures_are_502_not_panics() {
    let slow = serve(|_| (200, "late".into(), Duration::from_secs(2)));
    let failing = serve(|_| (500, "boom".into(), Duration::ZERO));
    let refused = refused_port();
    let h = capture("rsa-chain");
    for (url, code) in [
        (format!("http://127.0.0.1:{slow}"), "backend_timeout"),
        (format!("http://127.0.0.1:{failing}"), "backend_status"),
        (format!("http://127.0.0.1:{refused}"), "backend_unavailable"),
    ] {
        assert_eq!(
            get_json(config(refused, url), "/call-backend/direct", Some(&h)).await,
            (502, json!({"error": code})),
            "{code}"
        );
    }
    assert_eq!(
        get_json(
            config(refused, "http://127.0.0.1:1".into()),
            "/call-backend/dapr",
            Some(&h)
        )
        .await,
        (502, json!({"error": "backend_unavailable"}))
    );
}

/// `/metrics` serves the library's counters without a certificate.
#[actix_web::test]
async fn metrics_show_the_verifications_counted() {
    assert!(xfcc_example_common::metrics_text().is_some());
    let app = test::init_service(
        App::new().configure(xfcc_example_actix::configure(policy(), backends()).unwrap()),
    )
    .await;
    let missing = test::TestRequest::get().uri("/cert-info").to_request();
    assert_eq!(
        test::call_service(&app, missing).await.status().as_u16(),
        403
    );
    let res = test::call_service(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(res.status().as_u16(), 200);
    let text = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(
        text.lines().any(|l| l.starts_with("xfcc_verifications_total{")
            && l.contains("reason=\"missing\"")),
        "{text}"
    );
}
