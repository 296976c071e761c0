//! `trusted_proxies` behind actix-web's own rustls listener: called over
//! TLS with the proxy's certificate, with none and with a look-alike; and a
//! plain listener, whose connections cannot show a certificate, fails
//! closed.
#![cfg(feature = "rustls")]
#![expect(clippy::unwrap_used)]

#[path = "support/tls.rs"]
mod tls_support;

use actix_web::{App, HttpServer, web};
use tls_support::{Pki, pki};
use xfcc_actix::{ClientCert, Xfcc, tls};

async fn who(cert: ClientCert) -> String {
    format!("{} via {}", cert.rule(), cert.proxy().unwrap_or("-"))
}

fn serve(pki: &Pki, with_tls: bool) -> u16 {
    let xfcc = Xfcc::new(pki.policy());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server =
        HttpServer::new(move || App::new().wrap(xfcc.clone()).route("/", web::get().to(who)))
            .workers(1)
            .on_connect(tls::on_connect);
    let server = if with_tls {
        server
            .listen_rustls_0_23(listener, pki.server_config())
            .unwrap()
    } else {
        server.listen(listener).unwrap()
    };
    actix_web::rt::spawn(server.run());
    port
}

#[actix_web::test]
async fn the_proxy_s_connection_passes_and_every_other_is_refused() {
    let pki = pki();
    let port = serve(&pki, true);
    tls_support::assert_trusted_proxy_cases(&pki, port).await;
}

#[actix_web::test]
async fn a_connection_without_tls_fails_closed() {
    let pki = pki();
    let port = serve(&pki, false);
    tls_support::assert_plain_fails_closed(&pki, port).await;
}
