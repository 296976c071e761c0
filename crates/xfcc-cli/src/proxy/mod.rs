//! `xfcc doctor --proxy FILE`: reads a proxy's configuration the way the
//! proxy does (nginx's contexts and header inheritance, HAProxy's sections
//! and rule order, Caddy's sites and routes, Envoy's listeners and filter
//! chains) and reports what makes the forwarded certificate header
//! forgeable, empty or unverified, each finding with its line and a fix
//! that the doctor itself judges clean.

mod caddy;
mod caddy_json;
mod conf;
mod envoy;
mod haproxy;
mod nginx;
mod tree;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use xfcc::{ElementCount, Policy, outcome::IdentityFrom};

use crate::finding::{Finding, Severity, finding};

/// The largest configuration file read (4 MiB).
pub(crate) const MAX_BYTES: usize = conf::MAX_BYTES;

/// Which proxy a configuration file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ProxyKind {
    /// Envoy (YAML or JSON bootstrap, listeners, or an HCM config).
    Envoy,
    /// nginx.
    Nginx,
    /// HAProxy.
    Haproxy,
    /// Caddy (a Caddyfile, or Caddy's JSON configuration).
    Caddy,
}

impl ProxyKind {
    pub(crate) const fn name(self) -> &'static str {
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
            || text.contains("filter_chains")
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
    /// The header the app reads (lower case): `--header`, or the policy's.
    /// Without either, every usual certificate header the configuration
    /// names is checked.
    pub(crate) header: Option<String>,
    /// What the policy relies on, read through the library (`--policy`).
    pub(crate) policy: Option<PolicyFacts>,
}

/// The parts of a built policy that decide whether a proxy setup is safe.
#[derive(Debug, Clone)]
pub(crate) struct PolicyFacts {
    pub(crate) count: ElementCount,
    pub(crate) trust: i64,
    pub(crate) by: bool,
    pub(crate) proxy_fields: bool,
    /// Rules that pin nothing (no thumbprint, no chain).
    pub(crate) name_only_rules: Vec<String>,
    /// Rules with an `issuer` or `issuer_cn` constraint.
    pub(crate) issuer_rules: Vec<String>,
    /// The header format the app reads.
    pub(crate) format: xfcc::Format,
    /// Whether it names its proxies by certificate (`[[trusted_proxies]]`).
    pub(crate) trusted_proxies: bool,
    /// The policy itself, to judge a certificate a proxy presents.
    pub(crate) policy: Policy,
}

impl PolicyFacts {
    /// The facts of `policy` as its first reading reads the header (with
    /// `[[sources]]`, the first source's: the doctor does not yet pair
    /// each proxy file with its source).
    pub(crate) fn of(policy: &Policy) -> Option<Self> {
        let reading = policy.readings().next()?;
        Some(Self {
            count: reading.element_count(),
            trust: reading.trusted_element(),
            by: reading.trusted_proxy().is_some(),
            proxy_fields: reading.identity_from() == IdentityFrom::ProxyFields,
            name_only_rules: policy.name_only_rules().map(str::to_owned).collect(),
            issuer_rules: policy.issuer_rules().map(str::to_owned).collect(),
            format: reading.format(),
            trusted_proxies: policy.has_trusted_proxies(),
            policy: policy.clone(),
        })
    }
}

/// Every header a proxy may forward a certificate in.
pub(crate) const CERT_HEADERS: [&str; 8] = [
    "x-forwarded-client-cert",
    "x-ssl-client-cert",
    "x-client-cert",
    "client-cert",
    "x-forwarded-tls-client-cert",
    "x-arr-clientcert",
    "x-amzn-mtls-clientcert",
    "ssl-client-cert",
];

pub(crate) fn is_cert_header_name(name: &str) -> bool {
    CERT_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// The most findings of one code listed for one file; the rest are
/// counted in one more finding, so a file with thousands of the same
/// mistake prints a page, not thousands.
const MAX_PER_CODE: usize = 25;

/// The findings of one configuration file, and what they are judged by.
pub(crate) struct Lint<'a> {
    view: &'a PolicyView,
    out: &'a mut Vec<Finding>,
    /// (code, message) already reported.
    seen: HashSet<(&'static str, String)>,
    /// Per code: how many were listed, how many more were not, and the
    /// worst severity.
    counts: HashMap<&'static str, (usize, usize, Severity)>,
    /// How many places that forward requests to an app the model found:
    /// with none, the file is not judged safe ([`lint`]).
    places: usize,
}

impl Lint<'_> {
    /// Counts a place that forwards requests to an app (an nginx
    /// `proxy_pass`, a HAProxy backend in use, a Caddy `reverse_proxy`, an
    /// Envoy route to a cluster).
    fn place(&mut self) {
        self.places += 1;
    }

    fn push(
        &mut self,
        code: &'static str,
        severity: Severity,
        at: &str,
        message: String,
        fix: String,
    ) {
        // One finding per code and place: a location reached twice (two
        // headers, two backends) says it once.
        let message = format!("{at}: {message}");
        if !self.seen.insert((code, message.clone())) {
            return;
        }
        let count = self.counts.entry(code).or_insert((0, 0, severity));
        count.2 = count.2.max(severity);
        if count.0 == MAX_PER_CODE {
            count.1 += 1;
            return;
        }
        count.0 += 1;
        self.out.push(finding(code, severity, message, fix));
    }

    /// One more finding for each code that had more than [`MAX_PER_CODE`].
    fn finish(self, file: &Path) {
        let mut more: Vec<_> = self.counts.into_iter().filter(|(_, c)| c.1 > 0).collect();
        more.sort_by_key(|(code, _)| *code);
        for (code, (_, n, severity)) in more {
            self.out.push(finding(
                code,
                severity,
                format!(
                    "{}: {n} more places with {code}, not listed",
                    file.display()
                ),
                "the fix of the listed ones applies to each",
            ));
        }
    }

    fn error(&mut self, code: &'static str, at: &str, message: String, fix: String) {
        self.push(code, Severity::Error, at, message, fix);
    }

    fn warning(&mut self, code: &'static str, at: &str, message: String, fix: String) {
        self.push(code, Severity::Warning, at, message, fix);
    }

    /// The proxy passes certificates it did not verify: a warning, or an
    /// error when the policy has a rule that checks only names (a
    /// self-signed certificate with those names gets through both).
    fn unverified(&mut self, code: &'static str, at: &str, what: &str, fix: &str) {
        let rules = self
            .view
            .policy
            .as_ref()
            .map(|p| p.name_only_rules.clone())
            .unwrap_or_default();
        if rules.is_empty() {
            self.warning(
                code,
                at,
                format!("{what}: any self-signed certificate reaches the app, so the policy must pin a thumbprint or verify a chain{}", if self.view.policy.is_some() { " (it does)" } else { " (pass --policy to check)" }),
                fix.to_owned(),
            );
        } else {
            self.error(
                code,
                at,
                format!("{what}, so the policy's proxy_verifies_chain = true is not so, and its rule {:?} checks only names: a client with a self-signed certificate bearing those names is allowed", rules[0]),
                format!("{fix} (or add thumbprint or chain to rule {:?} and remove proxy_verifies_chain)", rules[0]),
            );
        }
    }

    /// A file the proxy would refuse.
    fn syntax(&mut self, file: &str, line: usize, message: &str, validator: &str) {
        self.push(
            "proxy_syntax",
            Severity::Error,
            &format!("{file}:{line}"),
            format!("{message}: the proxy refuses this file, and the doctor cannot judge it"),
            format!("fix the syntax (check with `{validator}`)"),
        );
    }

    /// An included file that cannot be read: the rest is judged without it.
    fn unread(&mut self, d: &conf::Directive, path: &str) {
        self.push(
            "proxy_include_unread",
            Severity::Warning,
            &d.at(),
            format!("cannot read {path}: what it sets is not judged"),
            "pass the whole configuration (or run the doctor where the included files are)"
                .to_owned(),
        );
    }

    /// The headers to check at one place that proxies: the app's
    /// (`--header`); or else the certificate headers named nearest to it,
    /// from the innermost scope out (what the place itself sets, then its
    /// server or frontend, then the whole file), since an app reads the
    /// header its own route forwards; or else the proxy's usual one.
    fn headers(&self, scopes: &[&[String]], usual: &str) -> Vec<String> {
        if let Some(h) = &self.view.header {
            return vec![h.clone()];
        }
        let nearest = scopes
            .iter()
            .find(|s| !s.is_empty())
            .copied()
            .unwrap_or_default();
        // Each scope holds each name once ([`add_name`]).
        if nearest.is_empty() {
            vec![usual.to_owned()]
        } else {
            nearest.to_vec()
        }
    }
}

/// Adds a header name to a list of the certificate headers a scope names,
/// unless it is there already (in any case): the lists stay as short as
/// the distinct names, however many lines repeat them.
fn add_name(names: &mut Vec<String>, name: &str) {
    if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
        names.push(name.to_owned());
    }
}

/// Lints `text` (read from `path`) as `kind`'s configuration.
pub(crate) fn lint(
    kind: ProxyKind,
    path: &Path,
    text: &str,
    view: &PolicyView,
    out: &mut Vec<Finding>,
) {
    let before = out.len();
    let mut lint = Lint {
        view,
        out,
        seen: HashSet::new(),
        counts: HashMap::new(),
        places: 0,
    };
    match kind {
        ProxyKind::Envoy => envoy::lint(path, text, &mut lint),
        ProxyKind::Nginx => nginx::lint(path, text, &mut lint),
        ProxyKind::Haproxy => haproxy::lint(path, text, &mut lint),
        ProxyKind::Caddy if caddy_json::is_json(text) => caddy_json::lint(path, text, &mut lint),
        ProxyKind::Caddy => caddy::lint(path, text, &mut lint),
    }
    let places = lint.places;
    let nothing_found = lint.out[before..]
        .iter()
        .all(|f| f.severity == Severity::Info);
    if places == 0 && nothing_found {
        // Nothing the model reads as forwarding: the file is not shown
        // safe (it would otherwise be `proxy_ok`).
        lint.error(
            "proxy_cannot_judge",
            &path.display().to_string(),
            format!(
                "the doctor found no place in this file that forwards requests to an app ({}), so it cannot judge whether the certificate header can be forged",
                match kind {
                    ProxyKind::Nginx => "proxy_pass, grpc_pass, uwsgi_pass, fastcgi_pass or scgi_pass in a server",
                    ProxyKind::Haproxy => "a frontend or listen section that uses a backend with a server",
                    ProxyKind::Caddy => "a reverse_proxy in a site, or in Caddy's JSON a reverse_proxy handler in a server's routes",
                    ProxyKind::Envoy => "an HTTP connection manager in a listener's filter chain",
                }
            ),
            format!(
                "pass the configuration that proxies to the app (with its included files), or name its proxy with --proxy-kind (this file was read as {})",
                kind.name()
            ),
        );
    }
    lint.finish(path);
    if out[before..].iter().all(|f| f.severity == Severity::Info) {
        out.push(finding(
            "proxy_ok",
            Severity::Info,
            format!(
                "{} ({}): the certificate header cannot be forged through it, and it forwards a certificate",
                path.display(),
                kind.name()
            ),
            "nothing to do",
        ));
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    /// Every prefix of every corpus file (a configuration cut anywhere),
    /// and each with bytes swapped for the characters that structure a
    /// configuration, is judged without a panic; each judgement ends in at
    /// least one finding.
    #[test]
    fn no_input_panics() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/proxies");
        let mut state = 0x2545_f491_u32;
        let mut judged = 0;
        for (kind, dir) in [
            (ProxyKind::Nginx, "nginx"),
            (ProxyKind::Haproxy, "haproxy"),
            (ProxyKind::Caddy, "caddy"),
            (ProxyKind::Envoy, "envoy"),
        ] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if !path.is_file() || path.extension().is_some_and(|e| e == "meta") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let mut inputs: Vec<String> = (0..text.len())
                    .step_by(23)
                    .filter(|&i| text.is_char_boundary(i))
                    .map(|i| text[..i].to_owned())
                    .collect();
                for _ in 0..20 {
                    let mut bytes = text.clone().into_bytes();
                    for _ in 0..4 {
                        state ^= state << 13;
                        state ^= state >> 17;
                        state ^= state << 5;
                        let at = state as usize % bytes.len();
                        bytes[at] = b"{};\"'#\n :[]-+%$"[(state >> 8) as usize % 15];
                    }
                    inputs.push(String::from_utf8_lossy(&bytes).into_owned());
                }
                for input in inputs {
                    let mut out = Vec::new();
                    lint(kind, &path, &input, &PolicyView::default(), &mut out);
                    assert!(!out.is_empty());
                    judged += 1;
                }
            }
        }
        assert!(judged > 1000, "{judged}");
    }

    #[test]
    fn many_findings_of_one_code_are_counted_not_listed() {
        let mut text = String::from("server {\n  listen 443 ssl;\n  ssl_verify_client on;\n");
        for i in 0..30 {
            text.push_str(&format!("  location /p{i}/ {{ proxy_pass http://app; }}\n"));
        }
        text.push_str("}\n");
        let mut out = Vec::new();
        lint(
            ProxyKind::Nginx,
            Path::new("n.conf"),
            &text,
            &PolicyView::default(),
            &mut out,
        );
        let listed: Vec<&Finding> = out
            .iter()
            .filter(|f| f.code == "nginx_header_not_set")
            .collect();
        assert_eq!(listed.len(), MAX_PER_CODE + 1);
        let last = listed[MAX_PER_CODE];
        assert_eq!(last.severity, Severity::Error);
        assert!(last.message.contains("5 more places"), "{}", last.message);
    }
}
