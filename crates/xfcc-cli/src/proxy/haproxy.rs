//! HAProxy, read as HAProxy reads it: `frontend`, `backend` and `listen`
//! sections, `bind` lines (TLS, `verify`, ignored errors), and the
//! `http-request` rules on a certificate header, run in order (the
//! frontend's, then the backend's), each under its `if`/`unless`. A named
//! `defaults` section's rules (HAProxy 2.5+) run before those of each
//! section that takes it: by `from NAME`, or as the last `defaults` above
//! it.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::Lint;

/// One configuration line: its words (quotes removed) and number.
struct Line {
    words: Vec<String>,
    n: usize,
}

struct Section {
    /// Its place among the file's sections.
    idx: usize,
    kind: String,
    name: String,
    /// `from NAME`: the defaults section it takes.
    from: Option<String>,
    n: usize,
    lines: Vec<Line>,
}

fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut any = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '#') => break,
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            }
            (None, c) if c.is_whitespace() => {
                if any || !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                any = false;
            }
            (_, c) => word.push(c),
        }
    }
    if any || !word.is_empty() {
        out.push(word);
    }
    out
}

const SECTIONS: [&str; 14] = [
    "global",
    "defaults",
    "frontend",
    "backend",
    "listen",
    "resolvers",
    "userlist",
    "peers",
    "mailers",
    "program",
    "http-errors",
    "ring",
    "cache",
    "crt-store",
];

fn sections(text: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let w = words(raw);
        let Some(first) = w.first() else { continue };
        if SECTIONS.contains(&first.as_str()) {
            // `defaults [NAME] [from NAME]`, `frontend NAME [from NAME]`.
            let (name, rest) = match w.get(1).map(String::as_str) {
                Some("from") | None => (String::new(), &w[1.min(w.len())..]),
                Some(n) => (n.to_owned(), &w[2.min(w.len())..]),
            };
            let from = match rest {
                [f, n, ..] if f == "from" => Some(n.clone()),
                _ => None,
            };
            out.push(Section {
                idx: out.len(),
                kind: first.clone(),
                name,
                from,
                n: i + 1,
                lines: Vec::new(),
            });
        } else if let Some(s) = out.last_mut() {
            s.lines.push(Line { words: w, n: i + 1 });
        }
    }
    out
}

/// A `bind` line's TLS settings.
struct Bind {
    n: usize,
    tls: bool,
    verify: String,
    ignores_errors: bool,
}

fn binds(s: &Section) -> Vec<Bind> {
    s.lines
        .iter()
        .filter(|l| l.words[0] == "bind")
        .map(|l| {
            let w = &l.words;
            let after = |k: &str| {
                w.iter()
                    .position(|x| x == k)
                    .and_then(|i| w.get(i + 1))
                    .cloned()
            };
            Bind {
                n: l.n,
                tls: w.iter().any(|x| x == "ssl"),
                verify: after("verify").unwrap_or_else(|| "none".to_owned()),
                ignores_errors: w
                    .iter()
                    .any(|x| x == "crt-ignore-err" || x == "ca-ignore-err"),
            }
        })
        .collect()
}

/// What the app may receive in one header: any of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The client's own value.
    Client,
    /// None.
    Clean,
    /// The proxy's value from the TLS connection.
    Tls,
    /// The client's and the proxy's (add-header kept the client's).
    Both,
    /// A copy of a request header.
    Copied,
    /// A constant or another sample.
    Other,
}

/// An `http-request` rule on a header.
struct Rule<'a> {
    line: &'a Line,
    action: &'a str,
    conditional: bool,
    value: State,
}

fn rules<'a>(s: &'a Section, header: &str) -> Vec<Rule<'a>> {
    s.lines
        .iter()
        .filter(|l| {
            l.words[0] == "http-request"
                && l.words
                    .get(2)
                    .is_some_and(|h| h.eq_ignore_ascii_case(header))
        })
        .filter_map(|l| {
            let action = l.words[1].as_str();
            if !matches!(action, "set-header" | "add-header" | "del-header") {
                return None;
            }
            let rest = &l.words[3..];
            let cond = rest.iter().position(|w| w == "if" || w == "unless");
            let value = rest[..cond.unwrap_or(rest.len())].join(" ");
            let value = if value.contains("hdr(") || value.contains("req.fhdr") {
                State::Copied
            } else if value.contains("ssl_c_") {
                State::Tls
            } else {
                State::Other
            };
            Some(Rule {
                line: l,
                action,
                conditional: cond.is_some(),
                value,
            })
        })
        .collect()
}

/// The states the header may be in after `rules`, from the client's own.
fn run(rules: &[&Rule<'_>]) -> Vec<State> {
    let mut states = vec![State::Client];
    for r in rules {
        let after: Vec<State> = states
            .iter()
            .map(|s| match r.action {
                "del-header" => State::Clean,
                "set-header" => r.value,
                _ => match s {
                    State::Client | State::Both => State::Both,
                    State::Clean => r.value,
                    s => *s,
                },
            })
            .collect();
        if !r.conditional {
            states.clear();
        }
        for s in after {
            if !states.contains(&s) {
                states.push(s);
            }
        }
    }
    states
}

/// The `defaults` section each section takes, by index: its `from NAME`,
/// or else the last `defaults` above it.
fn defaults_of(all: &[Section]) -> Vec<Option<usize>> {
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    for (i, d) in all.iter().enumerate().filter(|(_, d)| d.kind == "defaults") {
        by_name.entry(d.name.as_str()).or_insert(i);
    }
    let mut last = None;
    all.iter()
        .enumerate()
        .map(|(i, s)| {
            let named = s.from.as_deref().and_then(|n| by_name.get(n).copied());
            let taken = if s.kind == "defaults" {
                named
            } else {
                named.or(last)
            };
            if s.kind == "defaults" {
                last = Some(i);
            }
            taken
        })
        .collect()
}

/// A section's `http-request` rules on a header: those of the defaults
/// section it takes first (HAProxy 2.5+ runs them before its own).
fn rules_with_defaults<'a>(
    all: &'a [Section],
    taken: &[Option<usize>],
    s: &'a Section,
    header: &str,
) -> Vec<Rule<'a>> {
    let mut out = taken
        .get(s.idx)
        .copied()
        .flatten()
        .map(|d| rules(&all[d], header))
        .unwrap_or_default();
    out.extend(rules(s, header));
    out
}

pub(super) fn lint(path: &Path, text: &str, lint: &mut Lint<'_>) {
    let file = path.display().to_string();
    let at = |n: usize| format!("{file}:{n}");
    let all = sections(text);
    let taken = defaults_of(&all);
    let in_file = mentioned(&all.iter().collect::<Vec<_>>());
    rfc9440_colons(&all, &at, lint);
    let routes = frontends(&all, lint);
    let tls_backends: HashSet<&str> = routes
        .iter()
        .filter(|(fe, _)| binds(fe).iter().any(|b| b.tls))
        .flat_map(|(_, backs)| backs.iter().map(|b| b.name.as_str()))
        .collect();
    for (fe, backs) in &routes {
        let bound = binds(fe);
        let tls = bound.iter().any(|b| b.tls);
        let mut forwards_cert = false;
        // A frontend's own rules alone when it names no backend.
        let targets: Vec<Option<&Section>> = if backs.is_empty() {
            vec![None]
        } else {
            backs.iter().copied().map(Some).collect()
        };
        let fe_mentioned = mentioned(&[*fe]);
        let mut fe_rules_of: HashMap<String, Vec<Rule<'_>>> = HashMap::new();
        for be in &targets {
            let mut here = fe_mentioned.clone();
            if let Some(b) = be.filter(|b| !std::ptr::eq(*b, *fe)) {
                for name in mentioned(&[b]) {
                    super::add_name(&mut here, &name);
                }
            }
            let headers = lint.headers(&[&here, &in_file], "X-SSL-Client-Cert");
            for header in &headers {
                let fe_rules = fe_rules_of
                    .entry(header.to_ascii_lowercase())
                    .or_insert_with(|| rules_with_defaults(&all, &taken, fe, header));
                let be_rules = be
                    .filter(|b| !std::ptr::eq(*b, *fe))
                    .map(|b| rules_with_defaults(&all, &taken, b, header))
                    .unwrap_or_default();
                let order: Vec<&Rule<'_>> = fe_rules.iter().chain(be_rules.iter()).collect();
                let states = run(&order);
                if states.contains(&State::Tls) {
                    forwards_cert = true;
                }
                let route = Route {
                    fe,
                    be: *be,
                    tls,
                    tls_backends: &tls_backends,
                };
                header_finding(&route, header, &order, &states, &at, lint);
            }
        }
        if tls && forwards_cert {
            client_tls(&bound, &at, lint);
        }
    }
}

/// The certificate headers the `http-request` rules of `sections` set.
fn mentioned(sections: &[&Section]) -> Vec<String> {
    let mut out = Vec::new();
    for s in sections {
        for l in &s.lines {
            if l.words[0] == "http-request" && l.words.len() > 2 {
                let h = &l.words[2];
                if super::is_cert_header_name(h)
                    || l.words[3..].iter().any(|w| w.contains("ssl_c_"))
                {
                    super::add_name(&mut out, h);
                }
            }
        }
    }
    out
}

/// RFC 9440's header holds a structured-field byte sequence, `:base64:`:
/// without the colons the app (format rfc9440) refuses every value.
fn rfc9440_colons(all: &[Section], at: &dyn Fn(usize) -> String, lint: &mut Lint<'_>) {
    for s in all {
        for l in &s.lines {
            let w = &l.words;
            if w[0] == "http-request"
                && w.get(1)
                    .is_some_and(|a| a == "set-header" || a == "add-header")
                && w.get(2)
                    .is_some_and(|h| h.eq_ignore_ascii_case("client-cert"))
                && let Some(v) = w.get(3)
                && v.contains("ssl_c_der")
                && !(v.starts_with(':') && v.ends_with(':'))
            {
                lint.warning(
                    "haproxy_rfc9440_colons",
                    &at(l.n),
                    format!("http-request {} {} {v}: RFC 9440's Client-Cert is a byte sequence, :base64:, and without the colons the app (format rfc9440) refuses every value as malformed", w[1], w[2]),
                    format!("http-request set-header {} :%[ssl_c_der,base64]:", w[2]),
                );
            }
        }
    }
}

/// Each frontend (or listen) with the backends it can send to.
fn frontends<'a>(all: &'a [Section], lint: &mut Lint<'_>) -> Vec<(&'a Section, Vec<&'a Section>)> {
    let mut backends: HashMap<&str, &Section> = HashMap::new();
    for s in all.iter().filter(|s| s.kind == "backend") {
        backends.entry(s.name.as_str()).or_insert(s);
    }
    let mut routes: Vec<(&Section, Vec<&Section>)> = Vec::new();
    for fe in all
        .iter()
        .filter(|s| s.kind == "frontend" || s.kind == "listen")
    {
        let mut backs = Vec::new();
        let mut named = HashSet::new();
        if fe.kind == "listen" {
            backs.push(fe);
        }
        for l in &fe.lines {
            let name = match l.words[0].as_str() {
                "default_backend" => l.words.get(1),
                "use_backend" => l.words.get(1),
                _ => None,
            };
            if let Some(b) = name.and_then(|n| backends.get(n.as_str()).copied())
                && named.insert(b.name.as_str())
            {
                backs.push(b);
            }
        }
        if backs
            .iter()
            .any(|b| b.lines.iter().any(|l| l.words[0] == "server"))
        {
            lint.place();
        }
        routes.push((fe, backs));
    }
    routes
}

/// A frontend and the backend (if any) a request goes to.
struct Route<'r> {
    fe: &'r Section,
    be: Option<&'r Section>,
    /// Whether the frontend binds with TLS.
    tls: bool,
    /// The backends a TLS frontend sends certificates to.
    tls_backends: &'r HashSet<&'r str>,
}

/// What the rules on a route make of one certificate header.
fn header_finding(
    route: &Route<'_>,
    header: &str,
    order: &[&Rule<'_>],
    states: &[State],
    at: &dyn Fn(usize) -> String,
    lint: &mut Lint<'_>,
) {
    let Route {
        fe,
        be,
        tls,
        tls_backends,
    } = *route;
    let via = be.map_or_else(String::new, |b| format!(" (into backend {})", b.name));
    if let Some(r) = order
        .iter()
        .find(|r| r.action == "add-header" && states.contains(&State::Both))
    {
        lint.error(
            "haproxy_add_header",
            &at(r.line.n),
            format!("http-request add-header {header} adds a value beside the client's own {header}{via}"),
            format!("http-request set-header {header} %[ssl_c_der,base64]"),
        );
    } else if let Some(r) = order
        .iter()
        .find(|r| r.value == State::Copied && states.contains(&State::Copied))
    {
        lint.error(
            "haproxy_copies_client_header",
            &at(r.line.n),
            format!(
                "http-request set-header {header} copies a request header: the client writes it"
            ),
            format!("http-request set-header {header} %[ssl_c_der,base64]"),
        );
    } else if states.contains(&State::Client) {
        if let Some(r) = order.iter().find(|r| r.conditional) {
            lint.error(
                "haproxy_conditional_set",
                &at(r.line.n),
                format!("http-request {} {header} runs only under a condition, and nothing removes the client's {header} first: when the condition is false, the client's header reaches the app{via}", r.action),
                format!("http-request del-header {header}"),
            );
        } else if !tls {
            if be.is_some_and(|b| tls_backends.contains(&b.name.as_str())) {
                lint.error(
                    "haproxy_plain_frontend",
                    &at(fe.n),
                    format!("{} {} takes plain HTTP into backend {} (where a TLS frontend sends certificates) and passes the client's own {header}: anyone can send one", fe.kind, fe.name, be.map_or("", |b| b.name.as_str())),
                    format!("http-request del-header {header}"),
                );
            }
        } else {
            lint.error(
                "haproxy_header_not_set",
                &at(fe.n),
                format!("{} {}: no http-request set-header {header}{via}: HAProxy passes the client's own {header} to the app", fe.kind, fe.name),
                format!("http-request set-header {header} %[ssl_c_der,base64]"),
            );
        }
    } else if let Some(r) = order
        .iter()
        .find(|r| r.value == State::Other && states.contains(&State::Other))
    {
        lint.warning(
            "haproxy_not_from_tls",
            &at(r.line.n),
            format!("http-request set-header {header} is not set from the TLS connection (%[ssl_c_der,base64])"),
            format!("http-request set-header {header} %[ssl_c_der,base64]"),
        );
    }
}

/// Whether a TLS frontend that forwards a certificate asks for one and
/// verifies it.
fn client_tls(bound: &[Bind], at: &dyn Fn(usize) -> String, lint: &mut Lint<'_>) {
    for b in bound.iter().filter(|b| b.tls) {
        if b.ignores_errors {
            lint.unverified(
                "haproxy_unverified",
                &at(b.n),
                "crt-ignore-err/ca-ignore-err: HAProxy accepts client certificates that fail verification",
                "remove crt-ignore-err and ca-ignore-err from the bind line",
            );
        }
        match b.verify.as_str() {
            "required" | "optional" => {}
            _ => lint.warning(
                "haproxy_no_client_cert",
                &at(b.n),
                "bind without verify required/optional: HAProxy never asks for a client certificate, so the app never gets one".to_owned(),
                "verify required ca-file <your CA bundle> on the bind line".to_owned(),
            ),
        }
    }
}
