//! `xfcc doctor --proxy FILE`: the proxy configuration mistakes that make
//! the forwarded certificate header forgeable, for Envoy, nginx, HAProxy and
//! Caddy. A configuration is read as text, line by line (comments dropped):
//! enough to find the directives that matter without a parser per proxy.

use std::path::Path;

use super::doctor::{Finding, Severity, finding};

/// Which proxy a configuration file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ProxyKind {
    /// Envoy (YAML or JSON bootstrap, or an HCM config).
    Envoy,
    /// nginx.
    Nginx,
    /// HAProxy.
    Haproxy,
    /// Caddy (Caddyfile).
    Caddy,
}

impl ProxyKind {
    const fn name(self) -> &'static str {
        match self {
            Self::Envoy => "envoy",
            Self::Nginx => "nginx",
            Self::Haproxy => "haproxy",
            Self::Caddy => "caddy",
        }
    }

    /// Guesses the proxy from the file's directives (or name).
    pub(crate) fn detect(path: &Path, text: &str) -> Option<Self> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase());
        if name.as_deref().is_some_and(|n| n.starts_with("caddyfile")) {
            return Some(Self::Caddy);
        }
        if text.contains("http_connection_manager")
            || text.contains("static_resources")
            || text.contains("forward_client_cert_details")
        {
            Some(Self::Envoy)
        } else if text.contains("proxy_pass") || text.contains("ssl_verify_client") {
            Some(Self::Nginx)
        } else if text.contains("http-request")
            || text.contains("frontend ")
            || text.contains("backend ")
        {
            Some(Self::Haproxy)
        } else if text.contains("reverse_proxy") || text.contains("header_up") {
            Some(Self::Caddy)
        } else {
            None
        }
    }
}

/// What the app expects, for the checks that depend on it.
#[derive(Debug, Clone, Default)]
pub(crate) struct PolicyView {
    /// The header the app reads (lower case), when known (`--header`);
    /// otherwise every usual certificate header is checked.
    pub(crate) header: Option<String>,
    /// From `--policy`: `[elements]` `count` (0 = any) and `trust`.
    /// `None` without a policy.
    pub(crate) elements: Option<(usize, i64)>,
    /// `identity_from = "proxy-fields"` in the policy.
    pub(crate) proxy_fields: bool,
}

/// Every header a proxy may forward a certificate in, for when no policy
/// names one.
const CERT_HEADERS: [&str; 8] = [
    "x-forwarded-client-cert",
    "x-ssl-client-cert",
    "x-client-cert",
    "client-cert",
    "x-forwarded-tls-client-cert",
    "x-arr-clientcert",
    "x-amzn-mtls-clientcert",
    "ssl-client-cert",
];

/// The configuration's lines without comments (`#` to the end of the line,
/// outside quotes) and surrounding whitespace, with their line numbers.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(i, line)| {
        let mut quoted = false;
        let mut end = line.len();
        for (j, c) in line.char_indices() {
            match c {
                '"' => quoted = !quoted,
                '#' if !quoted => {
                    end = j;
                    break;
                }
                _ => {}
            }
        }
        let l = line[..end].trim();
        (!l.is_empty()).then_some((i + 1, l))
    })
}

/// Lints `text` as `kind`'s configuration; `file` names it in findings.
pub(crate) fn lint(
    kind: ProxyKind,
    file: &str,
    text: &str,
    view: &PolicyView,
    out: &mut Vec<Finding>,
) {
    let before = out.len();
    match kind {
        ProxyKind::Envoy => envoy(file, text, view, out),
        ProxyKind::Nginx => nginx(file, text, view, out),
        ProxyKind::Haproxy => haproxy(file, text, view, out),
        ProxyKind::Caddy => caddy(file, text, view, out),
    }
    if out.len() == before {
        out.push(finding(
            "proxy_ok",
            Severity::Info,
            format!(
                "{file} ({}): no forgeable certificate header found",
                kind.name()
            ),
            "nothing to do",
        ));
    }
}

fn is_cert_header(name: &str, view: &PolicyView) -> bool {
    let name = name.trim_matches('"').to_ascii_lowercase();
    match &view.header {
        Some(h) => name == *h,
        None => CERT_HEADERS.contains(&name.as_str()),
    }
}

/// The header to name in a fix: the app's, or the proxy's usual one.
fn header_or<'a>(view: &'a PolicyView, usual: &'a str) -> &'a str {
    view.header.as_deref().unwrap_or(usual)
}

fn envoy(file: &str, text: &str, view: &PolicyView, out: &mut Vec<Finding>) {
    let mut any_mode = false;
    for (n, line) in lines(text) {
        const KEY: &str = "forward_client_cert_details";
        // YAML `key: MODE` or JSON `"key": "MODE"`, anywhere on the line.
        let Some(rest) = line.find(KEY).map(|i| &line[i + KEY.len()..]) else {
            continue;
        };
        any_mode = true;
        let mode: String = rest
            .trim_start_matches(['"', ':', ' '])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let at = format!("{file}:{n}");
        match mode.as_str() {
            "FORWARD_ONLY" => out.push(finding(
                "envoy_forward_only",
                Severity::Error,
                format!("{at}: forward_client_cert_details: FORWARD_ONLY passes the client's X-Forwarded-Client-Cert unchanged: at the edge, anyone can send a victim's header"),
                "at the edge use SANITIZE_SET (one element, written by Envoy); FORWARD_ONLY only behind a proxy that sanitizes",
            )),
            "ALWAYS_FORWARD_ONLY" => out.push(finding(
                "envoy_always_forward_only",
                Severity::Error,
                format!("{at}: forward_client_cert_details: ALWAYS_FORWARD_ONLY passes the client's header unchanged, even without mTLS"),
                "use SANITIZE_SET at the edge",
            )),
            "APPEND_FORWARD" => {
                let (severity, why) = match view.elements {
                    Some((count, 0)) if count != 1 => (
                        Severity::Error,
                        "and the policy trusts element 0 of several: a client that sends a header of its own makes its element the first, and it is trusted",
                    ),
                    Some((_, 0)) => (
                        Severity::Info,
                        "and the policy expects exactly one element, so a client that sends a header of its own is refused (two elements): safe, but SANITIZE_SET is what an edge wants",
                    ),
                    Some(_) => (
                        Severity::Info,
                        "and the policy trusts a later element: make sure it is the one this proxy appends (trust = -1, with by)",
                    ),
                    None => (
                        Severity::Warning,
                        "which is safe only if the app trusts the element this proxy appends (trust = -1, with by); pass --policy to check",
                    ),
                };
                out.push(finding(
                    "envoy_append_forward",
                    severity,
                    format!("{at}: forward_client_cert_details: APPEND_FORWARD keeps the client's header and appends its own element, {why}"),
                    "at the edge use SANITIZE_SET; on an inner hop, [elements] count = 0 (or the hop count), trust = -1, by = \"<this proxy's URI SAN>\"",
                ));
            }
            "SANITIZE" => out.push(finding(
                "envoy_sanitize",
                Severity::Warning,
                format!("{at}: forward_client_cert_details: SANITIZE removes the header: the app never sees a certificate"),
                "use SANITIZE_SET to forward the client's certificate",
            )),
            _ => {}
        }
    }
    if !any_mode && text.contains("http_connection_manager") {
        out.push(finding(
            "envoy_sanitize",
            Severity::Warning,
            format!("{file}: no forward_client_cert_details: Envoy's default, SANITIZE, removes the header"),
            "set forward_client_cert_details: SANITIZE_SET",
        ));
    }
    let proxy_fields = view.proxy_fields;
    for (n, line) in lines(text) {
        const KEY: &str = "set_current_client_cert_details";
        if let Some(details) = line.find(KEY).map(|i| &line[i + KEY.len()..]) {
            let forwards_cert =
                details.replace(' ', "").contains("cert:true") || details.contains("\"cert\":true");
            if !forwards_cert && !proxy_fields && details.contains('{') {
                out.push(finding(
                    "envoy_no_cert",
                    Severity::Warning,
                    format!("{file}:{n}: set_current_client_cert_details does not forward the certificate (cert: true): the app rejects every element as no_certificate"),
                    "add cert: true (and chain: true for chain rules), or set [elements] identity_from = \"proxy-fields\" with trusted_peers (and by = \"<this proxy's URI SAN>\" unless count = 1)",
                ));
            }
        }
    }
}

fn nginx(file: &str, text: &str, view: &PolicyView, out: &mut Vec<Finding>) {
    let mut set = false;
    for (n, line) in lines(text) {
        let mut words = line.trim_end_matches(';').split_whitespace();
        if words.next() != Some("proxy_set_header") {
            continue;
        }
        let (Some(name), value) = (words.next(), words.collect::<Vec<_>>().join(" ")) else {
            continue;
        };
        if !is_cert_header(name, view) {
            continue;
        }
        set = true;
        let value = value.trim_matches(['"', '\'']);
        if value.contains("$http_") {
            out.push(finding(
                "nginx_copies_client_header",
                Severity::Error,
                format!("{file}:{n}: proxy_set_header {name} copies a request header ({value}): the client writes it"),
                format!("proxy_set_header {name} $ssl_client_escaped_cert;"),
            ));
        } else if !value.contains("$ssl_client_") {
            out.push(finding(
                "nginx_not_from_tls",
                Severity::Warning,
                format!("{file}:{n}: proxy_set_header {name} is not set from the TLS connection ($ssl_client_escaped_cert)"),
                format!("proxy_set_header {name} $ssl_client_escaped_cert;"),
            ));
        }
    }
    if !set {
        let name = header_or(view, "X-SSL-Client-Cert");
        out.push(finding(
            "nginx_header_not_set",
            Severity::Error,
            format!("{file}: no proxy_set_header for {name}: nginx passes the client's own {name} to the app"),
            format!("proxy_set_header {name} $ssl_client_escaped_cert; in every location that proxies (a location with its own proxy_set_header lines inherits none from the server)"),
        ));
    }
}

fn haproxy(file: &str, text: &str, view: &PolicyView, out: &mut Vec<Finding>) {
    let mut deleted = false;
    let mut set = false;
    for (n, line) in lines(text) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let [first, action, name, rest @ ..] = words.as_slice() else {
            continue;
        };
        if *first != "http-request" || !is_cert_header(name, view) {
            continue;
        }
        let at = format!("{file}:{n}");
        let conditional = rest.iter().any(|w| *w == "if" || *w == "unless");
        match *action {
            "del-header" if !conditional => deleted = true,
            "add-header" => {
                set = true;
                out.push(finding(
                    "haproxy_add_header",
                    Severity::Error,
                    format!("{at}: http-request add-header {name} adds a second value beside the client's own {name}"),
                    format!("http-request set-header {name} %[ssl_c_der,base64] (set replaces)"),
                ));
            }
            "set-header" => {
                set = true;
                if rest.iter().any(|w| w.contains("hdr(")) {
                    out.push(finding(
                        "haproxy_copies_client_header",
                        Severity::Error,
                        format!("{at}: http-request set-header {name} copies a request header: the client writes it"),
                        format!("http-request set-header {name} %[ssl_c_der,base64]"),
                    ));
                } else if conditional && !deleted {
                    out.push(finding(
                        "haproxy_conditional_set",
                        Severity::Error,
                        format!("{at}: http-request set-header {name} runs only under a condition, and the client's {name} is not deleted first: when the condition is false (no certificate), the client's header reaches the app"),
                        format!("http-request del-header {name} before it (unconditionally)"),
                    ));
                }
            }
            _ => {}
        }
    }
    if !set && !deleted {
        let name = header_or(view, "X-SSL-Client-Cert");
        out.push(finding(
            "haproxy_header_not_set",
            Severity::Error,
            format!("{file}: no http-request set-header {name}: HAProxy passes the client's own {name} to the app"),
            format!("http-request set-header {name} %[ssl_c_der,base64]"),
        ));
    }
}

fn caddy(file: &str, text: &str, view: &PolicyView, out: &mut Vec<Finding>) {
    let mut set = false;
    for (n, line) in lines(text) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let [directive, name, rest @ ..] = words.as_slice() else {
            continue;
        };
        if *directive != "header_up" {
            continue;
        }
        let (op, bare) = match name.chars().next() {
            Some('+') => ('+', &name[1..]),
            Some('-') => ('-', &name[1..]),
            _ => ('=', *name),
        };
        if !is_cert_header(bare, view) {
            continue;
        }
        let at = format!("{file}:{n}");
        match op {
            '+' => {
                set = true;
                out.push(finding(
                    "caddy_add_header",
                    Severity::Error,
                    format!("{at}: header_up +{bare} adds a value beside the client's own {bare}"),
                    format!("header_up {bare} {{http.request.tls.client.certificate_der_base64}} (without +: replaces)"),
                ));
            }
            '=' => {
                set = true;
                if rest.iter().any(|w| w.contains("{http.request.header.")) {
                    out.push(finding(
                        "caddy_copies_client_header",
                        Severity::Error,
                        format!(
                            "{at}: header_up {bare} copies a request header: the client writes it"
                        ),
                        format!(
                            "header_up {bare} {{http.request.tls.client.certificate_der_base64}}"
                        ),
                    ));
                } else if !rest.iter().any(|w| w.contains("{http.request.tls.client.")) {
                    out.push(finding(
                        "caddy_not_from_tls",
                        Severity::Warning,
                        format!("{at}: header_up {bare} is not set from the TLS connection"),
                        format!(
                            "header_up {bare} {{http.request.tls.client.certificate_der_base64}}"
                        ),
                    ));
                }
            }
            _ => set = true,
        }
    }
    if !set {
        let name = header_or(view, "X-Client-Cert");
        out.push(finding(
            "caddy_header_not_set",
            Severity::Error,
            format!("{file}: no header_up {name}: Caddy passes the client's own {name} to the app"),
            format!("header_up {name} {{http.request.tls.client.certificate_der_base64}} inside reverse_proxy"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(kind: ProxyKind, text: &str, view: &PolicyView) -> Vec<(&'static str, Severity)> {
        let mut out = Vec::new();
        lint(kind, "f", text, view, &mut out);
        out.into_iter().map(|f| (f.code, f.severity)).collect()
    }

    fn view(header: Option<&str>, elements: Option<(usize, i64)>) -> PolicyView {
        PolicyView {
            header: header.map(str::to_owned),
            elements,
            proxy_fields: false,
        }
    }

    const NONE: PolicyView = PolicyView {
        header: None,
        elements: None,
        proxy_fields: false,
    };

    #[test]
    fn envoy_modes() {
        let hcm = |mode: &str| {
            format!(
                "static_resources:\n  - name: envoy.filters.network.http_connection_manager\n    forward_client_cert_details: {mode}  # edge\n    set_current_client_cert_details: {{cert: true, chain: true}}\n"
            )
        };
        assert_eq!(
            codes(ProxyKind::Envoy, &hcm("SANITIZE_SET"), &NONE),
            [("proxy_ok", Severity::Info)]
        );
        assert_eq!(
            codes(ProxyKind::Envoy, &hcm("FORWARD_ONLY"), &NONE),
            [("envoy_forward_only", Severity::Error)]
        );
        assert_eq!(
            codes(ProxyKind::Envoy, &hcm("ALWAYS_FORWARD_ONLY"), &NONE),
            [("envoy_always_forward_only", Severity::Error)]
        );
        let append = hcm("APPEND_FORWARD");
        // count = 0 (any), trust = 0: the client's own element is trusted.
        let first_of_any = view(None, Some((0, 0)));
        assert_eq!(
            codes(ProxyKind::Envoy, &append, &first_of_any),
            [("envoy_append_forward", Severity::Error)]
        );
        let first_of_two = view(None, Some((2, 0)));
        assert_eq!(
            codes(ProxyKind::Envoy, &append, &first_of_two)[0].1,
            Severity::Error
        );
        // count = 1: a client's header makes two elements, refused.
        let one = view(None, Some((1, 0)));
        assert_eq!(
            codes(ProxyKind::Envoy, &append, &one),
            [("envoy_append_forward", Severity::Info)]
        );
        let last = view(None, Some((0, -1)));
        assert_eq!(
            codes(ProxyKind::Envoy, &append, &last),
            [("envoy_append_forward", Severity::Info)]
        );
        assert_eq!(
            codes(ProxyKind::Envoy, &append, &NONE),
            [("envoy_append_forward", Severity::Warning)]
        );
        // JSON spelling; a commented-out mode does not count.
        let json =
            r#"{"http_connection_manager": {"forward_client_cert_details": "FORWARD_ONLY"}}"#;
        assert_eq!(
            codes(ProxyKind::Envoy, json, &NONE)[0],
            ("envoy_forward_only", Severity::Error)
        );
        let commented = "http_connection_manager:\n  # forward_client_cert_details: FORWARD_ONLY\n";
        assert_eq!(
            codes(ProxyKind::Envoy, commented, &NONE),
            [("envoy_sanitize", Severity::Warning)]
        );
        let no_cert = "http_connection_manager:\n  forward_client_cert_details: SANITIZE_SET\n  set_current_client_cert_details: {subject: true, uri: true}\n";
        assert_eq!(
            codes(ProxyKind::Envoy, no_cert, &NONE),
            [("envoy_no_cert", Severity::Warning)]
        );
    }

    #[test]
    fn nginx_headers() {
        let ok = "location / {\n  proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;\n  proxy_pass http://app;\n}\n";
        assert_eq!(
            codes(ProxyKind::Nginx, ok, &NONE),
            [("proxy_ok", Severity::Info)]
        );
        let missing = "location / {\n  proxy_pass http://app;\n}\n";
        assert_eq!(
            codes(ProxyKind::Nginx, missing, &NONE),
            [("nginx_header_not_set", Severity::Error)]
        );
        let copied =
            "proxy_set_header X-SSL-Client-Cert $http_x_ssl_client_cert;\nproxy_pass http://app;\n";
        assert_eq!(
            codes(ProxyKind::Nginx, copied, &NONE),
            [("nginx_copies_client_header", Severity::Error)]
        );
        // The policy's header is the one that must be set.
        let other = view(Some("x-forwarded-client-cert"), None);
        assert_eq!(
            codes(ProxyKind::Nginx, ok, &other),
            [("nginx_header_not_set", Severity::Error)]
        );
    }

    #[test]
    fn haproxy_headers() {
        let ok = "frontend fe\n  http-request del-header X-SSL-Client-Cert\n  http-request set-header X-SSL-Client-Cert %[ssl_c_der,base64] if { ssl_c_used }\n";
        assert_eq!(
            codes(ProxyKind::Haproxy, ok, &NONE),
            [("proxy_ok", Severity::Info)]
        );
        let unconditional =
            "frontend fe\n  http-request set-header X-SSL-Client-Cert %[ssl_c_der,base64]\n";
        assert_eq!(
            codes(ProxyKind::Haproxy, unconditional, &NONE),
            [("proxy_ok", Severity::Info)]
        );
        let conditional = "frontend fe\n  http-request set-header X-SSL-Client-Cert %[ssl_c_der,base64] if { ssl_c_used }\n";
        assert_eq!(
            codes(ProxyKind::Haproxy, conditional, &NONE),
            [("haproxy_conditional_set", Severity::Error)]
        );
        let added =
            "frontend fe\n  http-request add-header X-SSL-Client-Cert %[ssl_c_der,base64]\n";
        assert_eq!(
            codes(ProxyKind::Haproxy, added, &NONE),
            [("haproxy_add_header", Severity::Error)]
        );
        let missing = "frontend fe\n  default_backend be\n";
        assert_eq!(
            codes(ProxyKind::Haproxy, missing, &NONE),
            [("haproxy_header_not_set", Severity::Error)]
        );
        let copied = "frontend fe\n  http-request set-header X-SSL-Client-Cert %[req.hdr(X-SSL-Client-Cert)]\n";
        assert_eq!(
            codes(ProxyKind::Haproxy, copied, &NONE),
            [("haproxy_copies_client_header", Severity::Error)]
        );
        let rfc = "frontend fe\n  http-request set-header Client-Cert :%[ssl_c_der,base64]:\n";
        assert_eq!(
            codes(ProxyKind::Haproxy, rfc, &NONE),
            [("proxy_ok", Severity::Info)]
        );
    }

    #[test]
    fn caddy_headers() {
        let ok = "https://app.example {\n  reverse_proxy app:8080 {\n    header_up X-Client-Cert {http.request.tls.client.certificate_der_base64}\n  }\n}\n";
        assert_eq!(
            codes(ProxyKind::Caddy, ok, &NONE),
            [("proxy_ok", Severity::Info)]
        );
        let added = ok.replace("header_up X-Client", "header_up +X-Client");
        assert_eq!(
            codes(ProxyKind::Caddy, &added, &NONE),
            [("caddy_add_header", Severity::Error)]
        );
        let missing = "https://app.example {\n  reverse_proxy app:8080\n}\n";
        assert_eq!(
            codes(ProxyKind::Caddy, missing, &NONE),
            [("caddy_header_not_set", Severity::Error)]
        );
        let copied = "reverse_proxy app {\n  header_up X-Client-Cert {http.request.header.X-Client-Cert}\n}\n";
        assert_eq!(
            codes(ProxyKind::Caddy, copied, &NONE),
            [("caddy_copies_client_header", Severity::Error)]
        );
        let fixed = "reverse_proxy app {\n  header_up X-Client-Cert fixed-text\n}\n";
        assert_eq!(
            codes(ProxyKind::Caddy, fixed, &NONE),
            [("caddy_not_from_tls", Severity::Warning)]
        );
    }

    #[test]
    fn detects_the_proxy() {
        let p = Path::new("x.conf");
        assert_eq!(
            ProxyKind::detect(p, "static_resources:\n"),
            Some(ProxyKind::Envoy)
        );
        assert_eq!(
            ProxyKind::detect(p, "server { proxy_pass http://a; }"),
            Some(ProxyKind::Nginx)
        );
        assert_eq!(
            ProxyKind::detect(p, "frontend fe\n http-request set-header A b\n"),
            Some(ProxyKind::Haproxy)
        );
        assert_eq!(
            ProxyKind::detect(Path::new("Caddyfile"), "x"),
            Some(ProxyKind::Caddy)
        );
        assert_eq!(ProxyKind::detect(p, "hello"), None);
    }
}
