//! nginx, read as nginx reads it: `http` → `server` → `location` (nested,
//! with `if` blocks), `include` spliced in, and `proxy_set_header` (and
//! `grpc_set_header`) inherited from the enclosing level only by a level
//! that has none of its own. `uwsgi_pass`, `fastcgi_pass` and `scgi_pass`
//! forward too (how Flask and Django usually run behind nginx): every
//! request header reaches the app as a CGI variable (`X-SSL-Client-Cert` as
//! `HTTP_X_SSL_CLIENT_CERT`) unless a `*_param HTTP_...` line of the same
//! name replaces it, with the same inheritance rule.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::rc::Rc;

use super::Lint;
use super::conf::{self, Directive, Style};

/// The variables nginx fills from the verified TLS connection, as one line.
const ESCAPED: &str = "$ssl_client_escaped_cert";
/// The deprecated multi-line forms (a PEM with tab-indented continuation
/// lines, which HTTP/1.1 forbids and most servers refuse or cut).
const MULTILINE: [&str; 2] = ["$ssl_client_cert", "$ssl_client_raw_cert"];

/// The name of the server a fragment without `server` blocks is judged as.
const FRAGMENT: &str = "(fragment)";

/// Includes followed, at most: a configuration is a handful of files.
const MAX_FILES: usize = 64;

/// Reads `text` and every file it includes (relative paths from the main
/// file's folder, as `nginx -c FILE` resolves them; `*` in the last part of
/// the path), splicing
/// them in. Files that cannot be read are reported, and the rest judged.
fn load(path: &Path, text: &str, lint: &mut Lint<'_>) -> Option<Vec<Directive>> {
    let mut files = 1;
    let mut list = match conf::parse(text, &path.display().to_string(), Style::Nginx) {
        Ok(l) => l,
        Err(e) => {
            lint.syntax(&path.display().to_string(), e.line, e.message, "nginx -t");
            return None;
        }
    };
    splice(
        &mut list,
        path.parent().unwrap_or(Path::new(".")),
        lint,
        &mut files,
        0,
    );
    Some(list)
}

fn splice(
    list: &mut Vec<Directive>,
    dir: &Path,
    lint: &mut Lint<'_>,
    files: &mut usize,
    depth: usize,
) {
    let mut i = 0;
    while i < list.len() {
        if list[i].name == "include" && list[i].block.is_none() {
            let d = list.remove(i);
            let pattern = dir.join(d.arg(0));
            let mut found = Vec::new();
            match expand(&pattern) {
                Ok(paths) if !paths.is_empty() || pattern.to_string_lossy().contains('*') => {
                    for p in paths {
                        *files += 1;
                        let read = (*files <= MAX_FILES && depth < 8)
                            .then(|| std::fs::read_to_string(&p).ok())
                            .flatten();
                        let Some(text) = read else {
                            lint.unread(&d, &p.display().to_string());
                            continue;
                        };
                        match conf::parse(&text, &p.display().to_string(), Style::Nginx) {
                            Ok(mut sub) => {
                                // Relative paths are from the main file's
                                // folder (nginx's conf prefix), at any depth.
                                splice(&mut sub, dir, lint, files, depth + 1);
                                found.extend(sub);
                            }
                            Err(e) => {
                                lint.syntax(&p.display().to_string(), e.line, e.message, "nginx -t")
                            }
                        }
                    }
                }
                _ => lint.unread(&d, &pattern.display().to_string()),
            }
            let n = found.len();
            list.splice(i..i, found);
            i += n;
        } else {
            if let Some(b) = &mut list[i].block {
                splice(b, dir, lint, files, depth);
            }
            i += 1;
        }
    }
}

/// The files a path with `*` in its last part names, sorted (as nginx
/// includes them); the path itself otherwise, when it exists.
fn expand(pattern: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let name = pattern
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some((head, tail)) = name.split_once('*') else {
        return Ok(if pattern.is_file() {
            vec![pattern.to_path_buf()]
        } else {
            Vec::new()
        });
    };
    let dir = pattern.parent().unwrap_or(Path::new("."));
    let mut out: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let n = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            n.len() >= head.len() + tail.len()
                && n.starts_with(head)
                && n.ends_with(tail)
                && p.is_file()
        })
        .collect();
    out.sort();
    Ok(out)
}

/// A level's request-header lines (`proxy_set_header` or `grpc_set_header`
/// directly in it), summarised once per level: configurations with
/// thousands of locations stay linear.
#[derive(Default)]
struct Sets<'a> {
    /// The first such line, if any (a level with one inherits none).
    first: Option<&'a Directive>,
    /// The last line for each header (lower case), as nginx applies it.
    by_header: HashMap<String, &'a Directive>,
    /// The certificate headers among them, in order, once each.
    cert_names: Vec<String>,
    /// `add_header` lines on each header (lower case), the first of each.
    adds: HashMap<String, &'a Directive>,
}

/// Each level's [`Sets`], keyed by the level's address and directive name.
#[derive(Default)]
struct Memo<'a> {
    levels: HashMap<(usize, &'static str), Rc<Sets<'a>>>,
}

impl<'a> Memo<'a> {
    fn sets(&mut self, level: &'a [Directive], directive: &'static str) -> Rc<Sets<'a>> {
        let key = (level.as_ptr() as usize, directive);
        Rc::clone(self.levels.entry(key).or_insert_with(|| {
            let mut s = Sets::default();
            for d in level {
                if d.name == directive {
                    // Any line of the directive, header or not, stops
                    // the inheritance of the level above's.
                    s.first.get_or_insert(d);
                    let Some(header) = header_of(d) else {
                        continue;
                    };
                    if is_cert_line(d) {
                        super::add_name(&mut s.cert_names, &header);
                    }
                    s.by_header.insert(header.to_ascii_lowercase(), d);
                } else if d.name == "add_header" {
                    s.adds.entry(d.arg(0).to_ascii_lowercase()).or_insert(d);
                }
            }
            Rc::new(s)
        }))
    }
}

/// The directives that forward a request, each with the one that sets a
/// request header for it.
const PASSES: [(&str, &str); 5] = [
    ("proxy_pass", "proxy_set_header"),
    ("grpc_pass", "grpc_set_header"),
    ("uwsgi_pass", "uwsgi_param"),
    ("fastcgi_pass", "fastcgi_param"),
    ("scgi_pass", "scgi_param"),
];

fn is_param(directive: &str) -> bool {
    directive.ends_with("_param")
}

/// The request header a `*_set_header` line sets, or a `*_param` line
/// passes as its CGI variable (`HTTP_X_SSL_CLIENT_CERT` is
/// `x-ssl-client-cert`); `None` for a `*_param` that is no header.
fn header_of(d: &Directive) -> Option<String> {
    if is_param(&d.name) {
        let var = d.arg(0).strip_prefix("HTTP_")?;
        // `X_SSL_CLIENT_CERT` as `X-Ssl-Client-Cert`.
        let words: Vec<String> = var
            .split('_')
            .map(|w| {
                let lower = w.to_ascii_lowercase();
                let mut c = lower.chars();
                c.next().map_or_else(String::new, |f| {
                    f.to_ascii_uppercase().to_string() + c.as_str()
                })
            })
            .collect();
        Some(words.join("-"))
    } else {
        Some(d.arg(0).to_owned())
    }
}

/// The line that sets `header` to `value` with `directive`.
fn set_line(directive: &str, header: &str, value: &str) -> String {
    if is_param(directive) {
        format!(
            "{directive} HTTP_{} {value};",
            header.to_ascii_uppercase().replace('-', "_")
        )
    } else {
        format!("{directive} {header} {value};")
    }
}

/// How the app sees `header` through `directive`'s pass.
fn as_seen(directive: &str, header: &str) -> String {
    if is_param(directive) {
        format!(
            "{header} (as HTTP_{})",
            header.to_ascii_uppercase().replace('-', "_")
        )
    } else {
        header.to_owned()
    }
}

/// One proxying location: where it is, its enclosing levels (innermost
/// last) and which `*_set_header` applies.
struct Proxying<'a> {
    pass: &'a Directive,
    /// `location`/`if` blocks from the server down, innermost last.
    levels: Vec<&'a Directive>,
}

fn proxying<'a>(server: &'a Directive) -> Vec<Proxying<'a>> {
    let mut out = Vec::new();
    conf::walk(server.children(), &mut |d, stack| {
        if PASSES.iter().any(|(pass, _)| d.name == *pass) {
            out.push(Proxying {
                pass: d,
                levels: stack.to_vec(),
            });
        }
    });
    out
}

/// The upstream a `proxy_pass` names, without scheme or path.
fn upstream(pass: &Directive) -> String {
    let url = pass.arg(0);
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_ascii_lowercase()
}

/// Whether a server accepts TLS and plain HTTP on its `listen` lines.
fn listeners(server: &Directive) -> (bool, bool) {
    let listens: Vec<&Directive> = server
        .children()
        .iter()
        .filter(|d| d.name == "listen")
        .collect();
    let old_ssl_on = server
        .children()
        .iter()
        .any(|d| d.name == "ssl" && d.arg(0) == "on");
    if listens.is_empty() {
        // No `listen`: port 80, unless the server has TLS settings (a
        // fragment whose listen lines are elsewhere).
        let tls = old_ssl_on || server.children().iter().any(|d| d.name.starts_with("ssl_"));
        return (tls || server.arg(0) == FRAGMENT, !tls);
    }
    let tls = listens
        .iter()
        .filter(|l| old_ssl_on || l.args.iter().any(|a| a == "ssl"))
        .count();
    (tls > 0, tls < listens.len())
}

/// What the app receives in one header at one proxying location.
enum Value<'a> {
    /// The client's own header, untouched (no line for it at this level).
    Client,
    /// Cleared (`""`).
    Cleared,
    /// From the TLS connection, one line.
    Escaped,
    /// The deprecated multi-line variable.
    Multiline(&'a Directive),
    /// A copy of a request header (`$http_*`).
    Copied(&'a Directive),
    /// Something else (a constant, another variable).
    Other(&'a Directive),
}

fn value_of<'a>(sets: &Sets<'a>, header: &str) -> Value<'a> {
    let Some(d) = sets.by_header.get(&header.to_ascii_lowercase()).copied() else {
        return Value::Client;
    };
    let v = d.arg(1);
    if v.is_empty() {
        Value::Cleared
    } else if v.contains("$http_") {
        Value::Copied(d)
    } else if v.contains(ESCAPED) {
        Value::Escaped
    } else if MULTILINE.iter().any(|m| {
        v.split(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '$')
            .any(|w| w == *m)
    }) {
        Value::Multiline(d)
    } else {
        Value::Other(d)
    }
}

/// The server-level (or http-level) setting `name` as the server sees it.
fn setting<'a>(http: &'a [Directive], server: &'a Directive, name: &str) -> Option<&'a Directive> {
    server
        .children()
        .iter()
        .rev()
        .find(|d| d.name == name)
        .or_else(|| http.iter().rev().find(|d| d.name == name))
}

pub(super) fn lint(path: &Path, text: &str, lint: &mut Lint<'_>) {
    let Some(list) = load(path, text, lint) else {
        return;
    };
    // The `http` block, or a fragment of one (a conf.d file of servers).
    let http: &[Directive] = match list.iter().find(|d| d.name == "http") {
        Some(h) => h.children(),
        None => &list,
    };
    let mut servers: Vec<&Directive> = http
        .iter()
        .filter(|d| d.name == "server" && d.block.is_some())
        .collect();
    // A fragment with no `server` block (a file of locations, included
    // into one) is judged as one server.
    let implicit;
    if servers.is_empty() {
        implicit = Directive {
            name: "server".to_owned(),
            args: vec![FRAGMENT.to_owned()],
            line: 1,
            file: Rc::from(path.display().to_string()),
            block: Some(http.to_vec()),
        };
        servers.push(&implicit);
    }
    let in_file = mentioned(http);
    // Each server with its listeners and the places in it that proxy,
    // read once; then the upstreams a TLS server forwards certificates to.
    let servers: Vec<(&Directive, (bool, bool), Vec<Proxying<'_>>)> = servers
        .into_iter()
        .map(|s| (s, listeners(s), proxying(s)))
        .collect();
    let tls_upstreams: HashSet<String> = servers
        .iter()
        .filter(|(_, (tls, _), _)| *tls)
        .flat_map(|(_, _, places)| places.iter().map(|p| upstream(p.pass)))
        .collect();
    let mut memo = Memo::default();
    for (server, (tls, plain), places) in &servers {
        let s = Server {
            http,
            server,
            tls: *tls,
            plain: *plain,
            tls_upstreams: &tls_upstreams,
            in_server: mentioned(server.children()),
            in_file: &in_file,
        };
        let mut forwards_cert = false;
        for p in places {
            forwards_cert |= place(&s, p, &mut memo, lint);
        }
        if s.tls && forwards_cert {
            server_tls(&s, lint);
        }
    }
}

/// One server block as the lints read it.
struct Server<'a> {
    http: &'a [Directive],
    server: &'a Directive,
    /// Whether it listens with TLS, and in plain HTTP.
    tls: bool,
    plain: bool,
    /// The upstreams a TLS server forwards certificates to.
    tls_upstreams: &'a HashSet<String>,
    /// The certificate headers the server and the file name.
    in_server: Vec<String>,
    in_file: &'a [String],
}

/// One place that proxies (`proxy_pass`, `uwsgi_pass`, ...): the
/// `*_set_header` lines that apply there, and what each certificate header
/// becomes. Whether a certificate is forwarded from the TLS connection.
fn place<'a>(s: &Server<'a>, p: &Proxying<'a>, memo: &mut Memo<'a>, lint: &mut Lint<'_>) -> bool {
    let (http, server, in_server, in_file) = (s.http, s.server, &s.in_server, s.in_file);
    let mut forwards_cert = false;
    lint.place();
    let directive = PASSES
        .iter()
        .find(|(pass, _)| p.pass.name == *pass)
        .map_or("proxy_set_header", |(_, set)| *set);
    // The innermost level with any *_set_header line: nginx
    // inherits from the enclosing level only where a level has none.
    let mut chain: Vec<(Option<&Directive>, Rc<Sets<'_>>)> = vec![
        (None, memo.sets(http, directive)),
        (Some(server), memo.sets(server.children(), directive)),
    ];
    for l in &p.levels {
        chain.push((Some(*l), memo.sets(l.children(), directive)));
    }
    let k = (0..chain.len())
        .rev()
        .find(|&k| chain[k].1.first.is_some())
        .unwrap_or(0);
    let sets = Rc::clone(&chain[k].1);
    let headers = lint.headers(&[&sets.cert_names, in_server, in_file], "X-SSL-Client-Cert");
    for header in &headers {
        let value = value_of(&sets, header);
        let at = Place {
            s,
            p,
            directive,
            chain: &chain,
            k,
            sets: &sets,
        };
        forwards_cert |= header_finding(&at, header, value, lint);
    }
    forwards_cert
}

/// Where a certificate header is judged: the server, the place, the
/// directive that sets headers there, and the levels whose lines apply.
struct Place<'p, 'a> {
    s: &'p Server<'a>,
    p: &'p Proxying<'a>,
    directive: &'static str,
    /// Each level (http, server, locations) with its lines.
    chain: &'p [(Option<&'a Directive>, Rc<Sets<'a>>)],
    /// The level whose lines apply.
    k: usize,
    sets: &'p Sets<'a>,
}

/// What one certificate header's value means at a place. Whether it is
/// the certificate, from the TLS connection.
fn header_finding(at: &Place<'_, '_>, header: &str, value: Value<'_>, lint: &mut Lint<'_>) -> bool {
    let Place {
        s,
        p,
        directive,
        chain,
        k,
        sets,
    } = *at;
    let (plain, tls) = (s.plain, s.tls);
    let tls_upstreams = s.tls_upstreams;
    let lower = header.to_ascii_lowercase();
    let mut forwards_cert = false;
    match value {
        Value::Client => {
            let plain_only = plain && !tls;
            // Set at a level above the one whose lines apply.
            let dropped = chain[..k]
                .iter()
                .rev()
                .find_map(|(_, s)| s.by_header.get(&lower).copied());
            if let (Some(above), Some(own), Some(level)) = (dropped, sets.first, chain[k].0) {
                lint.error(
                    "nginx_location_drops_header",
                    &own.at(),
                    format!("{} {} has {directive} lines of its own, so it inherits none from {} ({directive} {} there): the client's own {} reaches the app through {}", level.name, level.args.join(" "), above.at(), above.arg(0), as_seen(directive, header), p.pass.at()),
                    set_line(directive, header, above.arg(1)),
                );
            } else if plain_only {
                if tls_upstreams.contains(&upstream(p.pass)) {
                    lint.error(
                        "nginx_plain_server",
                        &p.pass.at(),
                        format!("a plain-HTTP server proxies to {} (the upstream a TLS server sends certificates to) and passes the client's own {}: anyone can send one over HTTP", upstream(p.pass), as_seen(directive, header)),
                        set_line(directive, header, "\"\""),
                    );
                }
            } else if let Some(add) = chain.iter().find_map(|(_, s)| s.adds.get(&lower).copied()) {
                lint.error(
                    "nginx_add_header",
                    &add.at(),
                    format!("add_header {header} sets a response header; the request keeps the client's own {}, which reaches the app through {}", as_seen(directive, header), p.pass.at()),
                    set_line(directive, header, ESCAPED),
                );
            } else {
                lint.error(
                    "nginx_header_not_set",
                    &p.pass.at(),
                    format!(
                        "no {} applies here: nginx passes the client's own {} to the app",
                        set_line(directive, header, "...").trim_end_matches(" ...;"),
                        as_seen(directive, header)
                    ),
                    set_line(directive, header, ESCAPED),
                );
            }
        }
        Value::Copied(d) => lint.error(
            "nginx_copies_client_header",
            &d.at(),
            format!(
                "{directive} {} copies a request header ({}): the client writes it",
                d.arg(0),
                d.arg(1)
            ),
            set_line(directive, header, ESCAPED),
        ),
        Value::Multiline(d) => {
            forwards_cert = true;
            lint.warning(
                "nginx_multiline_cert",
                &d.at(),
                format!("{directive} {} {}: the deprecated multi-line form (continuation lines, which HTTP/1.1 forbids): the app cannot read it", d.arg(0), d.arg(1)),
                set_line(directive, header, ESCAPED),
            );
        }
        Value::Other(d) => lint.warning(
            "nginx_not_from_tls",
            &d.at(),
            format!(
                "{directive} {} is not set from the TLS connection ({})",
                d.arg(0),
                d.arg(1)
            ),
            set_line(directive, header, ESCAPED),
        ),
        Value::Escaped => {
            forwards_cert = true;
            // The bare URL-encoded PEM in the header whose
            // usual form is Envoy's: the app, reading that
            // form, refuses every value.
            let envoy_form = lint
                .view
                .policy
                .as_ref()
                .is_none_or(|p| p.format == xfcc::Format::Envoy);
            if let Some(d) = sets.by_header.get(&lower).copied().filter(|d| {
                envoy_form && lower == "x-forwarded-client-cert" && d.arg(1).trim() == ESCAPED
            }) {
                lint.warning(
                    "nginx_pem_in_xfcc",
                    &d.at(),
                    format!("{directive} {} {ESCAPED} writes nginx's URL-encoded PEM into the header whose form is Envoy's (Hash=...;Cert=\"...\"): an app reading the Envoy form (xfcc's default, format = \"envoy\") refuses every value as wrong_format_pem", d.arg(0)),
                    "XFCC_FORMAT=nginx (format = \"nginx\") in the app, with header = \"x-forwarded-client-cert\"; or name the header X-SSL-Client-Cert".to_owned(),
                );
            }
        }
        Value::Cleared => {}
    }
    forwards_cert
}

/// A TLS server that forwards a certificate: does it ask for one, verify
/// it, and keep clients from sending a look-alike with underscores?
fn server_tls(s: &Server<'_>, lint: &mut Lint<'_>) {
    let (http, server, in_server, in_file) = (s.http, s.server, &s.in_server, s.in_file);
    let verify = setting(http, server, "ssl_verify_client");
    let mode = verify.map_or("off", |d| d.arg(0));
    let at = verify.map_or_else(|| server.at(), Directive::at);
    match mode {
        "on" | "optional" => {}
        "optional_no_ca" => lint.unverified(
            "nginx_unverified",
            &at,
            "ssl_verify_client optional_no_ca: nginx asks for a certificate but does not verify it",
            "ssl_verify_client on;",
        ),
        _ => lint.warning(
            "nginx_no_client_cert",
            &at,
            "ssl_verify_client is off: nginx never asks for a client certificate, so $ssl_client_escaped_cert is empty and the app never gets one".to_owned(),
            "ssl_verify_client on;".to_owned(),
        ),
    }
    if let Some(u) = setting(http, server, "underscores_in_headers").filter(|d| d.arg(0) == "on") {
        lint.warning(
            "nginx_underscores",
            &u.at(),
            format!("underscores_in_headers on: nginx passes a client's {} unchanged beside the header it sets, and frameworks that fold `_` into `-` (CGI, WSGI) read it as the same header", lint.headers(&[in_server, in_file], "X-SSL-Client-Cert")[0].replace('-', "_")),
            "underscores_in_headers off;".to_owned(),
        );
    }
}

/// A `*_set_header`, `*_param HTTP_...` or `add_header` line on a
/// certificate header (a usual name, or any set from the TLS connection).
fn is_cert_line(d: &Directive) -> bool {
    let sets = matches!(
        d.name.as_str(),
        "proxy_set_header" | "grpc_set_header" | "add_header"
    ) || PASSES
        .iter()
        .any(|(_, set)| d.name == *set && is_param(set));
    sets && header_of(d)
        .is_some_and(|h| d.arg(1).contains("$ssl_client_") || super::is_cert_header_name(&h))
}

/// The certificate headers named under `list`.
fn mentioned(list: &[Directive]) -> Vec<String> {
    let mut out = Vec::new();
    conf::walk(list, &mut |d, _| {
        if is_cert_line(d)
            && let Some(h) = header_of(d)
        {
            super::add_name(&mut out, &h);
        }
    });
    out
}
