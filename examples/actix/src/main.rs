//! Runs the actix example on `0.0.0.0:$PORT`. SIGHUP reloads the policy
//! (certificate rotation without a restart).

use std::process::ExitCode;

use actix_web::{App, HttpServer};

#[actix_web::main]
async fn main() -> ExitCode {
    let (config, policy) = match xfcc_example_common::startup("xfcc-example-actix") {
        Ok(x) => x,
        Err(code) => return code,
    };
    let (host, port) = (config.host.clone(), config.port);
    // SIGHUP reloads the policy from the first instant the service listens
    // (without a handler it would end the process): installed before the
    // socket is bound.
    let mut hup = match actix_web::rt::signal::unix::signal(
        actix_web::rt::signal::unix::SignalKind::hangup(),
    ) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("xfcc-example-actix: cannot handle SIGHUP: {e}");
            return ExitCode::FAILURE;
        }
    };
    let reload_config = config.clone();
    actix_web::rt::spawn(async move {
        while hup.recv().await.is_some() {
            xfcc_example_common::reload(&reload_config);
        }
    });
    let tls = match config.tls_config() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("xfcc-example-actix: {e}");
            return ExitCode::from(2);
        }
    };
    let routes = match xfcc_example_actix::configure(policy, config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("xfcc-example-actix: {e}");
            return ExitCode::FAILURE;
        }
    };
    let with_tls = tls.is_some();
    // With TLS the proxy's connection ends here, and each keeps the
    // certificate the proxy presented, for `trusted_proxies`
    // (XFCC_TRUSTED_PROXY_SPKI).
    let server = HttpServer::new(move || App::new().configure(routes.clone()))
        .on_connect(xfcc_actix::tls::on_connect);
    let bound = match tls {
        Some(tls) => server.bind_rustls_0_23((host.as_str(), port), tls),
        None => server.bind((host.as_str(), port)),
    };
    let server = match bound {
        Ok(s) => s,
        Err(e) => {
            eprintln!("xfcc-example-actix: cannot listen on {host}:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(port, tls = with_tls, "listening");
    match server.run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xfcc-example-actix: {e}");
            ExitCode::FAILURE
        }
    }
}
