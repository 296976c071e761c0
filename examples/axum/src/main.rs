//! Runs the axum example on `0.0.0.0:$PORT`. SIGHUP reloads the policy
//! (certificate rotation without a restart).

use std::process::ExitCode;

use xfcc::PolicyHandle;
use xfcc_example_common::policy_from_env;

#[tokio::main]
async fn main() -> ExitCode {
    let (config, policy) = match xfcc_example_common::startup("xfcc-example-axum") {
        Ok(x) => x,
        Err(code) => return code,
    };
    let (host, port) = (config.host.clone(), config.port);
    let app = match xfcc_example_axum::app(policy.clone(), config) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("xfcc-example-axum: {e}");
            return ExitCode::FAILURE;
        }
    };
    tokio::spawn(reload_on_sighup(policy));
    let listener = match tokio::net::TcpListener::bind((host.as_str(), port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("xfcc-example-axum: cannot listen on {host}:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(port, "listening");
    // With the peer address in each request, so that `trusted_peers`
    // (XFCC_TRUSTED_PEERS) can tell the proxy's connections from others.
    let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    match axum::serve(listener, service).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xfcc-example-axum: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn reload_on_sighup(policy: PolicyHandle) {
    let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        return;
    };
    while hup.recv().await.is_some() {
        match policy_from_env() {
            Ok(p) => {
                policy.reload(p);
                tracing::info!("policy reloaded");
            }
            Err(e) => {
                tracing::error!(error = %e, "policy reload failed; keeping the current policy")
            }
        }
    }
}
