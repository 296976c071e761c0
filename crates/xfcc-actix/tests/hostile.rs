//! The hostile table through the actix-web middleware: the open path a
//! route outside it, every other path a scope it wraps.
#![cfg(feature = "toml")]
#![expect(clippy::unwrap_used)]

#[path = "support/hostile.rs"]
mod hostile;

use std::net::SocketAddr;
use std::path::PathBuf;

use actix_web::http::StatusCode;
use actix_web::{App, HttpMessage, HttpRequest, HttpResponse, test, web};
use hostile::Answer;
use serde_json::{Value, json};
use xfcc::Policy;
use xfcc_actix::Xfcc;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The client, or the would-be refusal (report mode); 101 for an upgrade
/// it accepts.
async fn protected(req: HttpRequest) -> HttpResponse {
    let ext = req.extensions();
    let cn = ext
        .get::<xfcc::ClientCert>()
        .map(|c| c.subject_cns().map(str::to_owned).collect::<Vec<_>>());
    let would_deny = ext.get::<xfcc::Rejection>().map(xfcc::Rejection::code);
    let status = if req.headers().contains_key("upgrade") {
        StatusCode::SWITCHING_PROTOCOLS
    } else {
        StatusCode::OK
    };
    HttpResponse::build(status)
        .body(json!({"protected": true, "cn": cn, "would_deny": would_deny}).to_string())
}

#[actix_web::test]
async fn the_middleware_passes_the_hostile_table() {
    let open = hostile::open_path(&fixtures());
    let mut answers = Vec::new();
    for case in hostile::cases(&fixtures(), "actix") {
        let policy = Policy::from_toml_str(&case.policy_toml, ".").unwrap();
        let app = test::init_service(
            App::new()
                .route(
                    &open,
                    web::get().to(|| async {
                        HttpResponse::Ok().body(json!({"open": true}).to_string())
                    }),
                )
                .service(
                    web::scope("")
                        .wrap(Xfcc::new(policy))
                        .default_service(web::to(protected)),
                ),
        )
        .await;
        let mut req = test::TestRequest::get().uri(&case.path);
        for (name, value) in &case.headers {
            req = req.append_header((name.as_str(), value.as_slice()));
        }
        if case.websocket {
            req = req
                .append_header(("upgrade", "websocket"))
                .append_header(("connection", "upgrade"))
                .append_header(("sec-websocket-version", "13"))
                .append_header(("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="));
        }
        if let Some(ip) = case.peer {
            req = req.peer_addr(SocketAddr::new(ip, 4321));
        }
        let res = test::call_service(&app, req.to_request()).await;
        let status = res.status().as_u16();
        let bytes = test::read_body(res).await;
        answers.push(Answer {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        });
    }
    let mut it = answers.into_iter();
    hostile::run_all(&fixtures(), "actix", |_| it.next().unwrap());
}
