//! Serving the proxy's TLS in the service (feature `rustls`), for a policy
//! with `trusted_proxies`: bind with rustls and [`on_connect`], and the
//! [`Xfcc`](crate::Xfcc) middleware reads the certificate the proxy
//! presented on each connection.
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//! use xfcc_actix::{Xfcc, tls};
//! # async fn run(policy: xfcc::Policy, cert: Vec<u8>, key: Vec<u8>) -> Result<(), Box<dyn std::error::Error>> {
//! let config = xfcc::tls::server_config_from_pem(&cert, &key)?;
//! let xfcc = Xfcc::new(policy);
//! HttpServer::new(move || App::new().wrap(xfcc.clone()).route("/", web::get().to(|| async { "hi" })))
//!     .on_connect(tls::on_connect)
//!     .bind_rustls_0_23("0.0.0.0:8443", config)?
//!     .run()
//!     .await?;
//! # Ok(()) }
//! ```

use std::any::Any;

use actix_tls::accept::rustls_0_23::TlsStream;
use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;

use crate::PeerTls;

/// For [`HttpServer::on_connect`](actix_web::HttpServer::on_connect): on a
/// rustls connection, keeps the certificate chain the peer presented (or
/// that it presented none) for every request on it, where the middleware
/// reads it. Other connections get nothing, and a policy with
/// `trusted_proxies` refuses their requests as `peer_unavailable`.
pub fn on_connect(conn: &dyn Any, ext: &mut Extensions) {
    if let Some(tls) = conn.downcast_ref::<TlsStream<TcpStream>>() {
        let (_, session) = tls.get_ref();
        ext.insert(PeerTls(xfcc::tls::peer_cert(session.peer_certificates())));
    }
}
