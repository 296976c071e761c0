//! The hostile table through the tower layer, twice: in an axum router (the
//! open path a route outside the layer, everything else a layered
//! fallback) and around a plain tower service with no framework at all.
#![cfg(all(feature = "axum", feature = "toml"))]
#![expect(clippy::unwrap_used)]

#[path = "support/hostile.rs"]
mod hostile;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::IntoResponse;
use axum::routing::get;
use hostile::{Answer, Case};
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::{Layer, ServiceExt};
use xfcc::Policy;
use xfcc_tower::XfccLayer;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// What the protected handler answers: the client, or the would-be
/// refusal (report mode); 101 for an upgrade it accepts.
fn protected(upgrade: bool, ext: &http::Extensions) -> Response<Body> {
    let cn = ext
        .get::<xfcc::ClientCert>()
        .map(|c| c.subject_cns().map(str::to_owned).collect::<Vec<_>>());
    let would_deny = ext.get::<xfcc::Rejection>().map(xfcc::Rejection::code);
    let mut res = Response::new(Body::from(
        json!({"protected": true, "cn": cn, "would_deny": would_deny}).to_string(),
    ));
    if upgrade {
        *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    }
    res
}

fn request(case: &Case) -> Request<Body> {
    let mut req = Request::get(case.path.as_str());
    for (name, value) in &case.headers {
        req = req.header(name.as_str(), value.as_slice());
    }
    if case.websocket {
        req = req
            .header("upgrade", "websocket")
            .header("connection", "upgrade")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
    }
    let mut req = req.body(Body::empty()).unwrap();
    if let Some(ip) = case.peer {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(ip, 4321)));
    }
    req
}

async fn answer(res: Response<Body>) -> Answer {
    let status = res.status().as_u16();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

#[tokio::test]
async fn an_axum_router_passes_the_hostile_table() {
    let open = hostile::open_path(&fixtures());
    let mut answers = Vec::new();
    for case in hostile::cases(&fixtures(), "tower") {
        let policy = Policy::from_toml_str(&case.policy_toml, ".").unwrap();
        let app = Router::new()
            .route(&open, get(|| async { json!({"open": true}).to_string() }))
            .merge(
                Router::new()
                    .fallback(|req: Request<Body>| async move {
                        let upgrade = req.headers().contains_key("upgrade");
                        protected(upgrade, req.extensions()).into_response()
                    })
                    .layer(XfccLayer::new(policy)),
            );
        answers.push((
            case.clone(),
            answer(app.oneshot(request(&case)).await.unwrap()).await,
        ));
    }
    let mut it = answers.into_iter();
    hostile::run_all(&fixtures(), "tower", |_| it.next().unwrap().1);
}

#[tokio::test]
async fn a_plain_tower_service_passes_the_hostile_table() {
    let open = hostile::open_path(&fixtures());
    let mut answers = Vec::new();
    for case in hostile::cases(&fixtures(), "tower") {
        let policy = Policy::from_toml_str(&case.policy_toml, ".").unwrap();
        // No framework: a service_fn, the layer around it, and the open
        // path answered before the layer as a router would.
        let svc =
            XfccLayer::new(policy).layer(tower::service_fn(|req: Request<Body>| async move {
                let upgrade = req.headers().contains_key("upgrade");
                Ok::<_, Infallible>(protected(upgrade, req.extensions()))
            }));
        let req = request(&case);
        let res = if req.uri().path() == open {
            Response::new(Body::from(json!({"open": true}).to_string()))
        } else {
            svc.oneshot(req).await.unwrap()
        };
        answers.push(answer(res).await);
    }
    let mut it = answers.into_iter();
    hostile::run_all(&fixtures(), "tower", |_| it.next().unwrap());
}
