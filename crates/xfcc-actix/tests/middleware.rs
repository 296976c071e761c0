//! The actix middleware with `actix_web::test`, and headers captured from a
//! real Envoy.
#![expect(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, test, web};
use xfcc::{Mode, Policy, PolicyHandle, Rule};
use xfcc_actix::{ClientCert, Xfcc, XfccRejection};

fn capture(name: &str) -> String {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/envoy/{name}.txt"));
    std::fs::read_to_string(p).unwrap()
}

fn policy(mode: Mode, cn: &str) -> Policy {
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    Policy::builder()
        .proxy_verifies_chain(true)
        .clock(move || at)
        .mode(mode)
        .allow(Rule::new("partner").subject_cn([cn]))
        .build()
        .unwrap()
}

async fn whoami(cert: ClientCert) -> String {
    format!("{} via {}", cert.subject(), cert.rule())
}

async fn open(cert: Option<ClientCert>) -> String {
    cert.map_or_else(|| "anonymous".to_owned(), |c| c.rule().to_owned())
}

macro_rules! app {
    ($mw:expr) => {
        test::init_service(
            App::new()
                .wrap($mw)
                .route("/whoami", web::get().to(whoami))
                .route("/open", web::get().to(open)),
        )
        .await
    };
}

fn req(path: &str, headers: &[&str]) -> actix_web::test::TestRequest {
    let mut r = test::TestRequest::get().uri(path);
    for h in headers {
        r = r.append_header(("x-forwarded-client-cert", *h));
    }
    r
}

#[actix_web::test]
async fn allows_a_valid_certificate() {
    let app = app!(Xfcc::new(policy(
        Mode::Require,
        "client-app.contoso.example"
    )));
    let res = test::call_service(&app, req("/whoami", &[&capture("rsa-chain")]).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = test::read_body(res).await;
    assert_eq!(
        body,
        "CN=client-app.contoso.example,OU=Payments,O=Contoso Ltd,C=US via partner"
    );
}

#[actix_web::test]
async fn rejects_with_403_json() {
    let app = app!(Xfcc::new(policy(
        Mode::Require,
        "client-app.contoso.example"
    )));
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
        let res = test::call_service(&app, req("/whoami", &refs).to_request()).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{code}");
        assert_eq!(
            res.headers().get("content-type").unwrap(),
            "application/json"
        );
        assert_eq!(
            res.response()
                .extensions()
                .get::<XfccRejection>()
                .unwrap()
                .code(),
            code
        );
        let body = test::read_body(res).await;
        assert_eq!(body, format!("{{\"error\":\"{code}\"}}"));
    }
}

async fn shadow(req: actix_web::HttpRequest) -> String {
    use actix_web::HttpMessage as _;
    let ext = req.extensions();
    format!(
        "{}:{}",
        ext.get::<xfcc::Rejection>()
            .map_or("none", xfcc::Rejection::code),
        ext.get::<xfcc::ClientCert>().is_some()
    )
}

#[actix_web::test]
async fn report_mode_never_rejects_and_hands_the_refusal_to_the_handler() {
    let app = test::init_service(
        App::new()
            .wrap(Xfcc::new(policy(
                Mode::Report,
                "client-app.contoso.example",
            )))
            .route("/whoami", web::get().to(whoami))
            .route("/open", web::get().to(open))
            .route("/shadow", web::get().to(shadow)),
    )
    .await;
    let body = |res| async move { String::from_utf8(test::read_body(res).await.to_vec()).unwrap() };
    let res = test::call_service(&app, req("/whoami", &[&capture("rsa-chain")]).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = test::call_service(&app, req("/shadow", &[&capture("rsa-chain")]).to_request()).await;
    assert_eq!(body(res).await, "none:true");
    for (headers, code) in [
        (vec![capture("wrong-cn")], "not_allowed"),
        (vec![], "missing"),
        (vec![capture("injection-uri")], "too_many_elements"),
        (vec!["Cert=\"x".to_owned()], "malformed"),
    ] {
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        let res = test::call_service(&app, req("/shadow", &refs).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK, "{code}");
        assert_eq!(body(res).await, format!("{code}:false"));
        let res = test::call_service(&app, req("/open", &refs).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK, "{code}");
        assert_eq!(body(res).await, "anonymous");
        // A handler that needs the identity answers with the refusal.
        let res = test::call_service(&app, req("/whoami", &refs).to_request()).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{code}");
        assert_eq!(body(res).await, format!("{{\"error\":\"{code}\"}}"));
    }
}

#[actix_web::test]
async fn accept_mode_passes_requests_without_a_header() {
    let app = app!(Xfcc::new(policy(
        Mode::Accept,
        "client-app.contoso.example"
    )));
    let body = test::call_and_read_body(&app, req("/open", &[]).to_request()).await;
    assert_eq!(body, "anonymous");
    let body =
        test::call_and_read_body(&app, req("/open", &[&capture("rsa-chain")]).to_request()).await;
    assert_eq!(body, "partner");
    let res = test::call_service(&app, req("/whoami", &[]).to_request()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(test::read_body(res).await, "{\"error\":\"missing\"}");
    let res = test::call_service(&app, req("/open", &[&capture("wrong-cn")]).to_request()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn extractor_without_the_middleware_is_a_500_not_a_panic() {
    let app = test::init_service(
        App::new()
            .route("/whoami", web::get().to(whoami))
            .route("/open", web::get().to(open)),
    )
    .await;
    let res = test::call_service(&app, req("/whoami", &[&capture("rsa-chain")]).to_request()).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        test::read_body(res).await,
        "{\"error\":\"xfcc_layer_missing\"}"
    );
    let body =
        test::call_and_read_body(&app, req("/open", &[&capture("rsa-chain")]).to_request()).await;
    assert_eq!(body, "anonymous");
}

#[actix_web::test]
async fn custom_rejection_response() {
    let mw = Xfcc::new(policy(Mode::Require, "nobody")).with_rejection_response(|r| {
        HttpResponse::Unauthorized()
            .content_type("application/problem+json")
            .body(format!("{{\"title\":\"{}\"}}", r.code()))
    });
    let app = app!(mw);
    let res = test::call_service(&app, req("/whoami", &[&capture("rsa-chain")]).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.response().extensions().get::<XfccRejection>().is_some());
    assert_eq!(test::read_body(res).await, "{\"title\":\"not_allowed\"}");
}

fn policy_on(header: &str, cn: &str) -> Policy {
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    Policy::builder()
        .proxy_verifies_chain(true)
        .clock(move || at)
        .header_name(header)
        .allow(Rule::new("partner").subject_cn([cn]))
        .build()
        .unwrap()
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/certs/{name}"))
}

#[actix_web::test]
async fn follows_a_reload_that_changes_the_rules_or_the_header() {
    let handle = PolicyHandle::new(policy_on("x-client-cert", "nobody"));
    let app = app!(Xfcc::new(handle.clone()));
    let h = capture("rsa-chain");
    let call = |name: &'static str| {
        test::TestRequest::get()
            .uri("/whoami")
            .append_header((name, h.as_str()))
            .to_request()
    };
    let status = |name| test::call_service(&app, call(name));
    assert_eq!(
        status("x-client-cert").await.status(),
        StatusCode::FORBIDDEN
    );
    handle.reload(policy_on("x-client-cert", "client-app.contoso.example"));
    assert_eq!(status("x-client-cert").await.status(), StatusCode::OK);
    // Only the policy's header is read.
    assert_eq!(
        status("x-forwarded-client-cert").await.status(),
        StatusCode::FORBIDDEN
    );
    // A reload that names another header is followed at once.
    handle.reload(policy_on("x-ssl-client-cert", "client-app.contoso.example"));
    assert_eq!(
        status("x-client-cert").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(status("x-ssl-client-cert").await.status(), StatusCode::OK);
}

#[cfg(feature = "chain")]
#[actix_web::test]
async fn rfc9440_chain_header_reaches_chain_rules() {
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(move || at)
        .format(xfcc::Format::Rfc9440)
        .chain(xfcc::TrustAnchors::new(
            "root",
            std::fs::read(fixture("root.pem")).unwrap(),
        ))
        .allow(
            Rule::new("chained")
                .issuer_cn(["Contoso Issuing CA 1"])
                .chain("root"),
        )
        .build()
        .unwrap();
    let app = app!(Xfcc::new(policy));
    let ident = |n: &str| {
        xfcc::inspect::CertIdentity::from_der(std::fs::read(fixture(&format!("{n}.der"))).unwrap())
            .unwrap()
    };
    let cert = xfcc::Format::Rfc9440.render(&ident("client-rsa"), &[]);
    // Client-Cert-Chain: one `:base64:` item per certificate.
    let chain = xfcc::Format::Rfc9440.render(&ident("inter"), &[]);
    let with_chain = test::TestRequest::get()
        .uri("/whoami")
        .append_header(("client-cert", cert.as_str()))
        .append_header(("client-cert-chain", chain.as_str()))
        .to_request();
    let res = test::call_service(&app, with_chain).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        String::from_utf8(test::read_body(res).await.to_vec())
            .unwrap()
            .ends_with("via chained")
    );
    let leaf_only = test::TestRequest::get()
        .uri("/whoami")
        .append_header(("client-cert", cert.as_str()))
        .to_request();
    let res = test::call_service(&app, leaf_only).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(test::read_body(res).await, "{\"error\":\"chain_invalid\"}");
}

#[actix_web::test]
async fn rejection_in_the_response_is_a_response_error() {
    use actix_web::ResponseError;
    let app = app!(Xfcc::new(policy(Mode::Require, "nobody")));
    let res = test::call_service(&app, req("/whoami", &[]).to_request()).await;
    let r = res
        .response()
        .extensions()
        .get::<XfccRejection>()
        .unwrap()
        .clone();
    assert_eq!(r.status_code(), StatusCode::FORBIDDEN);
    assert!(r.is_missing());
    assert!(!r.is_layer_missing());
    assert_eq!(r.reason(), Some(xfcc::Reason::Missing));
    assert_eq!(r.rejection().map(|r| r.detail().code()), Some("missing"));
    assert_eq!(r.json_body(), r#"{"error":"missing"}"#);
    assert_eq!(r.to_string(), "client certificate rejected: missing");
}

#[actix_web::test]
async fn the_extractor_answers_with_the_custom_rejection_response() {
    // Accept mode: the middleware lets a request without a header through,
    // and the handler's `ClientCert` rejects it with the custom shape.
    let mw = Xfcc::new(policy(Mode::Accept, "client-app.contoso.example")).with_rejection_response(
        |r| {
            HttpResponse::Unauthorized()
                .content_type("application/problem+json")
                .body(format!("{{\"title\":\"{}\"}}", r.code()))
        },
    );
    let app = app!(mw);
    let res = test::call_service(&app, req("/whoami", &[]).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(test::read_body(res).await, "{\"title\":\"missing\"}");
}

#[actix_web::test]
async fn one_middleware_built_outside_the_server_serves_every_worker() {
    // What `HttpServer::new(move || App::new().wrap(xfcc.clone()))` does:
    // each worker gets a clone of one Xfcc, so one reload reaches all.
    let handle = PolicyHandle::new(policy(Mode::Require, "nobody"));
    let xfcc = Xfcc::new(handle.clone());
    let workers = std::thread::scope(|s| {
        (0..2)
            .map(|_| {
                let x = xfcc.clone();
                s.spawn(move || x).join().unwrap()
            })
            .collect::<Vec<_>>()
    });
    let (a, b) = (app!(workers[0].clone()), app!(workers[1].clone()));
    let h = capture("rsa-chain");
    for app in [&a, &b] {
        let res = test::call_service(app, req("/whoami", &[&h]).to_request()).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    handle.reload(policy(Mode::Require, "client-app.contoso.example"));
    for app in [&a, &b] {
        let res = test::call_service(app, req("/whoami", &[&h]).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
}

#[actix_web::test]
async fn trusted_peers_are_read_from_the_connection() {
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(move || at)
        .trusted_peers(["10.0.0.0/8"])
        .allow(Rule::new("partner").subject_cn(["client-app.contoso.example"]))
        .build()
        .unwrap();
    let app = app!(Xfcc::new(policy));
    let from = |peer: Option<&str>| {
        let r = req("/whoami", &[&capture("rsa-chain")]);
        match peer {
            Some(p) => r.peer_addr(p.parse().unwrap()),
            None => r,
        }
        .to_request()
    };
    let res = test::call_service(&app, from(Some("10.1.2.3:4000"))).await;
    assert_eq!(res.status(), StatusCode::OK);
    // A client that went around the proxy, even with a forged
    // X-Forwarded-For: the TCP peer decides.
    let spoofed = req("/whoami", &[&capture("rsa-chain")])
        .peer_addr("192.168.0.9:4000".parse().unwrap())
        .insert_header(("x-forwarded-for", "10.1.2.3"))
        .to_request();
    let res = test::call_service(&app, spoofed).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(test::read_body(res).await, r#"{"error":"untrusted_peer"}"#);
    let res = test::call_service(&app, from(None)).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        test::read_body(res).await,
        r#"{"error":"peer_unavailable"}"#
    );
}

/// `identity_from = "proxy-fields"`: a header without `Cert` (what an
/// Istio sidecar forwards) reaches the handler with the fields' identity.
#[actix_web::test]
async fn hands_an_identity_read_from_proxy_fields_to_the_handler() {
    async fn from(cert: ClientCert) -> String {
        format!(
            "{} {} {}",
            cert.verified_from(),
            cert.spiffe_id().unwrap_or("-"),
            cert.certificate().is_some()
        )
    }
    let fields = capture("rsa-chain-fields-only");
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .identity_from(xfcc::outcome::IdentityFrom::ProxyFields)
        .trusted_proxy("spiffe://xfcc.test/ns/edge/sa/envoy")
        .allow(Rule::new("client").spiffe_id(["spiffe://contoso.example/ns/payments/sa/client"]))
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .wrap(Xfcc::new(policy))
            .route("/from", web::get().to(from)),
    )
    .await;
    let res = test::call_service(&app, req("/from", &[&fields]).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        test::read_body(res).await,
        "proxy-fields spiffe://contoso.example/ns/payments/sa/client false"
    );
    let other = fields.replace("/sa/client", "/sa/other");
    let res = test::call_service(&app, req("/from", &[&other]).to_request()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(test::read_body(res).await, r#"{"error":"not_allowed"}"#);
}
