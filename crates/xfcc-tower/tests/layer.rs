//! XfccLayer with axum, a plain tower/hyper service and tonic, driven
//! in-process with headers captured from a real Envoy.
#![cfg(feature = "axum")]
#![expect(clippy::unwrap_used)]

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
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/envoy/{name}.txt"));
    std::fs::read_to_string(p).unwrap()
}

fn at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000) // 2027-01-15, inside the fixtures' validity
}

fn policy(mode: Mode, cn: &str) -> Policy {
    Policy::builder()
        .proxy_verifies_chain(true)
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
async fn report_mode_never_rejects_and_hands_the_refusal_to_the_handler() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let app = Router::new()
        .route(
            "/whoami",
            get(move |cert: ClientCert| {
                counted.fetch_add(1, Ordering::SeqCst);
                async move { format!("{} via {}", cert.subject(), cert.rule()) }
            }),
        )
        .route(
            "/open",
            get(|cert: Option<ClientCert>| async move {
                cert.map_or_else(|| "anonymous".to_owned(), |c| c.rule().to_owned())
            }),
        )
        .route(
            "/shadow",
            get(|req: Request<Body>| async move {
                let r = req.extensions().get::<xfcc::Rejection>();
                format!(
                    "{}:{}",
                    r.map_or("none", xfcc::Rejection::code),
                    req.extensions().get::<xfcc::ClientCert>().is_some()
                )
            }),
        )
        .layer(XfccLayer::new(policy(
            Mode::Report,
            "client-app.contoso.example",
        )));
    // Allowed: as in require mode.
    let (status, body, _) = send(&app, "/whoami", &[&capture("rsa-chain")]).await;
    assert_eq!(
        (status, body.as_str()),
        (
            StatusCode::OK,
            "CN=client-app.contoso.example,OU=Payments,O=Contoso Ltd,C=US via partner"
        )
    );
    let (_, body, _) = send(&app, "/shadow", &[&capture("rsa-chain")]).await;
    assert_eq!(body, "none:true");
    // Would-deny: the request goes on, with the refusal require would make
    // in its extensions and no identity.
    for (headers, code) in [
        (vec![capture("wrong-cn")], "not_allowed"),
        (vec![], "missing"),
        (vec![capture("injection-uri")], "too_many_elements"),
        (vec!["Cert=\"x".to_owned()], "malformed"),
    ] {
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        let (status, body, _) = send(&app, "/shadow", &refs).await;
        assert_eq!((status, body), (StatusCode::OK, format!("{code}:false")));
        let (status, body, _) = send(&app, "/open", &refs).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "anonymous"));
        // A handler that needs the identity answers with the refusal.
        let (status, body, _) = send(&app, "/whoami", &refs).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{code}");
        assert_eq!(body, format!("{{\"error\":\"{code}\"}}"));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
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
        (Some(xfcc::Reason::NotAllowed), 403)
    );
}

fn policy_on(header: &str, cn: &str) -> Policy {
    Policy::builder()
        .proxy_verifies_chain(true)
        .clock(at)
        .header_name(header)
        .allow(Rule::new("partner").subject_cn([cn]))
        .build()
        .unwrap()
}

fn fixture_cert(name: &str) -> xfcc::inspect::CertIdentity {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/certs/{name}.der"));
    xfcc::inspect::CertIdentity::from_der(std::fs::read(p).unwrap()).unwrap()
}

#[tokio::test]
async fn follows_a_reload_that_changes_the_rules_or_the_header() {
    let handle = PolicyHandle::new(policy_on("x-client-cert", "nobody"));
    let app = Router::new()
        .route("/", get(|c: ClientCert| async move { c.rule().to_owned() }))
        .layer(XfccLayer::new(handle.clone()));
    let h = capture("rsa-chain");
    let status = |name: &'static str| {
        let req = Request::get("/")
            .header(name, h.as_str())
            .body(Body::empty())
            .unwrap();
        let app = app.clone();
        async move { app.oneshot(req).await.unwrap().status() }
    };
    assert_eq!(status("x-client-cert").await, StatusCode::FORBIDDEN);
    handle.reload(policy_on("x-client-cert", "client-app.contoso.example"));
    assert_eq!(status("x-client-cert").await, StatusCode::OK);
    // Only the policy's header is read.
    assert_eq!(
        status("x-forwarded-client-cert").await,
        StatusCode::FORBIDDEN
    );
    // A reload that names another header is followed at once: the old one
    // is not read any more.
    handle.reload(policy_on("x-ssl-client-cert", "client-app.contoso.example"));
    assert_eq!(status("x-client-cert").await, StatusCode::FORBIDDEN);
    assert_eq!(status("x-ssl-client-cert").await, StatusCode::OK);
}

#[cfg(feature = "chain")]
#[tokio::test]
async fn rfc9440_chain_header_reaches_chain_rules() {
    let root = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/certs/root.pem"),
    )
    .unwrap();
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(at)
        .format(xfcc::Format::Rfc9440)
        .chain(xfcc::TrustAnchors::new("root", root))
        .allow(
            Rule::new("chained")
                .issuer_cn(["Contoso Issuing CA 1"])
                .chain("root"),
        )
        .build()
        .unwrap();
    let app = Router::new()
        .route(
            "/",
            get(|c: ClientCert| async move { format!("{} {}", c.rule(), c.chain_verified()) }),
        )
        .layer(XfccLayer::new(policy));
    let cert = xfcc::Format::Rfc9440.render(&fixture_cert("client-rsa"), &[]);
    // Client-Cert-Chain: one `:base64:` item per certificate.
    let chain = xfcc::Format::Rfc9440.render(&fixture_cert("inter"), &[]);
    let with_chain = Request::get("/")
        .header("client-cert", cert.as_str())
        .header("client-cert-chain", chain.as_str())
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(with_chain).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"chained true");
    // The chain split over two field lines is one list.
    let split = Request::get("/")
        .header("client-cert", cert.as_str())
        .header("client-cert-chain", chain.as_str())
        .header("client-cert-chain", chain.as_str())
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        app.clone().oneshot(split).await.unwrap().status(),
        StatusCode::OK
    );
    // Without the chain header the leaf alone does not chain to the root.
    let leaf_only = Request::get("/")
        .header("client-cert", cert.as_str())
        .body(Body::empty())
        .unwrap();
    let res = app.oneshot(leaf_only).await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let r = res.extensions().get::<XfccRejection>().unwrap();
    assert_eq!(r.code(), "chain_invalid");
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

#[tokio::test]
async fn the_extractor_answers_with_the_custom_rejection_response() {
    // Accept mode: the layer lets a request without a header through, and
    // the handler's `ClientCert` rejects it; the layer reshapes that too.
    let layer = XfccLayer::new(policy(Mode::Accept, "client-app.contoso.example"))
        .with_rejection_response(|r: &XfccRejection| {
            Response::builder()
                .status(StatusCode::UNAUTHORIZED)
                .header("content-type", "application/problem+json")
                .body(Body::from(format!("{{\"title\":\"{}\"}}", r.code())))
                .unwrap()
        });
    let app = Router::new()
        .route(
            "/whoami",
            get(|c: ClientCert| async move { c.rule().to_owned() }),
        )
        .route("/open", get(|| async { "open" }))
        .layer(layer);
    let (status, body, res) = send(&app, "/whoami", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, "{\"title\":\"missing\"}");
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    // Other responses pass unchanged.
    let (status, body, _) = send(&app, "/open", &[]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "open"));
    let (status, _, _) = send(&app, "/whoami", &[&capture("rsa-chain")]).await;
    assert_eq!(status, StatusCode::OK);
}

fn peer_policy() -> Policy {
    Policy::builder()
        .proxy_verifies_chain(true)
        .clock(at)
        .trusted_peers(["10.0.0.0/8"])
        .allow(Rule::new("partner").subject_cn(["client-app.contoso.example"]))
        .build()
        .unwrap()
}

/// One request to `app` from `peer` (as a `SocketAddr` extension, what a
/// hyper server inserts per connection, or axum's `ConnectInfo`).
async fn from_peer(app: &Router, peer: Option<&str>, connect_info: bool) -> (StatusCode, String) {
    let mut req = Request::get("/whoami")
        .header("x-forwarded-client-cert", capture("rsa-chain"))
        .body(Body::empty())
        .unwrap();
    if let Some(p) = peer {
        let addr: std::net::SocketAddr = p.parse().unwrap();
        if connect_info {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(addr));
        } else {
            req.extensions_mut().insert(addr);
        }
    }
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn trusted_peers_are_read_from_connect_info_or_a_socket_addr() {
    let app = app(XfccLayer::new(peer_policy()), Arc::default());
    for connect_info in [true, false] {
        let (status, body) = from_peer(&app, Some("10.1.2.3:5000"), connect_info).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            from_peer(&app, Some("192.168.0.9:5000"), connect_info).await,
            (
                StatusCode::FORBIDDEN,
                r#"{"error":"untrusted_peer"}"#.to_owned()
            )
        );
    }
    // No address at all: a wiring error, never a pass.
    assert_eq!(
        from_peer(&app, None, false).await,
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"error":"peer_unavailable"}"#.to_owned()
        )
    );
}

#[tokio::test]
async fn trusted_peers_with_a_custom_peer_source() {
    #[derive(Clone, Copy)]
    struct FromTunnel(std::net::IpAddr);
    let layer = XfccLayer::new(peer_policy()).peer_addr(|ext| ext.get::<FromTunnel>().map(|t| t.0));
    let app = app(layer, Arc::default());
    let mut req = Request::get("/whoami")
        .header("x-forwarded-client-cert", capture("rsa-chain"))
        .body(Body::empty())
        .unwrap();
    req.extensions_mut()
        .insert(FromTunnel("10.9.9.9".parse().unwrap()));
    assert_eq!(
        app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::OK
    );
    // The default sources are no longer read.
    assert_eq!(
        from_peer(&app, Some("10.1.2.3:5000"), true).await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

#[tokio::test]
async fn trusted_peers_over_a_real_socket_with_connect_info() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let allowed_local = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(at)
        .trusted_peers(["127.0.0.1/32"])
        .allow(Rule::new("partner").subject_cn(["client-app.contoso.example"]))
        .build()
        .unwrap();
    for (policy, expected) in [(allowed_local, "200 OK"), (peer_policy(), "403 Forbidden")] {
        let app = app(XfccLayer::new(policy), Arc::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .into_future(),
        );
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "GET /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Forwarded-Client-Cert: {}\r\n\r\n",
            capture("rsa-chain")
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(
            response.starts_with(&format!("HTTP/1.1 {expected}")),
            "{response}"
        );
        server.abort();
    }
}

/// `identity_from = "proxy-fields"`: a header without `Cert` (what an
/// Istio sidecar forwards) reaches the handler with the fields' identity,
/// and the handler can tell.
#[tokio::test]
async fn hands_an_identity_read_from_proxy_fields_to_the_handler() {
    let full = capture("rsa-chain");
    let fields = capture("rsa-chain-fields-only");
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .identity_from(xfcc::outcome::IdentityFrom::ProxyFields)
        .trusted_proxy("spiffe://xfcc.test/ns/edge/sa/envoy")
        .allow(Rule::new("client").spiffe_id(["spiffe://contoso.example/ns/payments/sa/client"]))
        .build()
        .unwrap();
    let app = Router::new()
        .route(
            "/whoami",
            get(|cert: ClientCert| async move {
                format!(
                    "{} {} {}",
                    cert.verified_from(),
                    cert.spiffe_id().unwrap_or("-"),
                    cert.certificate().is_some()
                )
            }),
        )
        .layer(XfccLayer::new(policy));
    let (status, body, _) = send(&app, "/whoami", &[&fields]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        "proxy-fields spiffe://contoso.example/ns/payments/sa/client false"
    );
    let (status, body, _) = send(&app, "/whoami", &[&full]).await;
    assert_eq!(
        (status, body.as_str()),
        (
            StatusCode::OK,
            "cert spiffe://contoso.example/ns/payments/sa/client true"
        )
    );
    let other = fields.replace("/sa/client", "/sa/other");
    let (status, body, _) = send(&app, "/whoami", &[&other]).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::FORBIDDEN, r#"{"error":"not_allowed"}"#)
    );
}

#[test]
fn the_service_gives_access_to_its_inner_service() {
    use tower::Layer;
    // Any inner value: the wrapper hands back the one it was given.
    let mut svc =
        XfccLayer::new(policy(Mode::Require, "client-app.contoso.example")).layer(vec![1_u8]);
    assert_eq!(svc.get_ref(), &[1]);
    svc.get_mut().push(2);
    assert_eq!(svc.into_inner(), [1, 2]);
}
