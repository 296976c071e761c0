//! wrk target: the axum example on 127.0.0.1:PORT, protected by the real
//! XfccLayer (`layer`, `layer-cached`) or by a stand-in that inserts a
//! certificate verified once at start-up (`baseline`): same routes, same
//! handlers, so the difference is what the layer costs per request.
//!
//! Usage: wrk-axum PORT layer|layer-cached|baseline
#![expect(clippy::expect_used, clippy::panic)]

use axum::extract::Request;
use axum::middleware::{Next, from_fn};
use xfcc::PolicyHandle;
use xfcc_example_common::Config;
use xfcc_tower::XfccLayer;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args[1].parse().expect("port");
    let mode = args[2].as_str();
    let config = Config::from_vars(|_| None).expect("config");
    let app = match mode {
        "layer" | "layer-cached" => {
            let policy = xfcc_benches::allowlist_policy(if mode == "layer" { 0 } else { 1024 });
            xfcc_example_axum::with_protection(config, |r| {
                r.layer(XfccLayer::new(PolicyHandle::new(policy)))
            })
        }
        "baseline" => {
            let cert = xfcc_benches::allowlist_policy(0)
                .verify(&xfcc_benches::capture("rsa-chain"))
                .expect("verifies");
            xfcc_example_axum::with_protection(config, move |r| {
                r.layer(from_fn(move |mut req: Request, next: Next| {
                    req.extensions_mut().insert(cert.clone());
                    next.run(req)
                }))
            })
        }
        other => panic!("unknown mode {other}"),
    }
    .expect("app");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
