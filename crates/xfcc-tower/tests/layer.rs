//! XfccLayer with axum, a plain tower/hyper service and tonic, driven
//! in-process with headers captured from a real Envoy.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use tower::{ServiceBuilder, ServiceExt};
use xfcc::{Mode, Policy, PolicyHandle, Rule};
use xfcc_tower::{ClientCert, XfccLayer, XfccRejection};

fn capture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../xfcc/tests/fixtures/envoy/{name}.txt"));
    std::fs::read_to_string(p).unwrap()
}

fn at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000) // 2027-01-15, inside the fixtures' validity
}

fn policy(mode: Mode, cn: &str) -> Policy {
    Policy::builder()
        .clock(at)
        .mode(mode)
        .allow(Rule::new("partner").subject_cn([cn]))
        .build()
        .unwrap()
}

fn app(layer: XfccLayer, calls: Arc<AtomicUsize>) -> Router {
    Router::new()
        .route(
            "/whoami",
            get(move |cert: ClientCert| {
                calls.fetch_add(1, Ordering::SeqCst);
                async move { format!("{} via {}", cert.subject(), cert.rule()) }
            }),
        )
        .route(
            "/open",
            get(|cert: Option<ClientCert>| async move {
                cert.map_or_else(|| "anonymous".to_owned(), |c| c.rule().to_owned())
            }),
        )
        .layer(layer)
}

async fn send(app: &Router, path: &str, headers: &[&str]) -> (StatusCode, String, Response<Body>) {
    let mut req = Request::get(path);
    for h in headers {
        req = req.header("x-forwarded-client-cert", *h);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        status,
        String::from_utf8(bytes.to_vec()).unwrap(),
        Response::from_parts(parts, Body::empty()),
    )
}

#[tokio::test]
async fn allows_a_valid_certificate_and_puts_it_in_extensions() {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = app(
        XfccLayer::new(policy(Mode::Require, "client-app.contoso.example")),
        calls.clone(),
    );
    let (status, body, _) = send(&app, "/whoami", &[&capture("rsa-chain")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        "CN=client-app.contoso.example,OU=Payments,O=Contoso Ltd,C=US via partner"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn rejects_with_403_json_without_calling_the_handler() {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = app(
        XfccLayer::new(policy(Mode::Require, "client-app.contoso.example")),
        calls.clone(),
    );
    for (headers, code) in [
        (vec![capture("wrong-cn")], "not_allowed"),
        (vec![], "missing"),
        (
            vec![capture("rsa-chain"), capture("rsa-chain")],
            "multiple_headers",
        ),
        (vec![capture("injection-uri")], "too_many_elements"),
        (vec![capture("injection-semicolon")], "inconsistent"),
        (vec!["Cert=\"x".to_owned()], "malformed"),
    ] {
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        let (status, body, res) = send(&app, "/whoami", &refs).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{code}");
        assert_eq!(body, format!("{{\"error\":\"{code}\"}}"));
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(
            res.extensions().get::<XfccRejection>().unwrap().code(),
            code
        );
        assert!(!body.contains("MII"));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn accept_mode_passes_requests_without_a_header() {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = app(
        XfccLayer::new(policy(Mode::Accept, "client-app.contoso.example")),
        calls.clone(),
    );
    assert_eq!(send(&app, "/open", &[]).await.1, "anonymous");
    assert_eq!(
        send(&app, "/open", &[&capture("rsa-chain")]).await.1,
        "partner"
    );
    let (status, body, _) = send(&app, "/whoami", &[]).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::FORBIDDEN, "{\"error\":\"missing\"}")
    );
    // A header that is present must still verify.
    let (status, body, _) = send(&app, "/open", &[&capture("wrong-cn")]).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::FORBIDDEN, "{\"error\":\"not_allowed\"}")
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn extractor_without_the_layer_is_a_500_not_a_panic() {
    let app = Router::new()
        .route(
            "/whoami",
            get(|cert: ClientCert| async move { cert.subject().to_owned() }),
        )
        .route(
            "/open",
            get(|cert: Option<ClientCert>| async move { format!("{}", cert.is_some()) }),
        );
    let (status, body, _) = send(&app, "/whoami", &[&capture("rsa-chain")]).await;
    assert_eq!(
        (status, body.as_str()),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "{\"error\":\"xfcc_layer_missing\"}"
        )
    );
    let (status, body, _) = send(&app, "/open", &[&capture("rsa-chain")]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "false"));
}

#[tokio::test]
async fn custom_rejection_response() {
    let layer = XfccLayer::new(policy(Mode::Require, "nobody")).with_rejection_response(
        |r: &XfccRejection| {
            Response::builder()
                .status(StatusCode::UNAUTHORIZED)
                .header("content-type", "application/problem+json")
                .body(Body::from(format!(
                    "{{\"type\":\"about:blank\",\"title\":\"{}\",\"status\":401}}",
                    r.code()
                )))
                .unwrap()
        },
    );
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(layer);
    let (status, body, res) = send(&app, "/", &[&capture("rsa-chain")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"title\":\"not_allowed\""));
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let r = res.extensions().get::<XfccRejection>().unwrap();
    assert_eq!(
        (r.reason(), r.status().as_u16()),
        (xfcc::Reason::NotAllowed, 403)
    );
}

#[tokio::test]
async fn reloads_through_a_policy_handle_and_reads_a_custom_header() {
    let handle = PolicyHandle::new(policy(Mode::Require, "nobody"));
    let layer =
        XfccLayer::new(handle.clone()).header_name(http::HeaderName::from_static("x-client-cert"));
    let app = Router::new()
        .route("/", get(|c: ClientCert| async move { c.rule().to_owned() }))
        .layer(layer);
    let req = |v: &str| {
        Request::get("/")
            .header("x-client-cert", v)
            .body(Body::empty())
            .unwrap()
    };
    let h = capture("rsa-chain");
    assert_eq!(
        app.clone().oneshot(req(&h)).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    handle.reload(policy(Mode::Require, "client-app.contoso.example"));
    assert_eq!(
        app.clone().oneshot(req(&h)).await.unwrap().status(),
        StatusCode::OK
    );
    // The default header is not read any more.
    let other = Request::get("/")
        .header("x-forwarded-client-cert", h.as_str())
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        app.oneshot(other).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn works_on_a_plain_tower_service_with_any_body() {
    use bytes::Bytes;
    use http_body_util::Full;
    let svc = ServiceBuilder::new()
        .layer(XfccLayer::new(policy(
            Mode::Require,
            "client-app.contoso.example",
        )))
        .service_fn(|req: Request<()>| async move {
            let cert = req.extensions().get::<xfcc::ClientCert>().cloned();
            Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(
                cert.unwrap().sha256_hex(),
            ))))
        });
    let ok = svc
        .clone()
        .oneshot(
            Request::get("/")
                .header("x-forwarded-client-cert", capture("rsa-chain"))
                .body(())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let body = ok.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body.len(), 64);
    let denied = svc
        .oneshot(Request::get("/").body(()).unwrap())
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        denied.into_body().collect().await.unwrap().to_bytes(),
        "{\"error\":\"missing\"}"
    );
}

#[tokio::test]
async fn tonic_service_gets_permission_denied() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;

    let (_reporter, health) = tonic_health::server::health_reporter();
    let layer = XfccLayer::new(policy(Mode::Require, "client-app.contoso.example"))
        .with_rejection_response(|r: &XfccRejection| {
            tonic::Status::permission_denied(r.code()).into_http()
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .layer(layer)
            .add_service(health)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = HealthClient::new(channel);
    let call = |header: Option<String>| {
        let mut req = tonic::Request::new(HealthCheckRequest {
            service: String::new(),
        });
        if let Some(h) = header {
            req.metadata_mut()
                .insert("x-forwarded-client-cert", h.parse().unwrap());
        }
        req
    };
    let ok = client
        .check(call(Some(capture("rsa-chain"))))
        .await
        .unwrap();
    assert_eq!(ok.into_inner().status, ServingStatus::Serving as i32);
    let denied = client
        .check(call(Some(capture("wrong-cn"))))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    assert_eq!(denied.message(), "not_allowed");
    let missing = client.check(call(None)).await.unwrap_err();
    assert_eq!(
        (missing.code(), missing.message()),
        (tonic::Code::PermissionDenied, "missing")
    );
    server.abort();
}
