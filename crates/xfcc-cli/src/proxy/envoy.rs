//! Envoy (YAML or JSON), read as Envoy reads it: listeners and their filter
//! chains, each chain's TLS context (`require_client_certificate`, a
//! validation context with or without trusted CAs), the HTTP connection
//! manager's `forward_client_cert_details` and
//! `set_current_client_cert_details`, and `request_headers_to_add` /
//! `_to_remove` on a certificate header at every route level.

use std::path::Path;

use saphyr::{LoadableYamlNode, MarkedYaml};

use super::tree::{Node, convert};
use super::{Lint, Severity};
use xfcc::ElementCount;

/// A filter chain's TLS, as far as client certificates go.
struct Tls {
    /// Whether the chain terminates TLS at all.
    on: bool,
    require: bool,
    /// A validation context exists (Envoy then asks for a certificate).
    validation: bool,
    /// It has trusted CAs and does not accept untrusted chains.
    verifies: bool,
    line: usize,
}

fn tls_of(chain: &Node) -> Tls {
    let Some(ts) = chain.get("transport_socket") else {
        return Tls {
            on: false,
            require: false,
            validation: false,
            verifies: false,
            line: chain.line(),
        };
    };
    let ctx = ts.get("typed_config").unwrap_or(ts);
    let common = ctx.get("common_tls_context");
    let vc = common.and_then(|c| {
        c.get("validation_context")
            .or_else(|| c.path(&["combined_validation_context", "default_validation_context"]))
    });
    let sds = common.is_some_and(|c| {
        c.get("validation_context_sds_secret_config").is_some()
            || c.path(&[
                "combined_validation_context",
                "validation_context_sds_secret_config",
            ])
            .is_some()
    });
    let untrusted = vc
        .and_then(|v| v.get("trust_chain_verification"))
        .and_then(Node::str)
        == Some("ACCEPT_UNTRUSTED");
    Tls {
        on: true,
        require: ctx
            .get("require_client_certificate")
            .is_some_and(Node::truthy),
        validation: vc.is_some() || sds,
        verifies: (sds || vc.is_some_and(|v| v.get("trusted_ca").is_some())) && !untrusted,
        line: ctx
            .get("require_client_certificate")
            .map_or(ts.line(), Node::line),
    }
}

fn is_hcm(n: &Node) -> bool {
    n.get("forward_client_cert_details").is_some()
        || n.get("http_filters").is_some()
        || n.get("route_config").is_some()
        || n.get("@type")
            .and_then(Node::str)
            .is_some_and(|t| t.ends_with("HttpConnectionManager"))
}

/// One header mutation on a certificate header.
struct Added<'a> {
    node: &'a Node,
    value: &'a str,
    /// The client's value stays (append, or add only if absent).
    keeps: bool,
}

/// The cert-header adds and removes that apply to one route: its own, its
/// virtual host's and the route configuration's.
fn mutations<'a>(levels: &[&'a Node], header: &str) -> (Vec<Added<'a>>, Option<&'a Node>) {
    let mut added = Vec::new();
    let mut removed = None;
    for level in levels {
        for h in level
            .get("request_headers_to_add")
            .map_or(&[][..], Node::items)
        {
            let hv = h.get("header").unwrap_or(h);
            if hv
                .get("key")
                .and_then(Node::str)
                .is_some_and(|k| k.eq_ignore_ascii_case(header))
            {
                let action = h.get("append_action").and_then(Node::str);
                let keeps = match action {
                    Some("OVERWRITE_IF_EXISTS_OR_ADD" | "OVERWRITE_IF_EXISTS") => false,
                    Some(_) => true,
                    None => h.get("append").is_none_or(Node::truthy),
                };
                added.push(Added {
                    node: h,
                    value: hv.get("value").and_then(Node::str).unwrap_or(""),
                    keeps,
                });
            }
        }
        for r in level
            .get("request_headers_to_remove")
            .map_or(&[][..], Node::items)
        {
            if r.str().is_some_and(|k| k.eq_ignore_ascii_case(header)) {
                removed = Some(r);
            }
        }
    }
    (added, removed)
}

const XFCC: &str = "x-forwarded-client-cert";

/// One HTTP connection manager, as the lints read it: its listener's TLS,
/// its forwarding mode and the details it sets.
struct Manager<'a> {
    file: &'a str,
    tls: &'a Tls,
    mode: &'a str,
    /// `forward_client_cert_details`, if written.
    mode_node: Option<&'a Node>,
    /// Where the mode is (or would be) written.
    mode_at: String,
    /// `set_current_client_cert_details`.
    details: Option<&'a Node>,
    policy: Option<&'a super::PolicyFacts>,
}

impl Manager<'_> {
    fn at(&self, n: &Node) -> String {
        format!("{}:{}", self.file, n.line())
    }

    /// Where a finding about the details is: the details, else the mode.
    fn details_at(&self) -> String {
        self.details
            .map_or_else(|| self.mode_at.clone(), |d| self.at(d))
    }

    /// Whether the connection manager itself writes XFCC.
    fn sets_xfcc(&self) -> bool {
        matches!(self.mode, "SANITIZE_SET" | "APPEND_FORWARD") && self.tls.on
    }
}

pub(super) fn lint(path: &Path, text: &str, lint: &mut Lint<'_>) {
    let file = path.display().to_string();
    let Some(roots) = load(&file, text, lint) else {
        return;
    };
    let chains = filter_chains(&roots);
    let policy = lint.view.policy.clone();
    let any_tls = chains.iter().any(|(t, _)| t.on);
    for (tls, hcms) in &chains {
        for hcm in hcms {
            let hcm = hcm.get("typed_config").filter(|t| is_hcm(t)).unwrap_or(hcm);
            let mode_node = hcm.get("forward_client_cert_details");
            let m = Manager {
                file: &file,
                tls,
                mode: mode_node.and_then(Node::str).unwrap_or("SANITIZE"),
                mode_node,
                mode_at: format!("{file}:{}", mode_node.unwrap_or(hcm).line()),
                details: hcm.get("set_current_client_cert_details"),
                policy: policy.as_ref(),
            };
            // A connection manager forwards requests (its routes may come
            // from RDS, and the header is its own business either way).
            lint.place();
            let xfcc_set = route_headers(&m, hcm, lint);
            modes(&m, xfcc_set, any_tls, lint);
            details(&m, lint);
            client_tls(&m, xfcc_set, lint);
        }
    }
    upstreams(&roots, path, lint);
}

/// What an Envoy cluster presents to the app in TLS.
enum Upstream {
    /// No upstream TLS: plain TCP.
    Plain,
    /// TLS without a client certificate.
    NoCert,
    /// A certificate from SDS: not in the file.
    Sds,
    /// A certificate chain file (as written).
    File(String),
}

fn upstream_of(cluster: &Node) -> Upstream {
    let Some(ts) = cluster.get("transport_socket") else {
        return Upstream::Plain;
    };
    let ctx = ts.get("typed_config").unwrap_or(ts);
    let Some(common) = ctx.get("common_tls_context") else {
        return Upstream::NoCert;
    };
    if common.get("tls_certificate_sds_secret_configs").is_some() {
        return Upstream::Sds;
    }
    common
        .get("tls_certificates")
        .map_or(&[][..], Node::items)
        .first()
        .and_then(|c| c.path(&["certificate_chain", "filename"]))
        .and_then(Node::str)
        .map_or(Upstream::NoCert, |f| Upstream::File(f.to_owned()))
}

/// The certificate chain in a PEM file Envoy names (as written, else
/// beside the configuration), DER leaf first; `None` when unreadable.
fn chain_file(written: &str, config: &Path) -> Option<Vec<Vec<u8>>> {
    let mut candidates = vec![std::path::PathBuf::from(written)];
    if let Some(dir) = config.parent() {
        candidates.push(dir.join(written));
    }
    let text = candidates.iter().find_map(|p| {
        let meta = std::fs::metadata(p).ok()?;
        (meta.len() <= super::conf::MAX_BYTES as u64).then(|| std::fs::read(p).ok())?
    })?;
    let chain: Vec<Vec<u8>> =
        <pki_types::CertificateDer<'_> as pki_types::pem::PemObject>::pem_slice_iter(&text)
            .filter_map(Result::ok)
            .map(|d| d.to_vec())
            .collect();
    (!chain.is_empty()).then_some(chain)
}

/// Whether each cluster presents a certificate to the app (its upstream
/// `transport_socket`), judged against the policy's `[[trusted_proxies]]`
/// when it names its proxies so: a cluster that presents none, or one the
/// policy does not trust, has every request carrying the header refused.
fn upstreams(roots: &[Node], config: &Path, lint: &mut Lint<'_>) {
    let file = config.display().to_string();
    let mut clusters = Vec::new();
    for r in roots {
        r.find_all(
            &|n| n.get("load_assignment").is_some() || n.get("connect_timeout").is_some(),
            &mut clusters,
        );
    }
    let facts = lint.view.policy.clone();
    let wants_cert = facts.as_ref().is_some_and(|f| f.trusted_proxies);
    for c in clusters {
        let name = c.get("name").and_then(Node::str).unwrap_or("(unnamed)");
        let at = format!("{file}:{}", c.line());
        let tls_fix = "transport_socket: {name: envoy.transport_sockets.tls, typed_config: {\"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext, common_tls_context: {tls_certificates: [{certificate_chain: {filename: <the proxy's certificate>}, private_key: {filename: <its key>}}]}}}";
        match upstream_of(c) {
            Upstream::Plain if wants_cert => lint.warning(
                "envoy_upstream_plain",
                &at,
                format!("cluster {name:?} connects to the app over plain TCP, so it presents no certificate: the policy names its proxies by certificate ([[trusted_proxies]]), and refuses every request carrying the header (the app cannot see a certificate: peer_unavailable)"),
                tls_fix.to_owned(),
            ),
            Upstream::NoCert if wants_cert => lint.warning(
                "envoy_upstream_no_cert",
                &at,
                format!("cluster {name:?} speaks TLS to the app but presents no certificate: the policy's [[trusted_proxies]] refuses every request carrying the header (untrusted_proxy, no_proxy_certificate)"),
                "common_tls_context: {tls_certificates: [{certificate_chain: {filename: <the proxy's certificate>}, private_key: {filename: <its key>}}]}".to_owned(),
            ),
            Upstream::Sds => lint.push(
                "envoy_upstream_sds",
                Severity::Info,
                &at,
                format!("cluster {name:?} presents a certificate from SDS (tls_certificate_sds_secret_configs), which this file does not hold: check it against [[trusted_proxies]] with `xfcc inspect` on the issued certificate"),
                "name its SPIFFE ID with the mesh CA in a [[trusted_proxies]] entry (chain and spiffe_id)".to_owned(),
            ),
            Upstream::File(written) => match (chain_file(&written, config), &facts) {
                (Some(chain), Some(f)) if f.trusted_proxies => {
                    match f.policy.proxy_of(&std::sync::Arc::new(xfcc::PeerCert::new(chain.clone()))) {
                        Ok(Some(entry)) => lint.push(
                            "envoy_upstream_trusted",
                            Severity::Info,
                            &at,
                            format!("cluster {name:?} presents {written:?} to the app, which the policy's [[trusted_proxies]] entry {entry:?} matches"),
                            "nothing to fix".to_owned(),
                        ),
                        Ok(None) => {}
                        Err(e) => lint.error(
                            "envoy_upstream_untrusted",
                            &at,
                            format!("cluster {name:?} presents {written:?} to the app, which no [[trusted_proxies]] entry of the policy matches ({}, {}): every request it forwards with the header is refused", e.code(), e.detail()),
                            pin_fix(&chain),
                        ),
                    }
                }
                (Some(chain), _) => lint.push(
                    "envoy_upstream_cert",
                    Severity::Info,
                    &at,
                    format!("cluster {name:?} presents {written:?} to the app: the app can believe the header for this certificate rather than for Envoy's address (serve the proxy's TLS in the app)"),
                    pin_fix(&chain),
                ),
                (None, _) if wants_cert => lint.warning(
                    "envoy_upstream_unreadable",
                    &at,
                    format!("cluster {name:?} presents {written:?}, which the doctor cannot read as PEM certificates here: it cannot check it against [[trusted_proxies]]"),
                    "run the doctor where the certificate file is, or check it with `xfcc inspect`".to_owned(),
                ),
                (None, _) => {}
            },
            Upstream::Plain | Upstream::NoCert => {}
        }
    }
}

/// The `[[trusted_proxies]]` entry that names a chain's leaf by its key.
fn pin_fix(chain: &[Vec<u8>]) -> String {
    match chain
        .first()
        .and_then(|d| xfcc::inspect::CertIdentity::from_der(d.clone()).ok())
    {
        Some(leaf) => format!(
            "[[trusted_proxies]] name = \"envoy\", spki_sha256 = \"{}\" (or chain = \"<your CA's set>\" with its spiffe_id or san_uri)",
            leaf.spki_sha256_base64()
        ),
        None => {
            "a [[trusted_proxies]] entry for the certificate (xfcc inspect prints its SPKI pin)"
                .to_owned()
        }
    }
}

/// The file's documents as trees, or a syntax finding.
fn load(file: &str, text: &str, lint: &mut Lint<'_>) -> Option<Vec<Node>> {
    if text.len() > super::conf::MAX_BYTES {
        lint.syntax(
            file,
            1,
            "larger than 4 MiB: not a configuration file",
            "envoy --mode validate -c FILE",
        );
        return None;
    }
    let docs = match MarkedYaml::load_from_str(text) {
        Ok(d) => d,
        Err(e) => {
            lint.syntax(
                file,
                e.marker().line(),
                "not YAML or JSON",
                "envoy --mode validate -c FILE",
            );
            return None;
        }
    };
    // The trees hold all that is read: the parser's own copy goes.
    Some(docs.iter().map(|d| convert(d, 0)).collect())
}

/// Each filter chain's TLS and its HTTP connection managers, listener by
/// listener (a connection manager on its own is judged as if its listener
/// terminated mTLS).
fn filter_chains(roots: &[Node]) -> Vec<(Tls, Vec<&Node>)> {
    // (chain's TLS, its HTTP connection managers), listener by listener.
    let mut chains: Vec<(Tls, Vec<&Node>)> = Vec::new();
    let mut listeners = Vec::new();
    for r in roots {
        r.find_all(
            &|n| n.get("filter_chains").is_some() || n.get("default_filter_chain").is_some(),
            &mut listeners,
        );
    }
    for l in &listeners {
        let list = l.get("filter_chains").map_or(&[][..], Node::items);
        for chain in list.iter().chain(l.get("default_filter_chain")) {
            let mut hcms = Vec::new();
            if let Some(f) = chain.get("filters") {
                f.find_all(&is_hcm, &mut hcms);
            }
            chains.push((tls_of(chain), hcms));
        }
    }
    if listeners.is_empty() {
        // A connection manager on its own: its listener is not known, so it
        // is judged as if it terminated mTLS.
        let mut hcms = Vec::new();
        for r in roots {
            r.find_all(&is_hcm, &mut hcms);
        }
        for h in hcms {
            chains.push((
                Tls {
                    on: true,
                    require: true,
                    validation: true,
                    verifies: true,
                    line: h.line(),
                },
                vec![h],
            ));
        }
    }
    chains
}

/// The certificate headers a connection manager's routes add, and XFCC.
fn cert_headers(h: &Node) -> Vec<String> {
    let mut out = vec![XFCC.to_owned()];
    let mut adds = Vec::new();
    h.find_all(&|n| n.get("request_headers_to_add").is_some(), &mut adds);
    for a in adds {
        for e in a.get("request_headers_to_add").map_or(&[][..], Node::items) {
            let key = e.path(&["header", "key"]).and_then(Node::str).unwrap_or("");
            let value = e
                .path(&["header", "value"])
                .and_then(Node::str)
                .unwrap_or("");
            if super::is_cert_header_name(key) || value.contains("%DOWNSTREAM_PEER_CERT") {
                super::add_name(&mut out, key);
            }
        }
    }
    out
}

/// Each route with its levels (route, virtual host, route config).
fn routes(hcm: &Node) -> Vec<Vec<&Node>> {
    let mut routes: Vec<Vec<&Node>> = Vec::new();
    if let Some(rc) = hcm.get("route_config") {
        for vh in rc.get("virtual_hosts").map_or(&[][..], Node::items) {
            let list = vh.get("routes").map_or(&[][..], Node::items);
            if list.is_empty() {
                routes.push(vec![vh, rc]);
            }
            for r in list {
                routes.push(vec![r, vh, rc]);
            }
        }
    }
    routes
}

/// What each route does to each certificate header: copies, appends,
/// removes, or leaves the client's. Whether, after them, a certificate
/// header is set by the proxy.
fn route_headers(m: &Manager<'_>, hcm: &Node, lint: &mut Lint<'_>) -> bool {
    let (tls, mode, at) = (m.tls, m.mode, |n: &Node| m.at(n));
    let routes = routes(hcm);
    let hcm_sets_xfcc = m.sets_xfcc();
    let mut xfcc_set = hcm_sets_xfcc;
    // Without a required certificate, %DOWNSTREAM_PEER_CERT% may be
    // empty, and Envoy adds nothing for an empty value: the fix
    // must also remove the client's header.
    let set_fix = |header: &str| {
        if tls.require {
            format!(
                "request_headers_to_add: [{{header: {{key: {header}, value: \"%DOWNSTREAM_PEER_CERT%\"}}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}}]"
            )
        } else {
            format!(
                "request_headers_to_remove: [{header}] and request_headers_to_add: [{{header: {{key: {header}, value: \"%DOWNSTREAM_PEER_CERT%\"}}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}}]"
            )
        }
    };
    let headers = lint.headers(&[&cert_headers(hcm)], XFCC);
    for header in &headers {
        let is_xfcc = header.eq_ignore_ascii_case(XFCC);
        let mut any_tls_value = false;
        for levels in &routes {
            let (added, removed) = mutations(levels, header);
            for a in &added {
                if a.value.contains("%REQ(") {
                    lint.error(
                        "envoy_copies_client_header",
                        &at(a.node),
                        format!("request_headers_to_add {header} copies a request header ({}): the client writes it", a.value),
                        set_fix(header),
                    );
                } else if is_xfcc && hcm_sets_xfcc {
                    lint.warning(
                        "envoy_xfcc_added",
                        &at(a.node),
                        format!(
                            "request_headers_to_add writes {header}, which the connection manager already sets ({mode}): {}",
                            if a.keeps {
                                "the app receives two values and refuses every request (multiple_headers)"
                            } else {
                                "the route's value replaces Envoy's element, which the app then cannot read"
                            }
                        ),
                        format!("remove the request_headers_to_add entry for {header} (the connection manager writes it)"),
                    );
                } else if a.value.contains("%DOWNSTREAM_PEER_CERT") {
                    any_tls_value = true;
                    if !is_xfcc && !a.keeps && removed.is_none() && tls.on && !tls.require {
                        lint.error(
                            "envoy_empty_value_keeps_client_header",
                            &at(a.node),
                            format!("require_client_certificate is false: for a request without a certificate {} is empty, and Envoy adds nothing for an empty value, so the client's own {header} reaches the app", a.value),
                            format!("request_headers_to_remove: [{header}] (on the same route: Envoy removes before it adds)"),
                        );
                    }
                }
                // XFCC is the connection manager's: where it keeps the
                // client's, the mode's own finding says so; elsewhere
                // it removed it first. Any other header is the
                // client's unless the route removes it.
                if !is_xfcc && a.keeps && removed.is_none() {
                    lint.error(
                        "envoy_header_appended",
                        &at(a.node),
                        format!("request_headers_to_add {header} without append_action: OVERWRITE_IF_EXISTS_OR_ADD keeps the client's own {header} (Envoy appends by default)"),
                        "append_action: OVERWRITE_IF_EXISTS_OR_ADD".to_owned(),
                    );
                }
            }
            if let (Some(r), true, true, true) = (removed, is_xfcc, added.is_empty(), xfcc_set) {
                lint.warning(
                    "envoy_header_removed",
                    &at(r),
                    format!("request_headers_to_remove removes {header} after the connection manager set it: the app never gets a certificate on this route"),
                    format!("remove the request_headers_to_remove entry {header} (the connection manager sets the header)"),
                );
            }
            if !is_xfcc && added.is_empty() && removed.is_none() && tls.on {
                lint.error(
                    "envoy_header_not_set",
                    &at(levels[0]),
                    format!("nothing on this route sets {header}: Envoy passes the client's own {header} to the app (Envoy writes X-Forwarded-Client-Cert, not {header})"),
                    set_fix(header),
                );
            }
        }
        if !is_xfcc && any_tls_value {
            xfcc_set = true;
        }
    }
    xfcc_set
}

/// What the forwarding mode does with the client's own header.
fn modes(m: &Manager<'_>, xfcc_set: bool, any_tls: bool, lint: &mut Lint<'_>) {
    let (tls, mode, mode_node, mode_at, policy) =
        (m.tls, m.mode, m.mode_node, &m.mode_at, m.policy);
    // Envoy keeps the client's XFCC only under ALWAYS_FORWARD_ONLY,
    // or FORWARD_ONLY/APPEND_FORWARD on a TLS chain; every other mode
    // removes it when no certificate was presented.
    match mode {
        "FORWARD_ONLY" if tls.on => lint.error(
            "envoy_forward_only",
            mode_at,
            "forward_client_cert_details: FORWARD_ONLY passes the client's X-Forwarded-Client-Cert unchanged: anyone with a certificate (any, if the listener accepts any) can send a victim's header".to_owned(),
            "forward_client_cert_details: SANITIZE_SET".to_owned(),
        ),
        "ALWAYS_FORWARD_ONLY" => lint.error(
            "envoy_always_forward_only",
            mode_at,
            format!("forward_client_cert_details: ALWAYS_FORWARD_ONLY passes the client's header unchanged, even {}", if tls.on { "without a client certificate" } else { "on this plaintext listener" }),
            "forward_client_cert_details: SANITIZE_SET".to_owned(),
        ),
        "APPEND_FORWARD" if tls.on => {
            let (severity, why) = match &policy {
                Some(p) if p.by => (Severity::Info, "and the policy trusts the element that names this proxy (`by`): safe"),
                Some(p) if p.count == ElementCount::Exactly(1) && p.trust == 0 => (
                    Severity::Info,
                    "and the policy expects exactly one element, so a client that sends a header of its own is refused (two elements): safe, but SANITIZE_SET is what an edge wants",
                ),
                Some(_) => (
                    Severity::Error,
                    "and the policy accepts more than one element without `by`: a client that sends a header of its own can make its element the trusted one",
                ),
                None => (
                    Severity::Warning,
                    "which is safe only if the app trusts the element this proxy appends (trust = -1 with by); pass --policy to check",
                ),
            };
            lint.push(
                "envoy_append_forward",
                severity,
                mode_at,
                format!("forward_client_cert_details: APPEND_FORWARD keeps the client's header and appends its own element, {why}"),
                "forward_client_cert_details: SANITIZE_SET (at the edge); on an inner hop, the policy's [elements] trust = -1 with by = \"<this proxy's URI SAN>\"".to_owned(),
            );
        }
        "SANITIZE_SET" | "SANITIZE" if !tls.on && !any_tls => lint.warning(
            "envoy_plaintext_listener",
            mode_at,
            format!("forward_client_cert_details: {mode} on a plain-HTTP listener, and no listener in this file terminates TLS: Envoy sees no client certificate, so the app never gets one"),
            "transport_socket: {name: envoy.transport_sockets.tls} (a DownstreamTlsContext with require_client_certificate: true, on the listener's filter chain)".to_owned(),
        ),
        "SANITIZE" if tls.on && !xfcc_set => lint.warning(
            "envoy_sanitize",
            mode_at,
            format!("forward_client_cert_details: {}SANITIZE removes the header: the app never sees a certificate", if mode_node.is_none() { "unset, so Envoy's default, " } else { "" }),
            "forward_client_cert_details: SANITIZE_SET".to_owned(),
        ),
        _ => {}
    }
}

/// What the details written make of the header: its form, the issuer,
/// split elements, the certificate itself.
fn details(m: &Manager<'_>, lint: &mut Lint<'_>) {
    let (tls, mode, details, policy) = (m.tls, m.mode, m.details, m.policy);
    // Envoy 1.38+: `format: JSON` writes the JSON form, which
    // escapes every value; `issuer: true` adds the issuer's name.
    let detail = |k: &str| details.and_then(|d| d.get(k));
    let json = detail("format")
        .and_then(Node::str)
        .is_some_and(|f| f.eq_ignore_ascii_case("JSON"));
    let issuer = detail("issuer").is_some_and(Node::truthy);
    let sans = ["uri", "dns"]
        .iter()
        .any(|k| detail(k).is_some_and(Node::truthy));
    let details_at = m.details_at();
    if tls.on && json && matches!(mode, "SANITIZE_SET" | "APPEND_FORWARD") {
        lint.push(
            "envoy_json_format",
            Severity::Info,
            &details_at,
            format!(
                "set_current_client_cert_details format: JSON writes Envoy's JSON form (Envoy 1.38+), which escapes every value{}: the app's format \"envoy\" reads it and the text form alike",
                if mode == "APPEND_FORWARD" {
                    "; an APPEND_FORWARD hop writes the form of the header it received, so a client can still make it write the text form"
                } else {
                    ""
                }
            ),
            "nothing to change".to_owned(),
        );
    }
    if let Some(p) = policy.as_ref().filter(|p| {
        tls.on
            && p.proxy_fields
            && !p.issuer_rules.is_empty()
            && matches!(mode, "SANITIZE_SET" | "APPEND_FORWARD")
    }) {
        let rules = p.issuer_rules.join(", ");
        if !issuer {
            lint.error(
                "envoy_issuer_not_forwarded",
                &details_at,
                format!("the policy reads the proxy's fields (identity_from = \"proxy-fields\") and rule(s) {rules} check the issuer, but set_current_client_cert_details does not forward it (issuer: true, Envoy 1.38+): they never match"),
                "set_current_client_cert_details: {issuer: true, format: JSON}".to_owned(),
            );
        } else if !json && sans {
            lint.warning(
                "envoy_issuer_text_form",
                &details_at,
                format!("in the text form Envoy writes Issuer after the unquoted URI and DNS values, where a client's SAN could have put one, so the app reads no Issuer after a non-empty URI or DNS: rule(s) {rules} fail for such clients"),
                "set_current_client_cert_details: {format: JSON} (every value escaped)".to_owned(),
            );
        }
    }
    if tls.on && mode == "SANITIZE_SET" && !json {
        // Envoy writes URI and DNS values unquoted: a SAN holding a
        // comma splits Envoy's one element in two. (Not in the JSON
        // form, and SANITIZE_SET drops the client's own header, so
        // the client cannot force the text form.)
        let split = sans;
        if policy
            .as_ref()
            .is_some_and(|p| split && !p.by && p.count != ElementCount::Exactly(1))
        {
            lint.error(
                "envoy_split_elements",
                &m.details_at(),
                "set_current_client_cert_details forwards URI/DNS, which Envoy writes unquoted, and the policy accepts more than one element without `by`: a client certificate whose SAN holds a comma adds an element of its choosing".to_owned(),
                "[elements] count = 1 in the policy (or by = \"<this proxy's URI SAN>\")".to_owned(),
            );
        }
    }
    if tls.on && matches!(mode, "SANITIZE_SET" | "APPEND_FORWARD") {
        let cert = details
            .and_then(|d| d.get("cert"))
            .is_some_and(Node::truthy);
        let proxy_fields = policy.as_ref().is_some_and(|p| p.proxy_fields);
        if !cert && !proxy_fields {
            lint.warning(
                "envoy_no_cert",
                &m.details_at(),
                "set_current_client_cert_details does not forward the certificate (cert: true): the app rejects every element as no_certificate".to_owned(),
                "set_current_client_cert_details: {cert: true, chain: true}".to_owned(),
            );
        }
    }
}

/// Whether the listener asks for, requires and verifies a client
/// certificate, where a certificate header is forwarded.
fn client_tls(m: &Manager<'_>, xfcc_set: bool, lint: &mut Lint<'_>) {
    let (tls, mode, file) = (m.tls, m.mode, m.file);
    if tls.on && (xfcc_set || matches!(mode, "FORWARD_ONLY" | "APPEND_FORWARD")) {
        let line = format!("{file}:{}", tls.line);
        if !tls.require && (tls.validation || tls.verifies) {
            lint.push(
                "envoy_client_cert_optional",
                Severity::Info,
                &line,
                "require_client_certificate is false: a request without a client certificate reaches the app with no certificate header (the policy's mode = \"require\", the default, refuses it as missing)".to_owned(),
                "require_client_certificate: true, unless some routes serve clients without certificates".to_owned(),
            );
        }
        if !tls.validation && !tls.require {
            lint.warning(
                "envoy_no_client_cert",
                &line,
                "the TLS context has no validation_context and does not require_client_certificate: Envoy never asks for a client certificate, so the app never gets one".to_owned(),
                "require_client_certificate: true".to_owned(),
            );
        } else if !tls.verifies {
            lint.unverified(
                "envoy_unverified",
                &line,
                "the TLS context has no trusted_ca (or accepts untrusted chains): Envoy asks for a client certificate but does not verify it",
                "validation_context: {trusted_ca: {filename: <your CA bundle>}}",
            );
        }
    }
}
