//! Caddy (Caddyfile), read as Caddy reads it: site blocks (TLS unless the
//! address says `http://` or port 80), `tls { client_auth { ... } }`, and
//! every `reverse_proxy` (inside `handle`, `route` or matcher branches)
//! with the `header_up` lines and the enclosing `request_header` lines
//! that apply to it.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::Lint;
use super::conf::{self, Directive, Style};

/// The placeholder of the verified client certificate, one line of base64 DER.
pub(super) const DER_B64: &str = "{http.request.tls.client.certificate_der_base64}";

fn is_plain(address: &str) -> bool {
    address.starts_with("http://") || address.rsplit_once(':').is_some_and(|(_, p)| p == "80")
}

/// What a `reverse_proxy` sends the app in one header (in a Caddyfile or
/// Caddy's JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sent {
    Client,
    Removed,
    Tls,
    Added,
    Copied,
    Other,
}

pub(super) fn classify(value: &str) -> Sent {
    if value.contains("{http.request.header.") || value.contains("{header.") {
        Sent::Copied
    } else if value.contains("{http.request.tls.client.") || value.contains("{tls_client_") {
        Sent::Tls
    } else {
        Sent::Other
    }
}

/// The `header_up`/`request_header` line on `header` in `lines`, if any:
/// (its effect, the line).
fn header_line<'a>(
    lines: &'a [Directive],
    directive: &str,
    header: &str,
) -> Option<(Sent, &'a Directive)> {
    lines
        .iter()
        .rev()
        .filter(|d| d.name == directive)
        .find_map(|d| {
            let name = d.arg(0);
            let (op, bare) = match name.as_bytes().first() {
                Some(b'+') => (Sent::Added, &name[1..]),
                Some(b'-') => (Sent::Removed, &name[1..]),
                _ => (Sent::Other, name),
            };
            if !bare.eq_ignore_ascii_case(header) {
                return None;
            }
            Some(match op {
                Sent::Other => (classify(d.arg(1)), d),
                op => (op, d),
            })
        })
}

struct Proxy<'a> {
    d: &'a Directive,
    /// Enclosing blocks from the site down (the site first).
    stack: Vec<&'a Directive>,
}

fn upstreams(p: &Directive) -> Vec<String> {
    let mut out: Vec<String> = p
        .args
        .iter()
        .filter(|a| !a.starts_with('@') && !a.starts_with('/') && *a != "*")
        .cloned()
        .collect();
    for d in p.children().iter().filter(|d| d.name == "to") {
        out.extend(d.args.iter().cloned());
    }
    out.iter()
        .map(|u| {
            u.trim_start_matches("http://")
                .trim_start_matches("https://")
                .to_ascii_lowercase()
        })
        .collect()
}

pub(super) fn lint(path: &Path, text: &str, lint: &mut Lint<'_>) {
    let file = path.display().to_string();
    let list = match conf::parse(text, &file, Style::Caddy) {
        Ok(l) => l,
        Err(e) => {
            return lint.syntax(
                &file,
                e.line,
                e.message,
                "caddy validate --adapter caddyfile",
            );
        }
    };
    // Snippets, `(name) { ... }`, spliced in where `import name` stands.
    let snippets: Vec<&Directive> = list
        .iter()
        .filter(|d| d.name.starts_with('(') && d.block.is_some())
        .collect();
    let sites: Vec<Directive> = list
        .iter()
        .filter(|d| !d.name.is_empty() && !d.name.starts_with('(') && d.block.is_some())
        .map(|d| {
            let mut d = d.clone();
            if let Some(b) = &mut d.block {
                splice(b, &snippets, lint, 0);
            }
            d
        })
        .collect();
    let mut in_file: Vec<String> = Vec::new();
    for name in sites.iter().flat_map(|s| mentioned(s.children())) {
        super::add_name(&mut in_file, &name);
    }
    // Each site, whether all its addresses are plain HTTP, and its proxies,
    // read once; then the upstreams a TLS site sends certificates to.
    let sites: Vec<(&Directive, bool, Vec<Proxy<'_>>)> = sites
        .iter()
        .map(|site| {
            let plain = std::iter::once(&site.name)
                .chain(&site.args)
                .all(|a| is_plain(a.trim_end_matches(',')));
            (site, plain, proxies_of(site))
        })
        .collect();
    let tls_upstreams: HashSet<String> = sites
        .iter()
        .filter(|(_, plain, _)| !plain)
        .flat_map(|(_, _, proxies)| proxies.iter().flat_map(|p| upstreams(p.d)))
        .collect();
    for (site, plain, proxies) in &sites {
        let (site, plain) = (*site, *plain);
        let mut forwards_cert = false;
        let in_site = mentioned(site.children());
        let mut s = Site {
            site,
            plain,
            tls_upstreams: &tls_upstreams,
            outer_memo: HashMap::new(),
            setting: setters(proxies),
        };
        for p in proxies {
            lint.place();
            let here = mentioned(p.d.children());
            let headers = lint.headers(&[&here, &in_site, &in_file], "X-Client-Cert");
            for header in &headers {
                forwards_cert |= header_finding(&mut s, p, header, lint);
            }
        }
        if !plain && forwards_cert {
            client_auth(site, lint);
        }
    }
}

/// The certificate headers the `header_up` and `request_header` lines of
/// `list` (and the blocks in it) set.
fn mentioned(list: &[Directive]) -> Vec<String> {
    let mut out = Vec::new();
    conf::walk(list, &mut |d, _| {
        if d.name == "header_up" || d.name == "request_header" {
            let name = d.arg(0).trim_start_matches(['+', '-']);
            if super::is_cert_header_name(name) || d.arg(1).contains("{http.request.tls.client.") {
                super::add_name(&mut out, name);
            }
        }
    });
    out
}

/// A site's `reverse_proxy` directives, each with the blocks it is in.
fn proxies_of(site: &Directive) -> Vec<Proxy<'_>> {
    let mut out = Vec::new();
    conf::walk(site.children(), &mut |d, stack| {
        if d.name == "reverse_proxy" {
            out.push(Proxy {
                d,
                stack: stack.to_vec(),
            });
        }
    });
    out
}

/// How many of a site's proxies set each header (lower case).
fn setters(proxies: &[Proxy<'_>]) -> HashMap<String, usize> {
    let mut setting: HashMap<String, usize> = HashMap::new();
    for q in proxies {
        let names: HashSet<String> =
            q.d.children()
                .iter()
                .filter(|d| d.name == "header_up")
                .map(|d| d.arg(0).trim_start_matches(['+', '-']).to_ascii_lowercase())
                .collect();
        for n in names {
            *setting.entry(n).or_default() += 1;
        }
    }
    setting
}

/// One site as the lints read it, with what its blocks were found to send.
struct Site<'a> {
    site: &'a Directive,
    /// Whether all its addresses are plain HTTP.
    plain: bool,
    /// The upstreams a TLS site sends certificates to.
    tls_upstreams: &'a HashSet<String>,
    /// Each enclosing block's `request_header` answer, by block and header
    /// (a site of thousands of branches is read once, not once per branch).
    outer_memo: HashMap<(usize, String), Option<(Sent, &'a Directive)>>,
    /// How many of the site's proxies set each header.
    setting: HashMap<String, usize>,
}

/// What one proxy sends in one certificate header. Whether it is the
/// certificate, from the TLS connection.
fn header_finding<'a>(s: &mut Site<'a>, p: &Proxy<'a>, header: &str, lint: &mut Lint<'_>) -> bool {
    let (site, plain, tls_upstreams) = (s.site, s.plain, s.tls_upstreams);
    let outer_memo = &mut s.outer_memo;
    let setting = &s.setting;
    let mut forwards_cert = false;
    let own = header_line(p.d.children(), "header_up", header);
    // request_header lines in the site and each enclosing block.
    // (Each block's answer is kept: a site of thousands of
    // branches is read once, not once per branch.)
    let outer = std::iter::once(site)
        .chain(p.stack.iter().copied())
        .rev()
        .find_map(|b| {
            *outer_memo
                .entry((std::ptr::from_ref(b) as usize, header.to_ascii_lowercase()))
                .or_insert_with(|| header_line(b.children(), "request_header", header))
        });
    let (sent, line) = match (own, outer) {
        (Some((Sent::Added, d)), Some((Sent::Removed, _))) => (Sent::Tls, Some(d)),
        (Some((s, d)), _) => (s, Some(d)),
        (None, Some((s, d))) => (s, Some(d)),
        (None, None) => (Sent::Client, None),
    };
    let branch = p.stack.last().filter(|b| {
        matches!(
            b.name.as_str(),
            "handle" | "handle_path" | "route" | "handle_errors"
        )
    });
    match sent {
        Sent::Client if plain => {
            if upstreams(p.d).iter().any(|u| tls_upstreams.contains(u)) {
                lint.error(
                    "caddy_plain_site",
                    &p.d.at(),
                    format!("the plain-HTTP site {} proxies to the upstream a TLS site sends certificates to, and passes the client's own {header}: anyone can send one over HTTP", site.name),
                    format!("header_up -{header}"),
                );
            }
        }
        Sent::Client => {
            // This proxy has no header_up for it, so any count is elsewhere.
            let elsewhere = setting
                .get(&header.to_ascii_lowercase())
                .is_some_and(|n| *n > 0);
            match branch {
                Some(b) if elsewhere => lint.error(
                    "caddy_branch_forwards_client_header",
                    &p.d.at(),
                    format!("{} {} proxies without the header_up {header} line the site's other reverse_proxy has: requests that match this branch bring the client's own {header}", b.name, b.args.join(" ")),
                    format!("header_up {header} {DER_B64}"),
                ),
                _ => lint.error(
                    "caddy_header_not_set",
                    &p.d.at(),
                    format!("reverse_proxy has no header_up {header}: Caddy passes the client's own {header} to the app"),
                    format!("header_up {header} {DER_B64}"),
                ),
            }
        }
        Sent::Added => lint.error(
            "caddy_add_header",
            &line.map_or_else(|| p.d.at(), Directive::at),
            format!("header_up +{header} adds a value beside the client's own {header}"),
            format!("header_up {header} {DER_B64}"),
        ),
        Sent::Copied => lint.error(
            "caddy_copies_client_header",
            &line.map_or_else(|| p.d.at(), Directive::at),
            format!("{header} is copied from a request header: the client writes it"),
            format!("header_up {header} {DER_B64}"),
        ),
        Sent::Other => lint.warning(
            "caddy_not_from_tls",
            &line.map_or_else(|| p.d.at(), Directive::at),
            format!("{header} is not set from the TLS connection"),
            format!("header_up {header} {DER_B64}"),
        ),
        Sent::Tls => forwards_cert = true,
        Sent::Removed => {}
    }
    forwards_cert
}

/// Whether a TLS site that forwards a certificate asks for one and
/// verifies it.
fn client_auth(site: &Directive, lint: &mut Lint<'_>) {
    let client_auth = site
        .children()
        .iter()
        .filter(|d| d.name == "tls")
        .flat_map(|t| t.children().iter().filter(|d| d.name == "client_auth"))
        .next_back();
    let Some(auth) = client_auth else {
        lint.warning(
            "caddy_no_client_cert",
            &site.at(),
            format!("site {} has no tls client_auth: Caddy never asks for a client certificate, so the app never gets one", site.name),
            "client_auth { mode require_and_verify }".to_owned(),
        );
        return;
    };
    let mode = auth.children().iter().rev().find(|d| d.name == "mode");
    let trusts = auth.children().iter().any(|d| {
        d.name.starts_with("trusted_ca_cert")
            || d.name == "trust_pool"
            || d.name.starts_with("trusted_leaf_cert")
    });
    // Pinned leaves: Caddy checks a presented leaf against them
    // whatever the mode.
    let pins_leaf = auth
        .children()
        .iter()
        .any(|d| d.name.starts_with("trusted_leaf_cert"));
    let effective = mode.map_or(
        if trusts {
            "require_and_verify"
        } else {
            "require"
        },
        |m| m.arg(0),
    );
    let at = mode.map_or_else(|| auth.at(), Directive::at);
    match effective {
        _ if pins_leaf => {}
        "require_and_verify" | "verify_if_given" if trusts => {}
        "require_and_verify" | "verify_if_given" => lint.warning(
            "caddy_no_trusted_ca",
            &at,
            format!("client_auth mode {effective} without trusted_ca_cert_file: Caddy has nothing to verify against"),
            "trusted_ca_cert_file <your CA bundle>".to_owned(),
        ),
        other => lint.unverified(
            "caddy_unverified",
            &at,
            &format!("client_auth mode {other}: Caddy asks for a certificate but does not verify it"),
            "mode require_and_verify",
        ),
    }
}

fn splice(list: &mut Vec<Directive>, snippets: &[&Directive], lint: &mut Lint<'_>, depth: usize) {
    let mut i = 0;
    while i < list.len() {
        if list[i].name == "import" && depth < 8 {
            let name = format!("({})", list[i].arg(0));
            if let Some(s) = snippets.iter().find(|s| s.name == name) {
                let body = s.children().to_vec();
                list.remove(i);
                let n = body.len();
                list.splice(i..i, body);
                let mut spliced: Vec<Directive> = list.drain(i..i + n).collect();
                splice(&mut spliced, snippets, lint, depth + 1);
                let n = spliced.len();
                list.splice(i..i, spliced);
                i += n;
                continue;
            }
            let d = list[i].clone();
            lint.unread(&d, d.arg(0));
        } else if let Some(b) = &mut list[i].block {
            splice(b, snippets, lint, depth);
        }
        i += 1;
    }
}
