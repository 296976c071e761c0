//! A WebSocket upgrade is a request like any other: the middleware verifies
//! it before the handshake, behind a real actix-web server (a raw HTTP/1.1
//! handshake, so the status is what a client sees).
#![expect(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use actix_web::{App, Error, HttpRequest, HttpResponse, HttpServer, web};
use xfcc::{Policy, Rule};
use xfcc_actix::{ClientCert, Xfcc};

fn capture(name: &str) -> String {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/envoy/{name}.txt"));
    std::fs::read_to_string(p).unwrap().trim().to_owned()
}

async fn ws(req: HttpRequest, body: web::Payload, cert: ClientCert) -> Result<HttpResponse, Error> {
    let (response, mut session, _stream) = actix_ws::handle(&req, body)?;
    let cn = cert.subject_cns().next().unwrap_or_default().to_owned();
    actix_web::rt::spawn(async move {
        let _ = session.text(cn).await;
    });
    Ok(response)
}

/// Sends a WebSocket handshake with `header` as the XFCC value (blocking:
/// run it off the server's runtime); returns the status and what followed
/// the answer's head (the first frame, or the refusal's body).
fn handshake(port: u16, header: Option<&str>) -> (u16, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut req = String::from(
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
    );
    if let Some(h) = header {
        req.push_str(&format!("X-Forwarded-Client-Cert: {h}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        got.extend_from_slice(&buf[..n]);
        let head_end = got.windows(4).position(|w| w == b"\r\n\r\n");
        if n == 0 || head_end.is_some_and(|e| got.len() > e + 4) {
            break;
        }
    }
    let text = String::from_utf8_lossy(&got).into_owned();
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    let end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    (status, got[end..].to_vec())
}

#[actix_web::test]
async fn a_websocket_upgrade_is_verified_before_the_handshake() {
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let pin = "642d3d0cbbf64d1e59f2c73be3d715c222020123909713797a9ee8b9410643a4";
    let policy = Policy::builder()
        .clock(move || at)
        .allow(Rule::new("pinned").thumbprint([pin]))
        .build()
        .unwrap();
    let xfcc = Xfcc::new(policy);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(xfcc.clone())
            .route("/ws", web::get().to(ws))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let call = |header: Option<String>| {
        actix_web::rt::task::spawn_blocking(move || handshake(port, header.as_deref()))
    };
    let (status, frame) = call(Some(capture("rsa-chain"))).await.unwrap();
    assert_eq!(status, 101);
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
        let (status, body) = call(header).await.unwrap();
        assert_eq!(status, 403, "{code}");
        let body = String::from_utf8_lossy(&body);
        assert!(
            body.contains(&format!("{{\"error\":\"{code}\"}}")),
            "{body}"
        );
    }
    handle.stop(true).await;
}
