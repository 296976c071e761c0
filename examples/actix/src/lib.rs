//! The Azure Container Apps mTLS recipe in actix-web: the same routes,
//! configuration and answers as the axum example, so the two are
//! interchangeable behind the same proxy.

use actix_web::{HttpResponse, web};
use xfcc::PolicyHandle;
use xfcc_actix::{ClientCert, Xfcc};
use xfcc_example_common::{Config, call_backend, cert_info};

/// What the handlers share.
#[derive(Debug)]
pub struct AppState {
    config: Config,
    client: reqwest::Client,
}

/// Registers the routes: `/health` and `/metrics` outside the certificate
/// check (for the platform's probes and scraper), every other route behind
/// [`Xfcc`].
///
/// # Errors
/// When the HTTP client cannot be built.
pub fn configure(
    policy: PolicyHandle,
    config: Config,
) -> Result<impl FnOnce(&mut web::ServiceConfig) + Clone, String> {
    let log_rate = config.log_rate;
    let state = state(config)?;
    // Built once, cloned into every worker: one policy, cache, reload and
    // log rate.
    let xfcc = Xfcc::new(policy).log_rate(log_rate);
    Ok(move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(state)
            .route("/health", web::get().to(health))
            .route("/metrics", web::get().to(metrics))
            .service(protected_routes(web::scope("")).wrap(xfcc));
    })
}

/// The shared state of the handlers.
///
/// # Errors
/// When the HTTP client cannot be built.
pub fn state(config: Config) -> Result<web::Data<AppState>, String> {
    let client = xfcc_example_common::client(&config)?;
    Ok(web::Data::new(AppState { config, client }))
}

/// `/health`.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(xfcc_example_common::health_body(&state.config))
}

/// `/metrics`: the library's counters for Prometheus (open, as `/health`
/// is, for the platform's scraper).
pub async fn metrics() -> HttpResponse {
    match xfcc_example_common::metrics_text() {
        Some(text) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4")
            .body(text),
        None => HttpResponse::NotFound().finish(),
    }
}

/// Adds the routes that need a client certificate to `scope`, which the
/// caller wraps: [`configure`] with [`Xfcc`], the benchmarks with a stand-in
/// to measure what the middleware costs.
pub fn protected_routes(scope: actix_web::Scope) -> actix_web::Scope {
    scope
        .route("/cert-info", web::get().to(cert_info_route))
        .route("/whoami", web::get().to(whoami))
        .route("/call-backend/dapr", web::get().to(dapr))
        .route("/call-backend/direct", web::get().to(direct))
}

async fn cert_info_route(cert: ClientCert) -> HttpResponse {
    HttpResponse::Ok().json(cert_info(&cert))
}

/// The identity when there is one; in report mode, also the refusal the
/// middleware let through.
async fn whoami(cert: Option<ClientCert>, req: actix_web::HttpRequest) -> HttpResponse {
    use actix_web::HttpMessage as _;
    let ext = req.extensions();
    HttpResponse::Ok().json(xfcc_example_common::whoami(
        cert.as_deref(),
        ext.get::<xfcc::Rejection>(),
    ))
}

async fn dapr(_cert: ClientCert, s: web::Data<AppState>) -> HttpResponse {
    backend(&s, "dapr", &s.config.dapr_url()).await
}

async fn direct(_cert: ClientCert, s: web::Data<AppState>) -> HttpResponse {
    backend(&s, "direct", &s.config.direct_url()).await
}

async fn backend(s: &AppState, path: &str, url: &str) -> HttpResponse {
    match call_backend(&s.client, path, url).await {
        Ok(v) => HttpResponse::Ok().json(v),
        Err(e) => HttpResponse::BadGateway().json(e.body()),
    }
}
