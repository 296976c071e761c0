//! `xfcc probe URL --victim victim.pem`: tests the deployed boundary. It
//! sends one request without forgery (the baseline), then the same request
//! with a victim's public certificate forged into every certificate header
//! a proxy may forward, in the ways proxies have been fooled (the header
//! twice, case and underscore look-alikes, the hop-by-hop trick, an element
//! appended to a real one), and reports, per variant, whether it
//! authenticated. Bounded: one connection per request, a timeout each, no
//! retries, at most 64 KiB read of each answer.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use xfcc::{Format, inspect::CertIdentity, render::EnvoyFields};

use crate::Failure;

/// The most of an answer read: enough for a status and an error body.
const MAX_ANSWER: usize = 64 * 1024;

/// What `probe` is given.
pub(crate) struct Inputs<'a> {
    pub(crate) url: &'a str,
    pub(crate) victim: &'a Path,
    pub(crate) cert: Option<&'a Path>,
    pub(crate) key: Option<&'a Path>,
    pub(crate) cacert: Option<&'a Path>,
    pub(crate) plain: Option<&'a str>,
    pub(crate) direct: Option<&'a str>,
    pub(crate) timeout: Duration,
}

/// A parsed `http://` or `https://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    tls: bool,
    host: String,
    port: u16,
    /// Path and query, starting with `/`.
    path: String,
}

fn parse_url(url: &str, what: &str) -> Result<Target, Failure> {
    let bad = |why: &str| Failure::usage(format!("{what} {url:?}: {why}"));
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(bad("not an http:// or https:// URL"));
    };
    let (authority, path) = rest
        .find(['/', '?'])
        .map_or((rest, "/"), |i| rest.split_at(i));
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    };
    if authority.is_empty() || authority.contains('@') {
        return Err(bad(
            "no host (or user information, which the probe does not send)",
        ));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("an IPv6 address without `]`"))?;
        (h.to_owned(), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (authority.to_owned(), None),
        }
    };
    let port = match port {
        Some(p) => p
            .parse()
            .map_err(|_| bad("the port is not a number from 1 to 65535"))?,
        None if tls => 443,
        None => 80,
    };
    if port == 0 || path.chars().any(|c| c.is_ascii_control() || c == ' ') {
        return Err(bad(
            "a port of 0, or spaces or control characters in the path",
        ));
    }
    Ok(Target {
        tls,
        host,
        port,
        path,
    })
}

/// One request's headers, beside Host and Connection.
struct Variant {
    name: String,
    /// What it tries, in a few words.
    what: &'static str,
    headers: Vec<(String, String)>,
    /// The form the forged value is written in (`envoy`, `envoy JSON`, a
    /// format's name).
    form: &'static str,
    /// The Connection header (`close` unless the variant lists a header in it).
    connection: &'static str,
}

fn variants(victim: &CertIdentity, own: Option<&CertIdentity>) -> Vec<Variant> {
    let fields = EnvoyFields::ALL;
    let element = xfcc::render::render_envoy(&[], victim, &[], fields);
    let xfcc = |name: &str, what, headers: Vec<(&str, String)>, connection| Variant {
        name: name.to_owned(),
        what,
        headers: headers
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        form: "envoy",
        connection,
    };
    // Envoy's JSON form (Envoy 1.38+): an APPEND_FORWARD hop writes the
    // form of the header it received, whatever its own configuration.
    let json_element = xfcc::render::render_envoy_json(&[], victim, &[], fields);
    let json = |name: &str, what, value: String| Variant {
        name: name.to_owned(),
        what,
        headers: vec![("X-Forwarded-Client-Cert".to_owned(), value)],
        form: "envoy JSON",
        connection: "close",
    };
    let mut out = vec![
        xfcc(
            "xfcc",
            "the victim's element in X-Forwarded-Client-Cert",
            vec![("X-Forwarded-Client-Cert", element.clone())],
            "close",
        ),
        xfcc(
            "xfcc_twice",
            "the header sent twice",
            vec![
                ("X-Forwarded-Client-Cert", element.clone()),
                ("X-Forwarded-Client-Cert", element.clone()),
            ],
            "close",
        ),
        xfcc(
            "xfcc_case",
            "a case look-alike of the name",
            vec![("x-FORWARDED-client-CERT", element.clone())],
            "close",
        ),
        xfcc(
            "xfcc_underscore",
            "an underscore look-alike (X_Forwarded_Client_Cert)",
            vec![("X_Forwarded_Client_Cert", element.clone())],
            "close",
        ),
        xfcc(
            "xfcc_hop_by_hop",
            "the header named in Connection (hop-by-hop)",
            vec![("X-Forwarded-Client-Cert", element.clone())],
            "close, X-Forwarded-Client-Cert",
        ),
    ];
    out.push(json(
        "xfcc_json",
        "the victim's element in Envoy's JSON form",
        json_element.clone(),
    ));
    if let Some(own) = own {
        let real = xfcc::render::render_envoy(&[], own, &[], fields);
        out.push(xfcc(
            "xfcc_after_real",
            "the victim's element appended to the caller's real one",
            vec![("X-Forwarded-Client-Cert", format!("{real},{element}"))],
            "close",
        ));
        let real_json = xfcc::render::render_envoy_json(&[], own, &[], fields);
        out.push(json(
            "xfcc_json_after_real",
            "the victim's JSON element after the caller's real one",
            format!(
                "{},{}",
                real_json.trim_end_matches(']'),
                json_element.trim_start_matches('[')
            ),
        ));
    }
    for format in [
        Format::Nginx,
        Format::Haproxy,
        Format::Rfc9440,
        Format::Caddy,
        Format::AppService,
        Format::Traefik,
        Format::AwsAlb,
        Format::Gorouter,
    ] {
        out.push(Variant {
            name: format.code().replace('-', "_"),
            what: "the victim's certificate in this format's header",
            headers: vec![(format.header_name().to_owned(), format.render(victim, &[]))],
            form: format.code(),
            connection: "close",
        });
    }
    out
}

/// An answer: its status and the start of its body.
struct Answer {
    status: u16,
    body: String,
}

fn tls_config(inputs: &Inputs<'_>) -> Result<Arc<rustls::ClientConfig>, Failure> {
    use pki_types::pem::PemObject;
    use pki_types::{CertificateDer, PrivateKeyDer};
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca) = inputs.cacert {
        let certs = CertificateDer::pem_file_iter(ca)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|e| Failure::usage(format!("--cacert {}: {e}", ca.display())))?;
        for c in certs {
            roots
                .add(c)
                .map_err(|e| Failure::usage(format!("--cacert {}: {e}", ca.display())))?;
        }
    } else {
        for c in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(c);
        }
    }
    if roots.is_empty() {
        return Err(Failure::usage(
            "no trusted CA: pass --cacert with the CA of the service's TLS certificate",
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Failure::usage(format!("TLS: {e}")))?
        .with_root_certificates(roots);
    let config = match (inputs.cert, inputs.key) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                .map_err(|e| Failure::usage(format!("--cert {}: {e}", cert.display())))?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| Failure::usage(format!("--key {}: {e}", key.display())))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| Failure::usage(format!("--cert/--key: {e}")))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err(Failure::usage("--cert and --key go together")),
    };
    Ok(Arc::new(config))
}

/// Sends one GET and reads its answer. Errors are the transport's (no
/// connection, refused handshake, timeout), as text.
fn send(
    target: &Target,
    tls: Option<&Arc<rustls::ClientConfig>>,
    v: &Variant,
    timeout: Duration,
) -> Result<Answer, String> {
    let addr = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}: {e}", target.host))?
        .next()
        .ok_or_else(|| format!("{} has no address", target.host))?;
    // One deadline for the whole request, connect to last byte: a server
    // that answers a byte at a time cannot hold the probe past it.
    let at = Instant::now() + timeout;
    let tcp = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let tcp = Deadline { tcp, at };
    let host = if target.host.contains(':') {
        format!("[{}]", target.host)
    } else {
        target.host.clone()
    };
    let default_port = if target.tls { 443 } else { 80 };
    let authority = if target.port == default_port {
        host
    } else {
        format!("{host}:{}", target.port)
    };
    let mut request = format!(
        "GET {} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: xfcc-probe\r\nAccept: */*\r\nConnection: {}\r\n",
        target.path, v.connection
    );
    for (k, val) in &v.headers {
        request.push_str(&format!("{k}: {val}\r\n"));
    }
    request.push_str("\r\n");
    let mut raw = Vec::new();
    let result = match tls {
        Some(config) => {
            let name = pki_types::ServerName::try_from(target.host.clone())
                .map_err(|e| format!("{}: {e}", target.host))?;
            let conn = rustls::ClientConnection::new(Arc::clone(config), name)
                .map_err(|e| e.to_string())?;
            let mut stream = rustls::StreamOwned::new(conn, tcp);
            stream
                .write_all(request.as_bytes())
                .and_then(|()| read_bounded(&mut stream, &mut raw))
        }
        None => {
            let mut tcp = tcp;
            tcp.write_all(request.as_bytes())
                .and_then(|()| read_bounded(&mut tcp, &mut raw))
        }
    };
    // A peer that closes without TLS close_notify, or a read that times out
    // after the answer came, still leaves an answer to judge.
    if let Err(e) = result
        && raw.is_empty()
    {
        return Err(format!("no answer: {e}"));
    }
    parse_answer(&raw).ok_or_else(|| "not an HTTP/1.1 answer".to_owned())
}

/// A connection whose every read and write must end by `at`: each sets
/// the socket's timeout to the time left, and none starts after it.
struct Deadline {
    tcp: TcpStream,
    at: Instant,
}

impl Deadline {
    fn left(&self) -> std::io::Result<Duration> {
        let left = self.at.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the request took longer than --timeout",
            ))
        } else {
            Ok(left)
        }
    }
}

impl Read for Deadline {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.left()?;
        self.tcp.set_read_timeout(Some(left))?;
        self.tcp.read(buf)
    }
}

impl Write for Deadline {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let left = self.left()?;
        self.tcp.set_write_timeout(Some(left))?;
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.tcp.flush()
    }
}

fn read_bounded(r: &mut impl Read, out: &mut Vec<u8>) -> std::io::Result<()> {
    let mut buf = [0u8; 8192];
    while out.len() < MAX_ANSWER {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n.min(MAX_ANSWER - out.len())]);
    }
    Ok(())
}

/// The status and body of what the service answered, read by `httparse`:
/// a status line that arrived before the deadline is judged even when the
/// headers did not all come.
fn parse_answer(raw: &[u8]) -> Option<Answer> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let body_at = match response.parse(raw) {
        Ok(httparse::Status::Complete(n)) => Some(n),
        Ok(httparse::Status::Partial) => None,
        Err(_) => return None,
    };
    let status = response.code?;
    let chunked = response.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("transfer-encoding")
            && String::from_utf8_lossy(h.value)
                .to_ascii_lowercase()
                .contains("chunked")
    });
    let body = body_at.map_or(&[][..], |n| &raw[n..]);
    let body = if chunked {
        dechunk(body)
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    Some(Answer { status, body })
}

/// A chunked body's chunks, as far as they arrived.
fn dechunk(mut body: &[u8]) -> String {
    let mut out = Vec::new();
    while let Ok(httparse::Status::Complete((at, size))) = httparse::parse_chunk_size(body) {
        let rest = &body[at..];
        let n = usize::try_from(size).unwrap_or(usize::MAX);
        if n == 0 || rest.len() < n {
            out.extend_from_slice(&rest[..n.min(rest.len())]);
            break;
        }
        out.extend_from_slice(&rest[..n]);
        body = rest[n..].strip_prefix(b"\r\n").unwrap_or(&rest[n..]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether an answer names the victim: its thumbprints or its subject.
fn names_victim(body: &str, victim: &CertIdentity) -> bool {
    let lower = body.to_ascii_lowercase();
    [victim.sha256_hex(), victim.sha1_hex()]
        .iter()
        .any(|h| lower.contains(&h.to_ascii_lowercase()))
        || (!victim.subject().is_empty() && body.contains(victim.subject()))
}

fn is_2xx(s: u16) -> bool {
    (200..300).contains(&s)
}

/// One variant's outcome.
struct Outcome {
    target: &'static str,
    name: String,
    what: &'static str,
    /// The headers it sent (names, in order, once each) and their form.
    sent: String,
    form: &'static str,
    result: Result<(u16, bool), String>,
    unsafe_: bool,
}

/// Whether a variant's status says the certificate check passed, beside a
/// baseline that was refused: a 2xx where the baseline was not, or any
/// status the app gives only after its check (a redirect, a missing
/// route or method: 403 at the baseline, 404 with the forged header, means
/// the header got past the check to a route that does not exist). A
/// refusal of the request itself (400, 413, 431, ...) or a server error
/// is not.
fn check_passed(status: u16, baseline: u16) -> bool {
    if is_2xx(baseline) {
        return false;
    }
    status != baseline
        && (is_2xx(status) || (300..400).contains(&status) || matches!(status, 404 | 405 | 410))
}

pub(crate) fn run(inputs: &Inputs<'_>, json_out: bool) -> Result<u8, Failure> {
    // The first certificate of each file, read as `xfcc header` reads one.
    let victim = crate::read_pem_certs(inputs.victim)?.swap_remove(0);
    let own = match inputs.cert {
        Some(c) => crate::read_pem_certs(c).ok().map(|mut v| v.swap_remove(0)),
        None => None,
    };
    let mut targets = vec![("tls", parse_url(inputs.url, "URL")?)];
    if let Some(p) = inputs.plain {
        let mut t = parse_url(p, "--plain")?;
        if t.tls {
            return Err(Failure::usage(
                "--plain takes an http:// URL (the plain-HTTP port)",
            ));
        }
        // Without a path of its own, the plain URL probes the protected
        // path (`/` would be a route where a forged header that passes the
        // check meets a 404, and is not seen).
        let after_scheme = p.split_once("://").map_or(p, |(_, r)| r);
        if !after_scheme.contains(['/', '?']) {
            t.path.clone_from(&targets[0].1.path);
        }
        targets.push(("plain", t));
    }
    if let Some(d) = inputs.direct {
        let mut t = parse_url(d, "--direct")?;
        let after_scheme = d.split_once("://").map_or(d, |(_, r)| r);
        if !after_scheme.contains(['/', '?']) {
            t.path.clone_from(&targets[0].1.path);
        }
        targets.push(("direct", t));
    }
    let config = if targets.iter().any(|(_, t)| t.tls) {
        Some(tls_config(inputs)?)
    } else {
        None
    };
    let list = variants(&victim, own.as_ref());
    let baseline = Variant {
        name: "baseline".into(),
        what: "no forged header",
        headers: Vec::new(),
        form: "none",
        connection: "close",
    };
    let mut outcomes = Vec::new();
    let mut baselines = Vec::new();
    let mut direct_refusals = 0usize;
    let mut direct_codes = std::collections::BTreeMap::new();
    for (label, target) in &targets {
        let tls = if target.tls { config.as_ref() } else { None };
        let base = match send(target, tls, &baseline, inputs.timeout) {
            Ok(a) => a,
            // Around the proxy, no answer is the boundary holding.
            Err(e) if *label == "direct" => {
                baselines.push((
                    *label,
                    0,
                    Some(format!(
                        "unreachable ({e}): the app does not answer around the proxy"
                    )),
                ));
                continue;
            }
            Err(e) => {
                let hint = if target.tls && inputs.cert.is_none() {
                    "; if the ingress requires a client certificate (Azure Container Apps: clientCertificateMode require), the handshake fails without one: pass --cert and --key"
                } else {
                    ""
                };
                return Err(Failure {
                    exit: 2,
                    code: "baseline_failed",
                    detail: "baseline_failed",
                    offset: None,
                    message: format!(
                        "the baseline request to {} failed: {e}{hint}",
                        display_target(target)
                    ),
                });
            }
        };
        if names_victim(&base.body, &victim) {
            return Err(Failure { exit: 2, code: "baseline_is_victim", detail: "baseline_is_victim", offset: None, message: "the baseline answer already names the victim: probe with a certificate (or none) that the service refuses".into() });
        }
        let symptom = if *label == "direct" {
            Some(direct_symptom(&base))
        } else {
            symptom(&base, inputs.cert.is_some(), target.tls)
        };
        baselines.push((*label, base.status, symptom));
        for v in &list {
            let answer = send(target, tls, v, inputs.timeout);
            if *label == "direct"
                && let Ok(a) = &answer
                && !names_victim(&a.body, &victim)
                && !check_passed(a.status, base.status)
            {
                direct_refusals += 1;
                *direct_codes
                    .entry(error_code(&a.body).unwrap_or_else(|| a.status.to_string()))
                    .or_insert(0usize) += 1;
            }
            let result = answer.map(|a| (a.status, names_victim(&a.body, &victim)));
            let unsafe_ = matches!(result, Ok((s, named)) if named || check_passed(s, base.status));
            let mut sent: Vec<&str> = Vec::new();
            for (h, _) in &v.headers {
                if !sent.contains(&h.as_str()) {
                    sent.push(h);
                }
            }
            outcomes.push(Outcome {
                target: label,
                name: v.name.clone(),
                what: v.what,
                sent: sent.join(", "),
                form: v.form,
                result,
                unsafe_,
            });
        }
    }
    let failures = outcomes.iter().filter(|o| o.unsafe_).count();
    let judged_by_status = baselines.iter().all(|(_, s, _)| !is_2xx(*s));
    if json_out {
        let list: Vec<Value> = outcomes
            .iter()
            .map(|o| {
                let (status, named, error) = match &o.result {
                    Ok((s, n)) => (json!(s), json!(n), Value::Null),
                    Err(e) => (Value::Null, json!(false), json!(e)),
                };
                json!({"target": o.target, "variant": o.name, "what": o.what, "header": o.sent, "form": o.form, "status": status, "names_victim": named, "error": error, "unsafe": o.unsafe_})
            })
            .collect();
        let bases: Vec<Value> = baselines
            .iter()
            .map(|(t, s, sym)| json!({"target": t, "status": s, "symptom": sym}))
            .collect();
        outln!(
            "{}",
            json!({"safe": failures == 0, "baselines": bases, "variants": list, "unsafe": failures, "direct_refused": inputs.direct.map(|_| direct_refusals), "direct_codes": inputs.direct.map(|_| &direct_codes)})
        );
    } else {
        for (t, s, sym) in &baselines {
            outln!(
                "baseline ({t}): {s}{}",
                sym.as_ref().map_or(String::new(), |m| format!("  ({m})"))
            );
        }
        if !judged_by_status {
            outln!(
                "note: a baseline was answered 2xx, so only an answer naming the victim counts: probe with a certificate the service refuses to judge by status too"
            );
        }
        let base_of = |t: &str| {
            baselines
                .iter()
                .find(|(l, _, _)| *l == t)
                .map_or(0, |(_, s, _)| *s)
        };
        for o in &outcomes {
            let shown = match &o.result {
                Ok((s, true)) => format!("{s} names the victim"),
                Ok((s, false)) if o.unsafe_ => {
                    format!("{s} (baseline {}: the check passed)", base_of(o.target))
                }
                Ok((s, false)) => s.to_string(),
                Err(e) => format!("no answer ({e})"),
            };
            let what = if o.unsafe_ {
                format!("{} [sent {} in the {} form]", o.what, o.sent, o.form)
            } else {
                o.what.to_owned()
            };
            outln!(
                "{:<6} {:<6} {:<20} {:<28} {}",
                if o.unsafe_ { "UNSAFE" } else { "ok" },
                o.target,
                o.name,
                shown,
                what
            );
        }
        if inputs.direct.is_some() {
            let sent = outcomes.iter().filter(|o| o.target == "direct").count();
            outln!(
                "\ndirect: {direct_refusals} of {sent} forged request(s) refused around the proxy"
            );
        }
        outln!(
            "\n{} variant(s) sent, {failures} authenticated as the victim: {}",
            outcomes.len(),
            if failures == 0 {
                "the boundary held"
            } else {
                "UNSAFE"
            }
        );
    }
    Ok(u8::from(failures > 0))
}

fn display_target(t: &Target) -> String {
    format!(
        "{}://{}:{}{}",
        if t.tls { "https" } else { "http" },
        t.host,
        t.port,
        t.path
    )
}

/// The code of a refusal's JSON body (`{"error":"<code>"}`).
fn error_code(body: &str) -> Option<String> {
    serde_json::from_str::<Value>(body)
        .ok()?
        .get("error")?
        .as_str()
        .map(str::to_owned)
}

/// What the app answered a direct caller without a forged header: the
/// refusal's code, or what it means that it served one.
fn direct_symptom(base: &Answer) -> String {
    match (base.status, error_code(&base.body)) {
        (s, _) if is_2xx(s) => "a direct caller is served: if that route needs a client, the app is reachable around the proxy; the variants show whether a forged header is believed there".to_owned(),
        (_, Some(code)) if matches!(code.as_str(), "untrusted_proxy" | "untrusted_peer") => {
            format!("{code}: a direct caller is refused for who it is, not only for what it sent")
        }
        (_, Some(code)) => format!("{code}: refused; name the proxy (trusted_proxies or trusted_peers) so a forged header from here is refused for where it came from"),
        (_, None) => "refused".to_owned(),
    }
}

/// The seed's symptoms, named from the baseline's answer.
fn symptom(base: &Answer, sent_cert: bool, tls: bool) -> Option<String> {
    let code = serde_json::from_str::<Value>(&base.body)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned));
    match (base.status, code.as_deref()) {
        (403 | 401, Some("missing")) if sent_cert && tls => Some(
            "missing: the certificate was sent but no header reached the app: the ingress does not forward it (Azure Container Apps: clientCertificateMode ignore; a proxy: see `xfcc doctor --proxy`)".into(),
        ),
        (403 | 401, Some("missing")) => Some(
            "missing: no certificate was sent, so no header reached the app (curl needs --cert and --key; Azure Container Apps forwards one only with clientCertificateMode require or accept)".into(),
        ),
        (403, None) if tls && !sent_cert => Some(
            "403 without an app error body: the ingress itself may require a client certificate (Azure Container Apps: clientCertificateMode require); pass --cert and --key".into(),
        ),
        (_, Some(c)) => Some(format!("the app refused: {c}")),
        _ => None,
    }
}

#[cfg(test)]
mod passed_tests {
    use super::check_passed;

    #[test]
    fn a_status_that_leaves_the_baselines_refusal_is_a_passed_check() {
        for s in [200, 204, 301, 302, 404, 405, 410] {
            assert!(check_passed(s, 403), "{s}");
        }
        // The same refusal, a refusal of the request itself, a server
        // error: not passed.
        for s in [403, 400, 401, 413, 431, 500, 502, 503] {
            assert!(!check_passed(s, 403), "{s}");
        }
        // Beside a 2xx baseline only the body can tell.
        assert!(!check_passed(404, 200));
        assert!(!check_passed(200, 200));
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    /// A server that answers one byte every 50 ms, for up to 20 s.
    fn trickling_server() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for conn in listener.incoming().take(2) {
                let Ok(mut conn) = conn else { continue };
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let _ = conn.read(&mut buf);
                    let answer = b"HTTP/1.1 200 OK\r\nX-Slow: "
                        .iter()
                        .chain(std::iter::repeat(&b'a'));
                    for &b in answer.take(400) {
                        if conn.write_all(&[b]).is_err() {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(50));
                    }
                });
            }
        });
        port
    }

    #[test]
    fn a_server_answering_a_byte_at_a_time_is_cut_off_at_the_deadline() {
        let port = trickling_server();
        let target = Target {
            tls: false,
            host: "127.0.0.1".into(),
            port,
            path: "/".into(),
        };
        let v = Variant {
            name: "baseline".into(),
            what: "test",
            headers: Vec::new(),
            form: "none",
            connection: "close",
        };
        let started = Instant::now();
        // Each read gets a byte well within a second: a per-read timeout
        // never fires; the whole-request deadline does.
        let result = send(&target, None, &v, Duration::from_secs(1));
        let took = started.elapsed();
        assert!(took < Duration::from_secs(3), "{took:?}");
        // What came by the deadline is judged: the status line arrived.
        assert_eq!(result.map(|a| a.status).ok(), Some(200));
    }

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("https://svc.example/protected?x=1", "URL").ok(),
            Some(Target {
                tls: true,
                host: "svc.example".into(),
                port: 443,
                path: "/protected?x=1".into()
            })
        );
        assert_eq!(
            parse_url("http://[::1]:8080", "URL").ok(),
            Some(Target {
                tls: false,
                host: "::1".into(),
                port: 8080,
                path: "/".into()
            })
        );
        for bad in [
            "ftp://a/",
            "https://",
            "https://u@h/",
            "http://h:0/",
            "http://h:99999/",
            "http://h/a b",
        ] {
            assert!(parse_url(bad, "URL").is_err(), "{bad}");
        }
    }

    #[test]
    fn answers() {
        let a = parse_answer(b"HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\n\r\n{\"error\":\"missing\"}").unwrap();
        assert_eq!(
            (a.status, a.body.as_str()),
            (403, "{\"error\":\"missing\"}")
        );
        let c = parse_answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n").unwrap();
        assert_eq!((c.status, c.body.as_str()), (200, "abcdefg"));
        assert!(parse_answer(b"garbage").is_none());
        assert_eq!(dechunk(b"zz\r\nabc"), "");
        // A chunk cut short by the deadline keeps what arrived.
        assert_eq!(dechunk(b"8\r\nabc"), "abc");
        // Headers cut short: the status line is judged, the body is empty.
        let p = parse_answer(b"HTTP/1.1 302 Found\r\nLocation: /lo").unwrap();
        assert_eq!((p.status, p.body.as_str()), (302, ""));
    }
}
