//! The README's Rust quick start, as it is printed there.
use axum::{Router, body::Body, http::Request, routing::get};
use tower::ServiceExt;
use xfcc::{Policy, Rule};
use xfcc_tower::{ClientCert, XfccLayer};

async fn whoami(cert: ClientCert) -> String {
    format!("hello {} (rule {})", cert.subject(), cert.rule())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Pin your client's certificate (the SHA-256 or the SHA-1 the Azure
    // portal shows), or verify a chain to your CA with `TrustAnchors`.
    let policy = Policy::builder()
        .allow(
            Rule::new("partner")
                .thumbprint(["642d3d0cbbf64d1e59f2c73be3d715c222020123909713797a9ee8b9410643a4"]),
        )
        .build()?;
    let app = Router::new()
        .route("/whoami", get(whoami))
        .layer(XfccLayer::new(policy))
        .route("/health", get(|| async { "ok" }));

    // What Envoy (Azure Container Apps) forwards for that client.
    let header = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../crates/xfcc/tests/fixtures/envoy/rsa-chain.txt"
    ))?;
    for forwarded in [Some(header.trim()), None] {
        let mut request = Request::get("/whoami");
        if let Some(value) = forwarded {
            request = request.header("x-forwarded-client-cert", value);
        }
        let response = app.clone().oneshot(request.body(Body::empty())?).await?;
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 4096).await?;
        println!("{status} {}", String::from_utf8_lossy(&body));
    }
    Ok(())
}
