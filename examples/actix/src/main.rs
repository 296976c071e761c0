//! Runs the actix example on `0.0.0.0:$PORT`.

use std::process::ExitCode;

use actix_web::{App, HttpServer};

#[actix_web::main]
async fn main() -> ExitCode {
    let (config, policy) = match xfcc_example_common::startup("xfcc-example-actix") {
        Ok(x) => x,
        Err(code) => return code,
    };
    let (host, port) = (config.host.clone(), config.port);
    let routes = match xfcc_example_actix::configure(policy, config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("xfcc-example-actix: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = match HttpServer::new(move || App::new().configure(routes.clone()))
        .bind((host.as_str(), port))
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("xfcc-example-actix: cannot listen on {host}:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(port, "listening");
    match server.run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xfcc-example-actix: {e}");
            ExitCode::FAILURE
        }
    }
}
