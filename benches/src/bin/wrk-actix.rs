//! wrk target: the actix example on 127.0.0.1:PORT, with the real Xfcc
//! middleware (`layer`, `layer-cached`) or a stand-in that inserts a
//! certificate verified once at start-up (`baseline`).
//!
//! Usage: wrk-actix PORT layer|layer-cached|baseline
#![expect(clippy::expect_used)]

use actix_web::dev::Service;
use actix_web::{App, HttpMessage, HttpServer, web};
use xfcc::PolicyHandle;
use xfcc_example_actix::{health, protected_routes, state};
use xfcc_example_common::Config;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args[1].parse().expect("port");
    let mode = args[2].clone();
    let state = state(Config::from_vars(|_| None).expect("config")).expect("state");
    let policy = PolicyHandle::new(xfcc_benches::allowlist_policy(if mode == "layer-cached" {
        1024
    } else {
        0
    }));
    // Built once and shared by every worker, as the README shows.
    let xfcc = xfcc_actix::Xfcc::new(policy);
    let cert = xfcc_benches::allowlist_policy(0)
        .verify(&xfcc_benches::capture("rsa-chain"))
        .expect("verifies");
    HttpServer::new(move || {
        let app = App::new()
            .app_data(state.clone())
            .route("/health", web::get().to(health));
        if mode == "baseline" {
            let cert = cert.clone();
            app.service(protected_routes(web::scope("")).wrap_fn(move |req, srv| {
                req.extensions_mut().insert(cert.clone());
                srv.call(req)
            }))
        } else {
            app.service(protected_routes(web::scope("")).wrap(xfcc.clone()))
        }
    })
    // As many workers as the axum target's runtime has threads (one per core).
    .workers(std::thread::available_parallelism().map_or(2, usize::from))
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
