//! Runs the axum example on `0.0.0.0:$PORT`. SIGHUP reloads the policy
//! (certificate rotation without a restart).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let (config, policy) = match xfcc_example_common::startup("xfcc-example-axum") {
        Ok(x) => x,
        Err(code) => return code,
    };
    let (host, port) = (config.host.clone(), config.port);
    // SIGHUP reloads the policy from the first instant the service listens:
    // the handler is installed before the socket is bound.
    let hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("xfcc-example-axum: cannot handle SIGHUP: {e}");
            return ExitCode::FAILURE;
        }
    };
    tokio::spawn(reload_on_sighup(hup, config.clone()));
    let tls = match config.tls_config() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("xfcc-example-axum: {e}");
            return ExitCode::from(2);
        }
    };
    let app = match xfcc_example_axum::app(policy, config) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("xfcc-example-axum: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind((host.as_str(), port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("xfcc-example-axum: cannot listen on {host}:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(port, tls = tls.is_some(), "listening");
    let served = match tls {
        // The proxy's TLS ends here: each request carries the address and
        // the certificate the proxy presented, for `trusted_proxies`
        // (XFCC_TRUSTED_PROXY_SPKI) as well as `trusted_peers`.
        Some(tls) => {
            let listener = xfcc_tower::tls::TlsListener::new(listener, tls);
            let service = app.into_make_service_with_connect_info::<xfcc_tower::tls::TlsPeer>();
            axum::serve(listener, service).await
        }
        // With the peer address in each request, so that `trusted_peers`
        // (XFCC_TRUSTED_PEERS) can tell the proxy's connections from others.
        None => {
            let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, service).await
        }
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xfcc-example-axum: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn reload_on_sighup(
    mut hup: tokio::signal::unix::Signal,
    config: xfcc_example_common::Config,
) {
    while hup.recv().await.is_some() {
        xfcc_example_common::reload(&config);
    }
}
