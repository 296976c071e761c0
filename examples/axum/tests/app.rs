//! The axum example driven in-process: real Envoy captures for the
//! certificate, and small local servers standing in for the Dapr sidecar
//! and the direct backend.
#![expect(clippy::unwrap_used)]

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use xfcc_example_common::testing::{capture, config, policy};

/// Serves `router` on 127.0.0.1 and returns its port.
async fn serve(router: Router) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    port
}

async fn free_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

async fn get_json(app: &Router, path: &str, header: Option<&str>) -> (u16, Value) {
    let mut req = axum::http::Request::get(path);
    if let Some(h) = header {
        req = req.header("x-forwarded-client-cert", h);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status().as_u16();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn app_with_backends() -> Router {
    let dapr = serve(Router::new().route(
        "/v1.0/invoke/backend/method/health",
        get(|| async { axum::Json(json!({"status": "healthy", "via": "dapr"})) }),
    ))
    .await;
    let direct = serve(Router::new().route("/health", get(|| async { "plain text ok" }))).await;
    xfcc_example_axum::app(policy(), config(dapr, format!("http://127.0.0.1:{direct}"))).unwrap()
}

#[tokio::test]
async fn cert_info_returns_the_verified_identity() {
    let app = app_with_backends().await;
    let (status, v) = get_json(&app, "/cert-info", Some(&capture("rsa-chain"))).await;
    assert_eq!(status, 200);
    assert_eq!(v["rule"], "partner");
    assert_eq!(v["element"], 0);
    assert_eq!(
        v["identity"]["subject_cn"],
        json!(["client-app.contoso.example"])
    );
    assert_eq!(v["identity"]["issuer_cn"], json!(["Contoso Issuing CA 1"]));
    assert_eq!(v["identity"]["sha256"].as_str().unwrap().len(), 64);
    assert!(v["expires_in_seconds"].as_u64().unwrap() > 86_400);
}

#[tokio::test]
async fn rejections_are_403_with_the_reason_code() {
    let app = app_with_backends().await;
    assert_eq!(
        get_json(&app, "/cert-info", None).await,
        (403, json!({"error": "missing"}))
    );
    assert_eq!(
        get_json(&app, "/cert-info", Some(&capture("wrong-cn"))).await,
        (403, json!({"error": "not_allowed"}))
    );
    // The self-signed look-alike has the CN but no chain to the CA.
    let (status, v) = get_json(&app, "/cert-info", Some(&capture("self-signed-lookalike"))).await;
    assert_eq!((status, v["identity"].is_null()), (403, true), "{v}");
    assert_eq!(v["error"], "chain_invalid", "{v}");
    assert_eq!(
        get_json(&app, "/call-backend/direct", None).await,
        (403, json!({"error": "missing"}))
    );
}

#[tokio::test]
async fn health_needs_no_certificate() {
    let app = app_with_backends().await;
    assert_eq!(
        get_json(&app, "/health", None).await,
        (200, json!({"status": "ok"}))
    );
}

#[tokio::test]
async fn calls_the_backend_through_dapr_and_directly() {
    let app = app_with_backends().await;
    let h = capture("rsa-chain");
    assert_eq!(
        get_json(&app, "/call-backend/dapr", Some(&h)).await,
        (
            200,
            json!({"path": "dapr", "status": {"status": "healthy", "via": "dapr"}})
        )
    );
    assert_eq!(
        get_json(&app, "/call-backend/direct", Some(&h)).await,
        (200, json!({"path": "direct", "status": "plain text ok"}))
    );
}

#[tokio::test]
async fn backend_failures_are_502_not_panics() {
    let slow = serve(Router::new().route(
        "/health",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            "late"
        }),
    ))
    .await;
    let failing = serve(Router::new().route(
        "/health",
        get(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
    ))
    .await;
    let refused = free_port().await;
    let h = capture("rsa-chain");
    for (url, code) in [
        (format!("http://127.0.0.1:{slow}"), "backend_timeout"),
        (format!("http://127.0.0.1:{failing}"), "backend_status"),
        (format!("http://127.0.0.1:{refused}"), "backend_unavailable"),
    ] {
        let app = xfcc_example_axum::app(policy(), config(refused, url)).unwrap();
        assert_eq!(
            get_json(&app, "/call-backend/direct", Some(&h)).await,
            (502, json!({"error": code})),
            "{code}"
        );
    }
    // No sidecar listening: the Dapr route fails cleanly too.
    let app =
        xfcc_example_axum::app(policy(), config(refused, "http://127.0.0.1:1".into())).unwrap();
    assert_eq!(
        get_json(&app, "/call-backend/dapr", Some(&h)).await,
        (502, json!({"error": "backend_unavailable"}))
    );
}

/// `/metrics` serves the library's counters without a certificate: a
/// refusal and an allowed client are counted in it.
#[tokio::test]
async fn metrics_show_the_verifications_counted() {
    // The process's recorder, as `startup` installs it.
    assert!(xfcc_example_common::metrics_text().is_some());
    let app = app_with_backends().await;
    assert_eq!(get_json(&app, "/cert-info", None).await.0, 403);
    assert_eq!(
        get_json(&app, "/cert-info", Some(&capture("rsa-chain")))
            .await
            .0,
        200
    );
    let res = app
        .clone()
        .oneshot(
            axum::http::Request::get("/metrics")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let text =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(text.contains("xfcc_verifications_total{"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("xfcc_verifications_total{")
            && l.contains("reason=\"missing\"")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("xfcc_verifications_total{")
            && l.contains("result=\"allowed\"")),
        "{text}"
    );
}
