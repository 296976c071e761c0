//! Caddy's JSON configuration (what `caddy adapt` writes, what the admin
//! API takes and serves), read as Caddy runs it: each server of
//! `apps.http.servers` with its `listen` addresses and
//! `tls_connection_policies` (`client_authentication`: `mode`, trusted CA
//! and leaf certificates), and its `routes`, handler by handler: `headers`
//! handlers change the request for the handlers after them (and for the
//! routes after a route that matches everything), `subroute` nests routes,
//! and each `reverse_proxy` applies its own `headers.request` last. Within
//! one set of header operations Caddy adds, then sets, then deletes.

use std::collections::HashSet;
use std::path::Path;

use saphyr::{LoadableYamlNode, MarkedYaml};

use super::Lint;
use super::caddy::{DER_B64, Sent, classify};
use super::tree::{Node, convert};

/// Whether a Caddy configuration is JSON rather than a Caddyfile: a
/// Caddyfile never starts with `{` followed by a quoted key (its global
/// options block holds bare words).
pub(super) fn is_json(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with('{') && t[1..].trim_start().starts_with(['"', '}'])
}

/// The most header names whose state is followed through the routes: the
/// certificate headers the file names (and the app's), far fewer in any
/// real configuration. Keeps the walk linear in the number of routes.
const MAX_TRACKED: usize = 32;

/// What each tracked header holds at one point of the routes, with the
/// line of the operation that last changed it.
type States = Vec<(Sent, Option<usize>)>;

/// Applies a `request` object's operations (`{add, set, delete}`, in the
/// order Caddy applies them) to `states`.
fn apply(request: Option<&Node>, tracked: &[String], states: &mut States) {
    let Some(r) = request else {
        return;
    };
    let slot = |k: &str| tracked.iter().position(|t| t.eq_ignore_ascii_case(k));
    let first = |n: &Node| {
        n.items()
            .first()
            .and_then(Node::str)
            .unwrap_or("")
            .to_owned()
    };
    for (k, v) in r.get("add").map_or(&[][..], Node::entries) {
        if let Some(i) = slot(k) {
            let s = &mut states[i];
            s.0 = match s.0 {
                Sent::Client | Sent::Added => Sent::Added,
                Sent::Removed => classify(&first(v)),
                other => other,
            };
            s.1 = Some(v.line());
        }
    }
    for (k, v) in r.get("set").map_or(&[][..], Node::entries) {
        if let Some(i) = slot(k) {
            states[i] = (classify(&first(v)), Some(v.line()));
        }
    }
    for d in r.get("delete").map_or(&[][..], Node::items) {
        if let Some(i) = d.str().and_then(slot) {
            states[i] = (Sent::Removed, Some(d.line()));
        }
    }
}

/// A `reverse_proxy` handler with what each tracked header holds when it
/// runs (its own operations applied last).
struct Proxy<'a> {
    node: &'a Node,
    states: States,
}

const MAX_DEPTH: usize = 32;

fn walk<'a>(
    routes: &'a [Node],
    inherited: &States,
    tracked: &[String],
    out: &mut Vec<Proxy<'a>>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let mut carried = inherited.clone();
    for route in routes {
        let mut states = carried.clone();
        for h in route.get("handle").map_or(&[][..], Node::items) {
            match h.get("handler").and_then(Node::str) {
                Some("headers") => apply(h.get("request"), tracked, &mut states),
                Some("subroute") => walk(
                    h.get("routes").map_or(&[][..], Node::items),
                    &states,
                    tracked,
                    out,
                    depth + 1,
                ),
                Some("reverse_proxy") => {
                    let mut mine = states.clone();
                    apply(h.path(&["headers", "request"]), tracked, &mut mine);
                    out.push(Proxy {
                        node: h,
                        states: mine,
                    });
                }
                _ => {}
            }
        }
        // A route that matches every request and does not end the chain
        // changes the request for the routes after it; one with a matcher
        // may not run, so nothing it does is relied on.
        if route.get("match").is_none() && !route.get("terminal").is_some_and(Node::truthy) {
            carried = states;
        }
    }
}

fn upstreams(p: &Node) -> Vec<String> {
    p.get("upstreams")
        .map_or(&[][..], Node::items)
        .iter()
        .filter_map(|u| u.get("dial").and_then(Node::str))
        .map(str::to_ascii_lowercase)
        .collect()
}

/// The certificate headers the operations under `n` name.
fn mentioned(n: &Node) -> Vec<String> {
    let mut requests = Vec::new();
    n.find_all(
        &|x| x.get("set").is_some() || x.get("add").is_some(),
        &mut requests,
    );
    let mut out = Vec::new();
    for r in requests {
        for (k, v) in r
            .get("set")
            .map_or(&[][..], Node::entries)
            .iter()
            .chain(r.get("add").map_or(&[][..], Node::entries))
        {
            let from_tls = v.items().iter().any(|x| {
                x.str()
                    .is_some_and(|s| s.contains("{http.request.tls.client."))
            });
            if super::is_cert_header_name(k) || from_tls {
                super::add_name(&mut out, k);
            }
        }
    }
    out
}

fn set_fix(header: &str) -> String {
    format!(
        "\"{DER_B64}\" (the value to set: on the reverse_proxy handler, \"headers\": {{\"request\": {{\"set\": {{\"{header}\": [\"{DER_B64}\"]}}}}}})"
    )
}

pub(super) fn lint(path: &Path, text: &str, lint: &mut Lint<'_>) {
    let file = path.display().to_string();
    let Some(root) = load(&file, text, lint) else {
        return;
    };
    let at = |line: usize| format!("{file}:{line}");
    let servers = root
        .path(&["apps", "http", "servers"])
        .map_or(&[][..], Node::entries);
    let in_file = mentioned(&root);
    // The headers followed through the routes: those the file names, the
    // app's, the usual one.
    let mut tracked: Vec<String> = in_file.iter().take(MAX_TRACKED - 2).cloned().collect();
    for h in lint
        .view
        .header
        .iter()
        .map(String::as_str)
        .chain(["X-Client-Cert"])
    {
        super::add_name(&mut tracked, h);
    }
    let start: States = vec![(Sent::Client, None); tracked.len()];
    // Each server: whether it terminates TLS, and its proxies.
    let read: Vec<(&str, &Node, bool, Vec<Proxy<'_>>)> = servers
        .iter()
        .map(|(name, server)| {
            let (tls, proxies) = server_of(server, &start, &tracked);
            (name.as_str(), server, tls, proxies)
        })
        .collect();
    let tls_upstreams: HashSet<String> = read
        .iter()
        .filter(|(_, _, tls, _)| *tls)
        .flat_map(|(_, _, _, ps)| ps.iter().flat_map(|p| upstreams(p.node)))
        .collect();
    for (name, server, tls, proxies) in &read {
        let in_server = mentioned(server);
        let mut forwards_cert = false;
        for p in proxies {
            lint.place();
            let here = mentioned(p.node);
            let headers = lint.headers(&[&here, &in_server, &in_file], "X-Client-Cert");
            for header in &headers {
                let (state, line) = tracked
                    .iter()
                    .position(|t| t.eq_ignore_ascii_case(header))
                    .map_or((Sent::Client, None), |i| p.states[i]);
                let server = Server {
                    name,
                    tls: *tls,
                    tls_upstreams: &tls_upstreams,
                };
                forwards_cert |= header_finding(&server, p, header, state, line, &at, lint);
            }
        }
        if *tls && forwards_cert {
            client_authentication(name, server, &at, lint);
        }
    }
}

/// The file's JSON as a tree, or a syntax finding.
fn load(file: &str, text: &str, lint: &mut Lint<'_>) -> Option<Node> {
    let validator = "caddy validate --config FILE";
    if text.len() > super::conf::MAX_BYTES {
        lint.syntax(
            file,
            1,
            "larger than 4 MiB: not a configuration file",
            validator,
        );
        return None;
    }
    let docs = match MarkedYaml::load_from_str(text) {
        Ok(d) => d,
        Err(e) => {
            lint.syntax(file, e.marker().line(), "not JSON", validator);
            return None;
        }
    };
    // The tree holds all that is read: the parser's own copy goes.
    docs.first().map(|d| convert(d, 0))
}

/// Whether a server terminates TLS, and its proxies with what each sends.
fn server_of<'a>(server: &'a Node, start: &States, tracked: &[String]) -> (bool, Vec<Proxy<'a>>) {
    let policies = server
        .get("tls_connection_policies")
        .map_or(&[][..], Node::items);
    let listens_tls = server
        .get("listen")
        .map_or(&[][..], Node::items)
        .iter()
        .filter_map(Node::str)
        .any(|l| l.ends_with(":443"));
    let auto_off = server
        .path(&["automatic_https", "disable"])
        .is_some_and(Node::truthy);
    let tls = !policies.is_empty() || (listens_tls && !auto_off);
    let mut proxies = Vec::new();
    walk(
        server.get("routes").map_or(&[][..], Node::items),
        start,
        tracked,
        &mut proxies,
        0,
    );
    (tls, proxies)
}

/// A server, for the findings about its proxies.
struct Server<'a> {
    name: &'a str,
    tls: bool,
    /// The upstreams a TLS server sends certificates to.
    tls_upstreams: &'a HashSet<String>,
}

/// What one proxy sends in one certificate header. Whether it is the
/// certificate, from the TLS connection.
fn header_finding(
    s: &Server<'_>,
    p: &Proxy<'_>,
    header: &str,
    state: Sent,
    line: Option<usize>,
    at: &dyn Fn(usize) -> String,
    lint: &mut Lint<'_>,
) -> bool {
    let (name, tls, tls_upstreams) = (s.name, s.tls, s.tls_upstreams);
    let mut forwards_cert = false;
    let where_ = at(line.unwrap_or_else(|| p.node.line()));
    match state {
        Sent::Client if !tls => {
            if upstreams(p.node).iter().any(|u| tls_upstreams.contains(u)) {
                lint.error(
                    "caddy_plain_site",
                    &at(p.node.line()),
                    format!("the plain-HTTP server {name} proxies to the upstream a TLS server sends certificates to, and passes the client's own {header}: anyone can send one over HTTP"),
                    format!("on the reverse_proxy handler: \"headers\": {{\"request\": {{\"delete\": [\"{header}\"]}}}}"),
                );
            }
        }
        Sent::Client => lint.error(
            "caddy_header_not_set",
            &at(p.node.line()),
            format!("reverse_proxy (server {name}) does not set {header}: Caddy passes the client's own {header} to the app"),
            set_fix(header),
        ),
        Sent::Added => lint.error(
            "caddy_add_header",
            &where_,
            format!("\"add\" puts a value beside the client's own {header} (server {name})"),
            set_fix(header),
        ),
        Sent::Copied => lint.error(
            "caddy_copies_client_header",
            &where_,
            format!("{header} is copied from a request header: the client writes it (server {name})"),
            set_fix(header),
        ),
        Sent::Other => lint.warning(
            "caddy_not_from_tls",
            &where_,
            format!("{header} is not set from the TLS connection (server {name})"),
            set_fix(header),
        ),
        Sent::Tls => forwards_cert = true,
        Sent::Removed => {}
    }
    forwards_cert
}

/// Whether a TLS server that forwards a certificate asks for one and
/// verifies it.
fn client_authentication(
    name: &str,
    server: &Node,
    at: &dyn Fn(usize) -> String,
    lint: &mut Lint<'_>,
) {
    let auths: Vec<&Node> = server
        .get("tls_connection_policies")
        .map_or(&[][..], Node::items)
        .iter()
        .filter_map(|p| p.get("client_authentication"))
        .collect();
    if auths.is_empty() {
        lint.warning(
            "caddy_no_client_cert",
            &at(server.line()),
            format!("server {name} has no tls_connection_policies client_authentication: Caddy never asks for a client certificate, so the app never gets one"),
            "\"tls_connection_policies\": [{\"client_authentication\": {\"mode\": \"require_and_verify\", \"trusted_ca_certs_pem_files\": [\"<your CA bundle>\"]}}]".to_owned(),
        );
        return;
    }
    for auth in auths {
        let has = |k: &str| {
            auth.get(k)
                .is_some_and(|n| !n.items().is_empty() || !n.entries().is_empty())
        };
        let trusts_ca = has("trusted_ca_certs")
            || has("trusted_ca_certs_pem_files")
            || auth.get("ca").is_some();
        let pins_leaf = has("trusted_leaf_certs");
        let mode_node = auth.get("mode");
        let mode = mode_node
            .and_then(Node::str)
            .unwrap_or(if trusts_ca || pins_leaf {
                "require_and_verify"
            } else {
                "require"
            });
        let where_ = at(mode_node.map_or_else(|| auth.line(), Node::line));
        match mode {
            // Caddy checks a presented leaf against the pinned ones
            // whatever the mode.
            _ if pins_leaf => {}
            "require_and_verify" | "verify_if_given" if trusts_ca => {}
            "require_and_verify" | "verify_if_given" => lint.warning(
                "caddy_no_trusted_ca",
                &where_,
                format!("client_authentication mode {mode} without trusted CA certificates: Caddy has nothing to verify against"),
                "\"trusted_ca_certs_pem_files\": [\"<your CA bundle>\"]".to_owned(),
            ),
            other => lint.unverified(
                "caddy_unverified",
                &where_,
                &format!("client_authentication mode {other}: Caddy asks for a certificate but does not verify it"),
                "\"mode\": \"require_and_verify\" with trusted_ca_certs_pem_files",
            ),
        }
    }
}
