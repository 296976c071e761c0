//! `trusted_proxies` behind a real TLS listener: axum served through
//! `TlsListener`, called over TLS with the proxy's certificate, with none,
//! and with a look-alike; and a plain listener that cannot tell the
//! certificate, which fails closed.
#![cfg(all(feature = "axum", feature = "rustls"))]
#![expect(clippy::unwrap_used)]

#[path = "support/tls.rs"]
mod tls_support;

use std::time::Duration;

use axum::{Router, routing::get};
use tls_support::{PROXY_ID, Pki, pki};
use tokio::io::AsyncWriteExt;
use xfcc_tower::{ClientCert, XfccLayer, tls::TlsListener, tls::TlsPeer};

async fn who(cert: ClientCert) -> String {
    format!("{} via {}", cert.rule(), cert.proxy().unwrap_or("-"))
}

async fn serve_tls(pki: &Pki) -> u16 {
    serve_tls_within(pki, Duration::from_millis(500)).await
}

async fn serve_tls_within(pki: &Pki, handshake: Duration) -> u16 {
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = tcp.local_addr().unwrap().port();
    let listener = TlsListener::new(tcp, pki.server_config()).handshake_timeout(handshake);
    let app = Router::new()
        .route("/", get(who))
        .layer(XfccLayer::new(pki.policy()));
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<TlsPeer>(),
        )
        .await
        .unwrap();
    });
    port
}

#[tokio::test]
async fn the_proxy_s_connection_passes_and_every_other_is_refused() {
    let pki = pki();
    let port = serve_tls(&pki).await;
    tls_support::assert_trusted_proxy_cases(&pki, port).await;
}

#[tokio::test]
async fn a_stalled_handshake_holds_up_no_one() {
    let pki = pki();
    // Each stalled handshake could hold the listener for a minute if they
    // were done one after the other.
    let port = serve_tls_within(&pki, Duration::from_secs(60)).await;
    // Connections that never speak TLS, or send half a record.
    let mut idle = Vec::new();
    for _ in 0..4 {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        s.write_all(&[0x16, 0x03, 0x01]).await.unwrap();
        idle.push(s);
    }
    let good = pki.header(PROXY_ID);
    let call = pki.call(port, Some(&pki.proxy), Some(&good));
    let (status, _) = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .unwrap();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_listener_that_cannot_tell_the_certificate_fails_closed() {
    let pki = pki();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = tcp.local_addr().unwrap().port();
    let app = Router::new()
        .route("/", get(who))
        .layer(XfccLayer::new(pki.policy()));
    tokio::spawn(async move {
        axum::serve(
            tcp,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    tls_support::assert_plain_fails_closed(&pki, port).await;
}

/// hyper without axum's serve: `TlsListener::accept` hands over the
/// connection and its `TlsPeer`, which the server inserts into each
/// request's extensions; the layer reads it from there.
#[tokio::test]
async fn a_tls_peer_inserted_by_hand_is_read_by_the_layer() {
    use tower::ServiceExt as _;
    let pki = pki();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = tcp.local_addr().unwrap().port();
    let mut listener = TlsListener::new(tcp, pki.server_config());
    let app = Router::new()
        .route("/", get(who))
        .layer(XfccLayer::new(pki.policy()));
    let request = |peer: Option<TlsPeer>| {
        let mut req = http::Request::builder()
            .uri("/")
            .header("x-forwarded-client-cert", pki.header(PROXY_ID))
            .body(axum::body::Body::empty())
            .unwrap();
        if let Some(p) = peer {
            req.extensions_mut().insert(p);
        }
        req
    };
    for (id, want) in [
        (Some(&pki.proxy), 200),
        (Some(&pki.lookalike), 403),
        (None, 403),
    ] {
        // The client's side of the handshake; its request is never answered.
        let client = {
            let (pki, id) = (pki.clone(), id.cloned());
            tokio::spawn(async move { pki.call(port, id.as_ref(), None).await })
        };
        let (_, peer) = listener.accept().await;
        client.abort();
        let status = app
            .clone()
            .oneshot(request(Some(peer)))
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), want);
    }
    // Without the extension the layer cannot tell: a wiring error.
    let status = app.oneshot(request(None)).await.unwrap().status();
    assert_eq!(status.as_u16(), 500);
}
