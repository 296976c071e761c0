//! The Azure Container Apps mTLS recipe in axum: `/cert-info`, `/health`,
//! `/call-backend/dapr` and `/call-backend/direct` (and `/whoami`, whose
//! identity is optional), with the client
//! certificate verified by `xfcc-tower`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use xfcc::PolicyHandle;
use xfcc_example_common::{Config, call_backend, cert_info};
use xfcc_tower::{ClientCert, XfccLayer};

/// What the handlers share.
#[derive(Clone, Debug)]
pub struct AppState {
    config: Config,
    client: reqwest::Client,
}

/// The application. `/health` and `/metrics` are outside the certificate
/// check (for the platform's probes and scraper, which reach the container
/// directly); every other route is behind [`XfccLayer`].
///
/// # Errors
/// When the HTTP client cannot be built.
pub fn app(policy: PolicyHandle, config: Config) -> Result<Router, String> {
    let log_rate = config.log_rate;
    with_protection(config, |routes| {
        routes.layer(XfccLayer::new(policy).log_rate(log_rate))
    })
}

/// The application, with `protect` applied to every route but `/health`.
/// [`app`] passes [`XfccLayer`]; the benchmarks pass a stand-in to measure
/// what the layer costs.
///
/// # Errors
/// When the HTTP client cannot be built.
pub fn with_protection(
    config: Config,
    protect: impl FnOnce(Router<AppState>) -> Router<AppState>,
) -> Result<Router, String> {
    let client = xfcc_example_common::client(&config)?;
    let protected = Router::new()
        .route("/cert-info", get(cert_info_route))
        .route("/whoami", get(whoami))
        .route("/call-backend/dapr", get(dapr))
        .route("/call-backend/direct", get(direct));
    Ok(Router::new()
        .route(
            "/health",
            get(|State(s): State<AppState>| async move {
                Json(xfcc_example_common::health_body(&s.config))
            }),
        )
        .route("/metrics", get(metrics))
        .merge(protect(protected))
        .with_state(AppState { config, client }))
}

/// `/metrics`: the library's counters for Prometheus (open, as `/health`
/// is, for the platform's scraper).
async fn metrics() -> Response {
    match xfcc_example_common::metrics_text() {
        Some(text) => ([("content-type", "text/plain; version=0.0.4")], text).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn cert_info_route(cert: ClientCert) -> Json<serde_json::Value> {
    Json(cert_info(&cert))
}

/// The identity when there is one; in report mode, also the refusal the
/// layer let through.
async fn whoami(
    cert: Option<ClientCert>,
    would_deny: Option<Extension<xfcc::Rejection>>,
) -> Json<serde_json::Value> {
    Json(xfcc_example_common::whoami(
        cert.as_deref(),
        would_deny.as_ref().map(|Extension(r)| r),
    ))
}

async fn dapr(_cert: ClientCert, State(s): State<AppState>) -> Response {
    backend(&s, "dapr", &s.config.dapr_url()).await
}

async fn direct(_cert: ClientCert, State(s): State<AppState>) -> Response {
    backend(&s, "direct", &s.config.direct_url()).await
}

async fn backend(s: &AppState, path: &str, url: &str) -> Response {
    match call_backend(&s.client, path, url).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, Json(e.body())).into_response(),
    }
}
