//! What the two example services share, so that they behave the same behind
//! the same proxy: configuration from the recipes' environment variables,
//! the policy, the JSON of `/cert-info`, and the two outbound calls.

use std::time::Duration;

use serde_json::{Value, json};

/// Settings, read as the published recipes read them.
#[derive(Debug, Clone)]
pub struct Config {
    /// `HOST` (default `0.0.0.0`, as the recipes listen).
    pub host: String,
    /// `PORT` (default 8000).
    pub port: u16,
    /// `DAPR_HTTP_PORT` (default 3500).
    pub dapr_http_port: u16,
    /// `DAPR_TARGET_APP_ID` (default `backend`).
    pub dapr_target_app_id: String,
    /// `DIRECT_BACKEND_URL` (default `http://ca-backend`).
    pub direct_backend_url: String,
    /// `BACKEND_TIMEOUT_MS` (default 5000, the recipes' 5 s).
    pub backend_timeout: Duration,
    /// `XFCC_LOG_RATE`: rejection events logged per reason per second, or
    /// `unlimited` (default 10; see `xfcc::run::LogRate`).
    pub log_rate: xfcc::run::LogRate,
    /// `XFCC_POLICY_WATCH_SECONDS`: follow the policy's files at this
    /// interval (default: not watched; SIGHUP reloads either way).
    pub watch: Option<Duration>,
    /// What reloads the policy (set by [`startup`]); `/health` shows its
    /// status.
    pub watcher: Option<std::sync::Arc<xfcc::run::PolicyWatcher>>,
    /// `TLS_CERT_FILE` and `TLS_KEY_FILE`: serve TLS with this certificate
    /// and key, asking each connection for its certificate, so that
    /// `trusted_proxies` (`XFCC_TRUSTED_PROXY_SPKI`) can judge the proxy's
    /// (default: plain HTTP). One without the other is refused.
    pub tls: Option<(String, String)>,
}

impl Config {
    /// Reads the environment.
    ///
    /// # Errors
    /// The variable whose value is not a number.
    pub fn from_env() -> Result<Self, String> {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    /// Reads variables through `var`.
    ///
    /// # Errors
    /// The variable whose value is not a number.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let num = |k: &str, default: u64| -> Result<u64, String> {
            var(k).map_or(Ok(default), |v| {
                v.trim()
                    .parse()
                    .map_err(|_| format!("{k} must be a number, not {v:?}"))
            })
        };
        let port = |k: &str, default: u64| {
            num(k, default)
                .and_then(|n| u16::try_from(n).map_err(|_| format!("{k} must be a port number")))
        };
        Ok(Self {
            host: var("HOST").unwrap_or_else(|| "0.0.0.0".to_owned()),
            port: port("PORT", 8000)?,
            dapr_http_port: port("DAPR_HTTP_PORT", 3500)?,
            dapr_target_app_id: var("DAPR_TARGET_APP_ID").unwrap_or_else(|| "backend".to_owned()),
            direct_backend_url: var("DIRECT_BACKEND_URL")
                .unwrap_or_else(|| "http://ca-backend".to_owned())
                .trim_end_matches('/')
                .to_owned(),
            backend_timeout: Duration::from_millis(num("BACKEND_TIMEOUT_MS", 5000)?),
            log_rate: var("XFCC_LOG_RATE")
                .map_or(Ok(xfcc::run::LogRate::DEFAULT), |v| {
                    xfcc::run::LogRate::parse(&v)
                })
                .map_err(|e| format!("XFCC_LOG_RATE: {e}"))?,
            watch: var("XFCC_POLICY_WATCH_SECONDS")
                .map(|v| xfcc::run::PolicyWatcher::parse_interval(&v))
                .transpose()
                .map_err(|e| format!("XFCC_POLICY_WATCH_SECONDS: {e}"))?,
            watcher: None,
            tls: match (var("TLS_CERT_FILE"), var("TLS_KEY_FILE")) {
                (Some(cert), Some(key)) => Some((cert, key)),
                (None, None) => None,
                (Some(_), None) => {
                    return Err("TLS_CERT_FILE is set without TLS_KEY_FILE".to_owned());
                }
                (None, Some(_)) => {
                    return Err("TLS_KEY_FILE is set without TLS_CERT_FILE".to_owned());
                }
            },
        })
    }

    /// The rustls configuration of [`tls`](Self::tls), if set: the
    /// service's certificate and key, every connection asked for its
    /// certificate ([`xfcc::tls::server_config`]).
    ///
    /// # Errors
    /// A file that cannot be read, or a pair rustls refuses.
    pub fn tls_config(&self) -> Result<Option<xfcc::tls::ServerConfig>, String> {
        let Some((cert, key)) = &self.tls else {
            return Ok(None);
        };
        let read =
            |var: &str, path: &str| std::fs::read(path).map_err(|e| format!("{var} {path:?}: {e}"));
        let (cert, key) = (read("TLS_CERT_FILE", cert)?, read("TLS_KEY_FILE", key)?);
        xfcc::tls::server_config_from_pem(&cert, &key)
            .map(Some)
            .map_err(|e| e.to_string())
    }

    /// The Dapr sidecar's service-invocation URL for the target's `/health`.
    pub fn dapr_url(&self) -> String {
        format!(
            "http://127.0.0.1:{}/v1.0/invoke/{}/method/health",
            self.dapr_http_port, self.dapr_target_app_id
        )
    }

    /// The direct backend's `/health`.
    pub fn direct_url(&self) -> String {
        format!("{}/health", self.direct_backend_url)
    }
}

/// What both examples' `main` does first: logging to stderr, then the
/// configuration and the policy from the environment. On failure the error
/// is printed and the exit code to end with is returned.
///
/// # Errors
/// The exit code (2 for a configuration error).
pub fn startup(name: &str) -> Result<(Config, xfcc::PolicyHandle), std::process::ExitCode> {
    // RUST_LOG as users expect it (`RUST_LOG=warn`, `RUST_LOG=xfcc=debug`),
    // INFO when unset; a RUST_LOG that does not parse is refused, not
    // replaced by a default.
    let filter = tracing_subscriber::EnvFilter::builder()
        .with_default_directive(tracing::level_filters::LevelFilter::INFO.into())
        .from_env()
        .map_err(|e| {
            eprintln!("{name}: RUST_LOG: {e}");
            std::process::ExitCode::from(2)
        })?;
    tracing_subscriber::fmt().with_env_filter(filter).init();
    // The metrics recorder, before the first verification is counted.
    let _ = metrics_text();
    let mut config = Config::from_env().map_err(|e| {
        eprintln!("{name}: {e}");
        std::process::ExitCode::from(2)
    })?;
    let refuse = |e: xfcc::ConfigError| {
        eprintln!("{name}: {e}");
        std::process::ExitCode::from(2)
    };
    let policy_config = xfcc::config::PolicyConfig::from_env().map_err(refuse)?;
    let watcher = xfcc::run::PolicyWatcher::start(policy_config, config.watch).map_err(refuse)?;
    let handle = watcher.handle();
    // The adapters log the policy's warnings when they are built.
    config.watcher = Some(std::sync::Arc::new(watcher));
    if let Some(every) = config.watch {
        tracing::info!(seconds = every.as_secs(), "following the policy's files");
    }
    Ok((config, handle))
}

/// What SIGHUP does in both examples: the policy rebuilt from its files
/// and swapped in, or, when they do not build, the running one kept (the
/// watcher logs why and `/health` shows `"policy": "stale"`).
pub fn reload(config: &Config) {
    if let Some(w) = &config.watcher {
        let _ = w.reload_now();
    }
}

/// The Prometheus text of the library's metrics (`xfcc_verifications_total`,
/// `xfcc_verification_duration_seconds`, ... as `crates/xfcc/README.md`
/// lists them), for `/metrics`. The recorder is installed on the first call
/// (once per process); `None` when another recorder was installed first.
pub fn metrics_text() -> Option<String> {
    static HANDLE: std::sync::OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            metrics_exporter_prometheus::PrometheusBuilder::new()
                .install_recorder()
                .ok()
        })
        .as_ref()
        .map(metrics_exporter_prometheus::PrometheusHandle::render)
}

/// The body of `/health`: `{"status":"ok"}`, with the policy's reload
/// status (`current`, or `stale` while the files on disk do not build)
/// when it is followed.
pub fn health_body(config: &Config) -> Value {
    match &config.watcher {
        None => json!({"status": "ok"}),
        Some(w) => {
            let s = w.status();
            json!({
                "status": "ok",
                "policy": if s.is_current() { "current" } else { "stale" },
                "policy_reloads": s.reloads,
                "policy_reload_failures": s.failures,
            })
        }
    }
}

/// The body of `/cert-info`: the verified client, which rule allowed it
/// (and, with `[[sources]]`, through which proxy), where its identity was read from (`cert` or `proxy-fields`) and, for a
/// certificate, its issuer and when it expires (`null` for proxy fields,
/// which carry neither).
pub fn cert_info(cert: &xfcc::ClientCert) -> Value {
    let c = cert.certificate();
    json!({
        "rule": cert.rule(),
        "source": cert.source(),
        "proxy": cert.proxy(),
        "element": cert.element(),
        "verified_from": cert.verified_from().code(),
        "chain_verified": cert.chain_verified(),
        "expires_in_seconds": cert.expires_in().map(|d| d.as_secs()),
        "identity": {
            "sha256": cert.sha256_hex(),
            "subject": cert.subject(),
            "subject_cn": cert.subject_cns().collect::<Vec<_>>(),
            "issuer": c.map(xfcc::inspect::CertIdentity::issuer),
            "issuer_cn": c.map(|c| c.issuer_cns().collect::<Vec<_>>()),
            "san_uri": cert.san_uris(),
            "spiffe_id": cert.spiffe_id(),
        },
    })
}

/// The body of `/whoami`, a route that takes the identity as optional:
/// the `/cert-info` body when the client verified, `null` otherwise, and the
/// code of the refusal the layer let through in report mode (`mode =
/// "report"`; `null` when there is none).
pub fn whoami(cert: Option<&xfcc::ClientCert>, would_deny: Option<&xfcc::Rejection>) -> Value {
    json!({
        "client": cert.map(cert_info),
        "would_deny": would_deny.map(xfcc::Rejection::code),
    })
}

/// An outbound call that did not give a usable answer: 502 with `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendError {
    /// `backend_timeout`, `backend_unavailable` or `backend_status`.
    pub code: &'static str,
}

impl BackendError {
    /// `{"error": "<code>"}`.
    pub fn body(&self) -> Value {
        json!({"error": self.code})
    }
}

/// A client with the configured timeout.
///
/// # Errors
/// When the TLS-less client cannot be built (it always can).
pub fn client(config: &Config) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(config.backend_timeout)
        .connect_timeout(config.backend_timeout)
        .build()
        .map_err(|e| e.to_string())
}

/// GETs `url` and wraps its JSON (or text) body as
/// `{"path": <path>, "status": <body>}`, as the recipes do.
///
/// # Errors
/// A [`BackendError`] for a timeout, a connection failure, a non-2xx status
/// or an unreadable body.
pub async fn call_backend(
    client: &reqwest::Client,
    path: &str,
    url: &str,
) -> Result<Value, BackendError> {
    let fail = |e: &reqwest::Error| {
        tracing::warn!(path, error = %e, "backend call failed");
        BackendError {
            code: if e.is_timeout() {
                "backend_timeout"
            } else {
                "backend_unavailable"
            },
        }
    };
    let res = client.get(url).send().await.map_err(|e| fail(&e))?;
    if !res.status().is_success() {
        tracing::warn!(
            path,
            status = res.status().as_u16(),
            "backend answered with an error"
        );
        return Err(BackendError {
            code: "backend_status",
        });
    }
    let text = res.text().await.map_err(|e| fail(&e))?;
    let status = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok(json!({"path": path, "status": status}))
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn config_defaults_are_the_recipes() {
        let c = Config::from_vars(|_| None).unwrap();
        assert_eq!((c.host.as_str(), c.port), ("0.0.0.0", 8000));
        assert_eq!(
            c.dapr_url(),
            "http://127.0.0.1:3500/v1.0/invoke/backend/method/health"
        );
        assert_eq!(c.direct_url(), "http://ca-backend/health");
        assert_eq!(c.backend_timeout, Duration::from_secs(5));
    }

    #[test]
    fn config_reads_and_checks_variables() {
        let c = Config::from_vars(|k| match k {
            "PORT" => Some("9000".into()),
            "DAPR_TARGET_APP_ID" => Some("orders".into()),
            "DIRECT_BACKEND_URL" => Some("http://127.0.0.1:1234/".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.port, 9000);
        assert_eq!(
            c.dapr_url(),
            "http://127.0.0.1:3500/v1.0/invoke/orders/method/health"
        );
        assert_eq!(c.direct_url(), "http://127.0.0.1:1234/health");
        let e = Config::from_vars(|k| (k == "PORT").then(|| "99999".into())).unwrap_err();
        assert!(e.contains("PORT"));
        let e =
            Config::from_vars(|k| (k == "BACKEND_TIMEOUT_MS").then(|| "soon".into())).unwrap_err();
        assert!(e.contains("BACKEND_TIMEOUT_MS"));
    }
}

/// What both examples' tests share: real Envoy captures, a policy with a
/// fixed clock, and configuration pointing at local stand-ins.
pub mod testing {
    use std::time::{Duration, UNIX_EPOCH};

    use super::Config;

    /// Operator mistakes each example must refuse at start-up (exit 2,
    /// naming the setting on stderr) instead of serving with a default:
    /// (variables, text the error must contain).
    pub const REFUSED_CONFIGS: &[(&[(&str, &str)], &str)] = &[
        // The published recipe's variable alone: a self-signed certificate
        // with that CN would pass, so the example does not start.
        (
            &[("ALLOWED_CERT_COMMON_NAMES", "client-app.contoso.example")],
            "environment variable ALLOWED_CERT_COMMON_NAMES: rule \"common_name\": checks only what anyone can write into a self-signed certificate",
        ),
        (
            &[
                ("ALLOWED_CERT_COMMON_NAMES", "client"),
                ("XFCC_HEADER", "X-SSL-Client-Cert:"),
            ],
            "XFCC_HEADER",
        ),
        (
            &[
                ("XFCC_ALLOWED_ISSUER_CN", "Contoso Issuing CA 1"),
                ("ALLOWED_CERT_COMMON_NAMES", "client"),
            ],
            "did you mean XFCC_ALLOWED_ISSUER_CNS?",
        ),
        (
            &[
                ("XFCC_ALLOWED_SUBJECT_CNS", "client"),
                ("XFCC_ALLOWED_THUMBPRINTS", ","),
            ],
            "XFCC_ALLOWED_THUMBPRINTS",
        ),
        (
            &[
                ("ALLOWED_CERT_COMMON_NAMES", "client"),
                ("XFCC_LEEWAY_SECONDS", "18446744073709551"),
            ],
            "XFCC_LEEWAY_SECONDS",
        ),
        (&[], "no allow rule: set XFCC_POLICY_FILE"),
    ];

    /// Runs an example's binary with only `vars` (and a free port) in its
    /// environment and returns its exit code and stderr. It must exit by
    /// itself: each of [`REFUSED_CONFIGS`] makes it stop before serving.
    ///
    /// # Panics
    /// When the binary cannot be run (tests only).
    #[expect(clippy::expect_used)]
    pub fn run_refused(binary: &str, vars: &[(&str, &str)]) -> (Option<i32>, String) {
        let out = std::process::Command::new(binary)
            .env_clear()
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .envs(vars.iter().copied())
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run the example");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// A header captured from a real Envoy
    /// (`crates/xfcc/tests/fixtures/envoy/<name>.txt`).
    ///
    /// # Panics
    /// When the fixture is missing (tests only).
    #[expect(clippy::expect_used)]
    pub fn capture(name: &str) -> String {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../crates/xfcc/tests/fixtures/envoy/{name}.txt"));
        std::fs::read_to_string(p).expect("fixture")
    }

    /// Allows the fixtures' RSA client by CN and a chain to the fixtures'
    /// root, at a time inside the fixtures' validity.
    ///
    /// # Panics
    /// Never for this fixed policy.
    #[expect(clippy::expect_used)]
    pub fn policy() -> xfcc::PolicyHandle {
        let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let root = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../crates/xfcc/tests/fixtures/certs/root.pem"),
        )
        .expect("the fixtures' root");
        xfcc::PolicyHandle::new(
            xfcc::Policy::builder()
                .clock(move || at)
                .chain(xfcc::TrustAnchors::new("contoso", root))
                .allow(
                    xfcc::Rule::new("partner")
                        .subject_cn(["client-app.contoso.example"])
                        .chain("contoso"),
                )
                .build()
                .expect("policy"),
        )
    }

    /// The Dapr sidecar on `dapr_port`, the direct backend at `direct`, and
    /// a 300 ms backend timeout.
    ///
    /// # Panics
    /// Never for these values.
    #[expect(clippy::expect_used)]
    pub fn config(dapr_port: u16, direct: String) -> Config {
        Config::from_vars(|k| match k {
            "DAPR_HTTP_PORT" => Some(dapr_port.to_string()),
            "DIRECT_BACKEND_URL" => Some(direct.clone()),
            "BACKEND_TIMEOUT_MS" => Some("300".into()),
            _ => None,
        })
        .expect("config")
    }
}

/// Tiny HTTP/1.1 servers on 127.0.0.1 standing in for the Dapr sidecar and
/// the backend in tests (one thread each, `Connection: close`).
pub mod standin {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::time::Duration;

    /// What a stand-in answers for a path: status, body, delay.
    pub type Handler = fn(&str) -> (u16, String, Duration);

    /// Serves `handler` on a free port and returns the port. The thread
    /// ends with the test process.
    ///
    /// # Panics
    /// When no loopback port can be bound (tests only).
    #[expect(clippy::expect_used)]
    pub fn serve(handler: Handler) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local addr").port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(&stream);
                    let mut line = String::new();
                    if reader.read_line(&mut line).is_err() {
                        return;
                    }
                    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    // Skip the headers.
                    let mut h = String::new();
                    while reader.read_line(&mut h).is_ok_and(|n| n > 2) {
                        h.clear();
                    }
                    let (status, body, delay) = handler(&path);
                    std::thread::sleep(delay);
                    let mut out = &stream;
                    let _ = write!(
                        out,
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                });
            }
        });
        port
    }

    /// A port nothing listens on.
    ///
    /// # Panics
    /// When no loopback port can be bound (tests only).
    #[expect(clippy::expect_used)]
    pub fn refused_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port()
    }
}
