//! A WebSocket upgrade is a request like any other: the layer verifies it
//! before the handshake, behind a real axum server (a raw HTTP/1.1
//! handshake, so the status is what a client sees).
#![cfg(feature = "axum")]
#![expect(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use xfcc::{Policy, Rule};
use xfcc_tower::{ClientCert, XfccLayer};

fn capture(name: &str) -> String {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/envoy/{name}.txt"));
    std::fs::read_to_string(p).unwrap().trim().to_owned()
}

async fn ws(upgrade: WebSocketUpgrade, cert: ClientCert) -> Response {
    let cn = cert.subject_cns().next().unwrap_or_default().to_owned();
    upgrade.on_upgrade(move |mut socket: WebSocket| async move {
        let _ = socket.send(Message::Text(cn.into())).await;
    })
}

/// Sends a WebSocket handshake with `header` as the XFCC value; returns
/// the status and what followed the answer's head (the first frame, or
/// the refusal's body).
async fn handshake(port: u16, header: Option<&str>) -> (u16, Vec<u8>) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut req = String::from(
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
    );
    if let Some(h) = header {
        req.push_str(&format!("X-Forwarded-Client-Cert: {h}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            let n = s.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
            let head_end = got.windows(4).position(|w| w == b"\r\n\r\n");
            // Enough: the head and something after it, or the end.
            if n == 0 || head_end.is_some_and(|e| got.len() > e + 4) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), read).await;
    let text = String::from_utf8_lossy(&got).into_owned();
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    let end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    (status, got[end..].to_vec())
}

#[tokio::test]
async fn a_websocket_upgrade_is_verified_before_the_handshake() {
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let pin = "642d3d0cbbf64d1e59f2c73be3d715c222020123909713797a9ee8b9410643a4";
    let policy = Policy::builder()
        .clock(move || at)
        .allow(Rule::new("pinned").thumbprint([pin]))
        .build()
        .unwrap();
    let app = Router::new()
        .route("/ws", get(ws))
        .layer(XfccLayer::new(policy));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let (status, frame) = handshake(port, Some(&capture("rsa-chain"))).await;
    assert_eq!(status, 101);
    // The first frame: text, the verified client's CN.
    assert_eq!(frame[0], 0x81, "{frame:?}");
    assert!(
        String::from_utf8_lossy(&frame).contains("client-app.contoso.example"),
        "{frame:?}"
    );
    for (header, code) in [
        (None, "missing"),
        (Some(capture("wrong-cn")), "not_allowed"),
        (Some(capture("injection-uri")), "too_many_elements"),
    ] {
        let (status, body) = handshake(port, header.as_deref()).await;
        assert_eq!(status, 403, "{code}");
        let body = String::from_utf8_lossy(&body);
        assert!(
            body.contains(&format!("{{\"error\":\"{code}\"}}")),
            "{body}"
        );
    }
}
