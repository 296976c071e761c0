//! `xfcc`: inspect, check and build forwarded client-certificate headers,
//! and diagnose Azure Container Apps mTLS settings.
//!
//! Exit codes: 0 success (allowed, no problems found), 1 a header that does
//! not parse or has problems (`inspect`), a denied header (also one a
//! report-mode policy would deny), or doctor
//! findings of severity error, 2 bad arguments, unreadable files or a bad
//! policy.
#![forbid(unsafe_code)]

/// `print!` that survives a closed pipe (`xfcc check ... | head -1`): the
/// rest of the output is dropped, and the exit code is still the verdict's.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!($($arg)*))
    };
}

/// `println!` that survives a closed pipe; see [`out!`].
macro_rules! outln {
    () => {
        $crate::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

mod doctor;
mod finding;
mod json;
mod probe;
mod proxy;
mod time;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use xfcc::{
    Format,
    config::PolicyConfig,
    inspect::{CertIdentity, Limits, ParseOptions, Syntax, XfccHeader},
    render::EnvoyFields,
};

#[derive(Parser, Debug)]
#[command(
    name = "xfcc",
    version,
    about = "Inspect, check and build X-Forwarded-Client-Cert headers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Show everything in one header value (the value only, from FILE or
    /// stdin), or in a certificate file (PEM, DER or PKCS#12) with the
    /// thumbprints the Azure portal and Envoy show. Exit 1 when the value
    /// has problems the middleware would refuse (listed).
    Inspect {
        /// Header format: envoy, rfc9440, nginx, traefik, alb, app-service, gorouter, haproxy, caddy.
        #[arg(long, default_value = "envoy")]
        format: Format,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// File holding the header value or a certificate, or - for stdin.
        #[arg(default_value = "-")]
        file: String,
        /// The password of a PKCS#12 (PFX) file (`""` for none); also read
        /// from PFX_PASSWORD, and asked for on a terminal when neither is
        /// given.
        #[arg(long, env = "PFX_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Apply a TOML policy file (or, with --env, the policy the environment
    /// sets: XFCC_*, ALLOWED_CERT_*) to one header value; with no value (no
    /// FILE and nothing piped in), check the policy alone.
    Check {
        /// The policy file.
        #[arg(long, required_unless_present = "env")]
        policy: Option<PathBuf>,
        /// The policy from this process's environment, as `Policy::from_env`
        /// reads it in the app: replay a header the app refused.
        #[arg(long, conflicts_with = "policy")]
        env: bool,
        /// Verify at this time (RFC 3339) instead of now.
        #[arg(long)]
        at: Option<String>,
        /// Header format: envoy, rfc9440, nginx, traefik, alb, app-service, gorouter, haproxy, caddy
        /// (default envoy; with --env, what XFCC_FORMAT says).
        #[arg(long)]
        format: Option<Format>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// With a policy that has `[[sources]]`: the source (proxy) whose
        /// header this is, read with its header format and elements.
        #[arg(long)]
        source: Option<String>,
        /// File holding the header value, or - for stdin (the default when
        /// something is piped in).
        file: Option<String>,
    },
    /// Print the header value a proxy would send for a certificate.
    Header {
        /// PEM or DER file of the client certificate (further certificates
        /// in a PEM file are taken as its chain).
        #[arg(long)]
        cert: PathBuf,
        /// PEM or DER file of intermediates to add to the chain.
        #[arg(long)]
        chain: Option<PathBuf>,
        /// Envoy details to include: hash, cert, chain, subject, uri, dns,
        /// issuer.
        #[arg(long, default_value = "hash,cert,chain")]
        fields: String,
        /// Write Envoy's JSON form (`set_current_client_cert_details:
        /// {format: JSON}`, Envoy 1.38+) instead of its text form.
        #[arg(long)]
        json_format: bool,
        /// Header format: envoy, rfc9440, nginx, traefik, alb, app-service, gorouter, haproxy, caddy (for rfc9440 with a chain, a
        /// second line holds Client-Cert-Chain).
        #[arg(long, default_value = "envoy")]
        format: Format,
    },
    /// Check an Azure Container Apps app (az containerapp show -o json) and
    /// proxy configurations (Envoy, nginx, HAProxy, Caddy) for mTLS pitfalls.
    Doctor {
        /// JSON of `az containerapp show -o json`.
        #[arg(long)]
        app: Option<PathBuf>,
        /// A proxy configuration file to check for a forgeable header
        /// (repeatable).
        #[arg(long = "proxy")]
        proxies: Vec<PathBuf>,
        /// Which proxy the --proxy files are for (default: guessed from
        /// their directives).
        #[arg(long, value_enum)]
        proxy_kind: Option<proxy::ProxyKind>,
        /// The header the app reads, for the --proxy checks (default: every
        /// usual certificate header).
        #[arg(long)]
        header: Option<String>,
        /// JSON of `az containerapp env show -o json`.
        #[arg(long)]
        env: Option<PathBuf>,
        /// A policy file to check as well.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Check the policy the app builds from its environment instead of a
        /// file: run the doctor with the app's variables (XFCC_*, or the
        /// recipe's ALLOWED_CERT_THUMBPRINTS / ALLOWED_CERT_COMMON_NAMES).
        #[arg(long, conflicts_with = "policy")]
        policy_env: bool,
        /// The Dapr app ID callers use for this app (default: the app's name).
        #[arg(long)]
        expect_app_id: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Test a deployed service's boundary: a baseline request, then the
    /// victim's certificate forged into every certificate header (twice,
    /// look-alike names, hop-by-hop, appended to a real element, over plain
    /// HTTP), each reported as authenticated or not. Exit 1 if any was.
    Probe {
        /// The protected URL, through the real proxy (https:// or http://).
        url: String,
        /// PEM file of a certificate the service allows (public part only).
        #[arg(long)]
        victim: PathBuf,
        /// PEM file of the caller's own certificate (one the service
        /// refuses), for an ingress that requires one.
        #[arg(long, requires = "key")]
        cert: Option<PathBuf>,
        /// PEM file of the key of --cert.
        #[arg(long, requires = "cert")]
        key: Option<PathBuf>,
        /// PEM file of the CA of the service's TLS certificate (default:
        /// the system's roots).
        #[arg(long)]
        cacert: Option<PathBuf>,
        /// The same service's plain-HTTP URL, to send every variant there too.
        #[arg(long)]
        plain: Option<String>,
        /// The app's own address, around the proxy (https:// where the app
        /// terminates the proxy's TLS for trusted_proxies, or http://): every
        /// variant is sent there too, as a caller that reaches the app
        /// directly would, and each must be refused (untrusted_proxy,
        /// untrusted_peer). An app that does not answer there is reported
        /// unreachable, which holds the boundary too.
        #[arg(long)]
        direct: Option<String>,
        /// Seconds one request may take, from connecting to the last byte
        /// of the answer (a server that answers slowly is cut off there).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=60))]
        timeout: u64,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

/// A failure that ends the command: exit code, JSON error object, text.
struct Failure {
    exit: u8,
    code: &'static str,
    /// The precise code under `code` (a policy's `ConfigErrorKind` code, a
    /// parse error's kind); `code` itself when there is none.
    detail: &'static str,
    offset: Option<usize>,
    message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Self {
            exit: 2,
            code: "usage",
            detail: "usage",
            offset: None,
            message: message.into(),
        }
    }

    /// A file (or stdin) that cannot be read: exit 2, code `io`.
    fn io(what: impl std::fmt::Display, e: &std::io::Error) -> Self {
        Self {
            exit: 2,
            code: "io",
            detail: "io",
            offset: None,
            message: format!("cannot read {what}: {e}"),
        }
    }
}

/// Writes to stdout. A reader that went away (`EPIPE`) is not an error of
/// the command: it is ignored, so the exit code stays the documented one
/// instead of the 101 of a panicking `println!`. Any other failure is
/// reported once on stderr.
///
/// Everything printed goes through [`safe_output`] first: certificate and
/// header text can hold ESC, BEL, CR or a bidirectional override, and none
/// reaches the terminal as it is.
fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    static REPORTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let text = std::fmt::format(args);
    let json = JSON_OUTPUT.load(std::sync::atomic::Ordering::Relaxed);
    if let Err(e) = std::io::stdout()
        .lock()
        .write_all(safe_output(&text, json).as_bytes())
        && e.kind() != std::io::ErrorKind::BrokenPipe
        && !REPORTED.swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        eprintln!("xfcc: cannot write the output: {e}");
    }
}

/// Whether this run prints JSON (set once, before anything is printed).
static JSON_OUTPUT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `text` with every control character (but the line breaks the CLI
/// writes) and every bidirectional or invisible formatting character
/// escaped: as `\uXXXX` in JSON (serde_json leaves DEL, C1 and U+202E as
/// they are; they can only be inside strings there), with
/// [`xfcc::inspect::display_safe`] line by line otherwise.
fn safe_output(text: &str, json: bool) -> std::borrow::Cow<'_, str> {
    // The one rule for what must not be shown raw is the library's.
    let unsafe_char = |c: char| {
        c != '\n'
            && matches!(
                xfcc::inspect::display_safe(c.encode_utf8(&mut [0; 4])),
                std::borrow::Cow::Owned(_)
            )
    };
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    if json {
        let mut out = String::with_capacity(text.len() + 16);
        for c in text.chars() {
            if unsafe_char(c) {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            } else {
                out.push(c);
            }
        }
        return std::borrow::Cow::Owned(out);
    }
    let lines: Vec<_> = text.split('\n').map(xfcc::inspect::display_safe).collect();
    std::borrow::Cow::Owned(lines.join("\n"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let wants_json = args.iter().any(|a| a == "--json");
    JSON_OUTPUT.store(wants_json, std::sync::atomic::Ordering::Relaxed);
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help, --version
            out!("{e}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            if wants_json {
                // clap's own sentence (which argument, which value), without
                // the usage lines meant for a terminal.
                let rendered = e.render().to_string();
                let detail = rendered
                    .lines()
                    .next()
                    .map(|l| l.trim_start_matches("error: ").trim())
                    .filter(|l| !l.is_empty())
                    .unwrap_or("invalid arguments");
                outln!("{}", json::error("usage", "usage", None, detail));
            } else {
                eprint!("{e}");
            }
            return ExitCode::from(2);
        }
    };
    let json_out = match &cli.command {
        Command::Inspect { json, .. }
        | Command::Check { json, .. }
        | Command::Doctor { json, .. }
        | Command::Probe { json, .. } => *json,
        Command::Header { .. } => false,
    };
    let result = match cli.command {
        Command::Inspect {
            format,
            json,
            file,
            password,
        } => inspect(format, json, &file, password.as_deref()),
        Command::Check {
            policy,
            env,
            at,
            format,
            json,
            source,
            file,
        } => check(
            policy.as_deref().filter(|_| !env),
            at.as_deref(),
            format,
            json,
            source.as_deref(),
            file.as_deref(),
        ),
        Command::Header {
            cert,
            chain,
            fields,
            json_format,
            format,
        } => header(&cert, chain.as_deref(), &fields, json_format, format),
        Command::Doctor {
            app,
            proxies,
            proxy_kind,
            header,
            env,
            policy,
            policy_env,
            expect_app_id,
            json,
        } => doctor::run(
            &doctor::Inputs {
                app: app.as_deref(),
                env: env.as_deref(),
                policy: policy.as_deref(),
                policy_env,
                expect_app_id: expect_app_id.as_deref(),
                proxies: &proxies,
                proxy_kind,
                header: header.as_deref(),
            },
            json,
        ),
        Command::Probe {
            url,
            victim,
            cert,
            key,
            cacert,
            plain,
            direct,
            timeout,
            json,
        } => probe::run(
            &probe::Inputs {
                url: &url,
                victim: &victim,
                cert: cert.as_deref(),
                key: key.as_deref(),
                cacert: cacert.as_deref(),
                plain: plain.as_deref(),
                direct: direct.as_deref(),
                timeout: std::time::Duration::from_secs(timeout),
            },
            json,
        ),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            if json_out {
                outln!("{}", json::error(f.code, f.detail, f.offset, &f.message));
            } else {
                eprintln!("xfcc: {} ({})", f.message, f.code);
            }
            ExitCode::from(f.exit)
        }
    }
}

/// Reads the header value; one trailing newline (LF or CRLF) is ignored.
fn read_bytes(file: &str) -> Result<Vec<u8>, Failure> {
    use std::io::IsTerminal as _;
    let mut bytes = Vec::new();
    let result = if file == "-" {
        if std::io::stdin().is_terminal() {
            eprintln!(
                "xfcc: reading the header value (or certificate) from stdin: paste it, then press Ctrl-D; or give a FILE"
            );
        }
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(file).map(|b| bytes = b)
    };
    result.map_err(|e| Failure::io(file, &e))?;
    Ok(bytes)
}

fn read_value(file: &str) -> Result<String, Failure> {
    header_text(read_bytes(file)?, file)
}

/// A header value read from a file: UTF-8, without its final line break.
fn header_text(bytes: Vec<u8>, file: &str) -> Result<String, Failure> {
    let mut text = String::from_utf8(bytes).map_err(|e| Failure {
        exit: 2,
        code: "invalid_utf8",
        detail: "invalid_utf8",
        offset: Some(e.utf8_error().valid_up_to()),
        message: format!("{file}: not UTF-8 text, nor a PEM or DER certificate"),
    })?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(text)
}

/// The certificates in a certificate file (raw PEM, one DER certificate, or
/// a PKCS#12 file opened with `password`); `None` for anything else, which
/// is read as a header value.
fn certificate_file(
    bytes: &[u8],
    file: &str,
    password: Option<&str>,
) -> Result<Option<Vec<CertIdentity>>, Failure> {
    let bad = |message: String| Failure {
        exit: 1,
        code: "bad_certificate",
        detail: "bad_certificate",
        offset: None,
        message,
    };
    if bytes.first() == Some(&0x30) {
        // A DER SEQUENCE: a certificate, or a PKCS#12 (PFX) file.
        return match (CertIdentity::from_der(bytes.to_vec()), password) {
            (Ok(c), _) => Ok(Some(vec![c])),
            (Err(_), Some(password)) if looks_like_pkcs12(bytes) => {
                pkcs12_certificates(bytes, password)
                    .map(Some)
                    .map_err(|why| bad(format!("{file}: {why}")))
            }
            (Err(_), None) if looks_like_pkcs12(bytes) => {
                use std::io::IsTerminal as _;
                // On a terminal, ask (without echo) rather than have the
                // password on the command line or in the shell's history.
                if file != "-" && std::io::stdin().is_terminal() {
                    let password = rpassword::prompt_password(format!("password of {file}: "))
                        .map_err(|e| Failure::io("the password", &e))?;
                    return pkcs12_certificates(bytes, &password)
                        .map(Some)
                        .map_err(|why| bad(format!("{file}: {why}")));
                }
                Err(Failure::usage(format!(
                    "{file} is a PKCS#12 (PFX) file: give its password with --password ('' for none) or in PFX_PASSWORD"
                )))
            }
            (Err(e), _) => Err(bad(format!("{file}: not a DER certificate: {e}"))),
        };
    }
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim_start();
    if !trimmed.starts_with("-----BEGIN ") {
        return Ok(None);
    }
    let mut certs = Vec::new();
    for block in pem_blocks(&text) {
        let start = block.find(PEM_BEGIN).unwrap_or(0);
        certs.push(
            xfcc::inspect::decode_certificate(block[start..].trim())
                .map_err(|e| bad(format!("{file}: {e}")))?,
        );
    }
    if certs.is_empty() {
        let kind = trimmed
            .lines()
            .next()
            .unwrap_or("")
            .trim_matches('-')
            .trim_start_matches("BEGIN ");
        return Err(bad(format!(
            "{file} holds a PEM {kind:?} block, not a CERTIFICATE"
        )));
    }
    Ok(Some(certs))
}

/// The certificates of a PKCS#12 file: the one its private key belongs to
/// first (the client certificate), then the others as stored.
fn pkcs12_certificates(der: &[u8], password: &str) -> Result<Vec<CertIdentity>, String> {
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(der, password)
        .map_err(|e| format!("cannot open the PKCS#12 file ({e}); is the password right?"))?;
    let key_ids: Vec<&[u8]> = archive
        .keys
        .iter()
        .filter_map(|k| k.local_key_id.as_ref().map(|id| id.0.as_slice()))
        .collect();
    let mut bags: Vec<_> = archive.certs.iter().collect();
    // Stable: the key's certificate moves to the front, the rest keep order.
    bags.sort_by_key(|b| {
        !b.local_key_id
            .as_deref()
            .is_some_and(|id| key_ids.contains(&id))
    });
    let certs = bags
        .iter()
        .map(|b| CertIdentity::from_der(b.cert.as_der().to_vec()).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err("the PKCS#12 file holds no certificate".to_owned());
    }
    Ok(certs)
}

/// PKCS#12: `SEQUENCE { INTEGER 3, SEQUENCE { OID pkcs7-data ...` (RFC 7292).
fn looks_like_pkcs12(der: &[u8]) -> bool {
    const VERSION_3: [u8; 3] = [0x02, 0x01, 0x03];
    let header = match der.get(1) {
        Some(&l) if l < 0x80 => 2,
        Some(&l) => 2 + usize::from(l & 0x7f),
        None => return false,
    };
    der.get(header..header + 3) == Some(&VERSION_3[..])
}

/// `inspect` of a certificate file: each certificate, and the leaf's
/// thumbprints as the Azure portal (SHA-1, upper-case hex) and Envoy's
/// `Hash` (SHA-256, lower-case hex) show them.
fn inspect_certificates(certs: &[CertIdentity], json_out: bool) -> Result<u8, Failure> {
    let Some(leaf) = certs.first() else {
        return Ok(1);
    };
    let portal = leaf.sha1_hex().to_ascii_uppercase();
    let envoy = leaf.sha256_hex().to_ascii_lowercase();
    if json_out {
        outln!(
            "{}",
            json!({
                "certificates": certs.iter().map(json::cert).collect::<Vec<_>>(),
                "thumbprints": {"azure_portal_sha1": portal, "envoy_hash_sha256": envoy},
            })
        );
        return Ok(0);
    }
    outln!(
        "certificate file ({} certificate{})",
        certs.len(),
        if certs.len() == 1 { "" } else { "s" }
    );
    outln!("  thumbprint as the Azure portal shows it (SHA-1): {portal}");
    outln!("  as Envoy's Hash (SHA-256):                      {envoy}");
    outln!("  in a policy: thumbprint = [\"sha1:{portal}\"] or [\"{envoy}\"]");
    outln!(
        "  or a key pin, kept across re-issuance with the same key: spki_sha256 = [\"{}\"]",
        leaf.spki_sha256_base64()
    );
    for (i, c) in certs.iter().enumerate() {
        outln!("  certificate {i}:");
        print_cert_value(&json::cert(c));
    }
    Ok(0)
}

const PEM_BEGIN: &str = "-----BEGIN CERTIFICATE-----";

/// The CERTIFICATE blocks of a PEM file, each with whatever text stood
/// before it since the previous block.
pub(crate) fn pem_blocks(text: &str) -> impl Iterator<Item = &str> {
    text.split_inclusive("-----END CERTIFICATE-----")
        .filter(|b| b.contains(PEM_BEGIN))
}

fn parse_failure(e: &xfcc::error::Error) -> Failure {
    Failure {
        exit: 1,
        code: e.kind().code(),
        detail: e.kind().code(),
        offset: e.offset(),
        message: e.to_string(),
    }
}

fn inspect(
    format: Format,
    json_out: bool,
    file: &str,
    password: Option<&str>,
) -> Result<u8, Failure> {
    let bytes = read_bytes(file)?;
    if let Some(certs) = certificate_file(&bytes, file, password)? {
        return inspect_certificates(&certs, json_out);
    }
    let value = header_text(bytes, file)?;
    let elements: Vec<Value> = if format == Format::Envoy {
        // A diagnostic tool shows what a proxy sent: an empty value is zero
        // elements, and a Hash that is not hex is a problem of its element
        // (`check` and the policy still refuse both).
        if value.trim().is_empty() {
            Vec::new()
        } else {
            let opts = ParseOptions::DEFAULT.with_syntax(Syntax::Diagnostic);
            let header = XfccHeader::parse_with(&value, &opts)
                .map_err(|e| hinted(parse_failure(&e.into()), &value, format))?;
            header.elements().map(|e| envoy_element(&e)).collect()
        }
    } else {
        let fc = format
            .decode(&value, None, &Limits::DEFAULT)
            .map_err(|e| hinted(parse_failure(&e), &value, format))?;
        let chain = fc.chain().map_err(|e| parse_failure(&e))?;
        vec![json!({
            "index": 0, "by": [], "hash": null, "subject": null, "uri": [], "dns": [],
            "cert": json::cert(fc.leaf()),
            "chain": chain.iter().map(json::cert).collect::<Vec<_>>(),
            "problems": [],
        })]
    };
    // What the middleware would refuse whatever the policy: an element's
    // problems, or no element at all.
    let problems = elements.is_empty()
        || elements
            .iter()
            .any(|e| e["problems"].as_array().is_some_and(|p| !p.is_empty()));
    let exit = u8::from(problems);
    let hint = elements
        .is_empty()
        .then(|| symptom_hint(&value, format))
        .flatten();
    if json_out {
        outln!(
            "{}",
            json!({"format": format.code(), "elements": elements, "ok": !problems, "hint": hint})
        );
        return Ok(exit);
    }
    let form = match elements.first().and_then(|e| e["form"].as_str()) {
        Some("json") => ", JSON form",
        _ => "",
    };
    outln!(
        "format: {format}{form} ({} element{})",
        elements.len(),
        if elements.len() == 1 { "" } else { "s" }
    );
    for e in &elements {
        print_element_text(e);
    }
    if elements.is_empty() {
        outln!("problems: the value is empty");
    } else if problems {
        outln!("\nthe middleware refuses this value: see problems above");
    }
    if let Some(h) = hint {
        outln!("hint: {h}");
    }
    Ok(exit)
}

fn envoy_element(e: &xfcc::inspect::Element<'_>) -> Value {
    let strings = |it: &mut dyn Iterator<Item = xfcc::inspect::Value<'_>>| {
        it.map(|v| v.text().into_owned()).collect::<Vec<_>>()
    };
    let (cert, chain, problems) = match e.decode_without_checks(&Limits::DEFAULT) {
        Ok(Some(fc)) => {
            let mut problems: Vec<&str> = e.inconsistencies(&fc).map(|p| p.code()).collect();
            if e.hash().is_some_and(|h| !is_hex_hash(&h.text())) {
                // Not a digest at all, rather than the wrong one.
                problems.retain(|&p| p != "hash_mismatch");
                problems.insert(0, "invalid_hash");
            }
            let chain = match fc.chain() {
                Ok(c) => c.iter().map(json::cert).collect::<Vec<_>>(),
                Err(err) => {
                    problems.push(err.kind().code());
                    Vec::new()
                }
            };
            (json::cert(fc.leaf()), chain, problems)
        }
        Ok(None) => {
            let invalid = e.hash().is_some_and(|h| !is_hex_hash(&h.text()));
            (
                Value::Null,
                Vec::new(),
                if invalid {
                    vec!["invalid_hash"]
                } else {
                    Vec::new()
                },
            )
        }
        Err(err) => (Value::Null, Vec::new(), vec![err.kind().code()]),
    };
    json!({
        "index": e.index(),
        "by": strings(&mut e.by()),
        "form": if e.is_json() { "json" } else { "text" },
        "hash": e.hash().map(|v| v.text()),
        "subject": e.subject().map(|v| v.text()),
        "issuer": e.issuer().map(|v| v.text()),
        "uri": strings(&mut e.uri()),
        "dns": strings(&mut e.dns()),
        "cert": cert,
        "chain": chain,
        "problems": problems,
    })
}

/// 64 (SHA-256) or 40 (SHA-1) hex digits: what the parser requires of
/// `Hash` outside the diagnostic syntax.
fn is_hex_hash(h: &str) -> bool {
    matches!(h.len(), 40 | 64) && h.bytes().all(|b| b.is_ascii_hexdigit())
}

fn print_element_text(e: &Value) {
    outln!("\nelement {}", e["index"]);
    let list = |k: &str| {
        e[k].as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    for (label, key) in [("by", "by"), ("uri", "uri"), ("dns", "dns")] {
        let v = list(key);
        if !v.is_empty() {
            outln!("  {label:<10} {v}");
        }
    }
    if let Some(h) = e["hash"].as_str() {
        outln!("  {:<10} {h}", "hash");
    }
    if let Some(s) = e["subject"].as_str() {
        outln!("  {:<10} {s}", "subject");
    }
    if let Some(s) = e["issuer"].as_str() {
        outln!("  {:<10} {s}", "issuer");
    }
    let problems = list("problems");
    outln!(
        "  {:<10} {}",
        "problems",
        if problems.is_empty() {
            "none (consistent)"
        } else {
            &problems
        }
    );
    if e["cert"].is_object() {
        outln!("  cert:");
        print_cert_value(&e["cert"]);
    }
    for (i, c) in e["chain"].as_array().into_iter().flatten().enumerate() {
        outln!("  chain[{i}]: {}", c["subject"].as_str().unwrap_or(""));
    }
}

/// The rejection's explanation, as a person reads it: the certificate,
/// then what did not hold.
fn print_explanation(r: &xfcc::Rejection) {
    let Some(why) = r.explanation() else {
        return;
    };
    if let Some(c) = why.certificate() {
        outln!("  the certificate:");
        print_cert_value(&json::cert(c));
    } else if let Some(f) = why.proxy_fields() {
        outln!("  the proxy's fields (no certificate forwarded):");
        print_cert_value(&json::fields(f));
    }
    if let Some((now, leeway)) = why.clock() {
        outln!(
            "  checked at {} with {}s of leeway",
            time::format_rfc3339(now),
            leeway.as_secs()
        );
    }
    for m in why.rules() {
        if m.failed().is_empty() {
            outln!(
                "  rule {:?}: every name matched; the chain did not verify",
                m.rule()
            );
        } else {
            outln!(
                "  rule {:?}: not satisfied: {}",
                m.rule(),
                m.failed().join(", ")
            );
        }
        // What the certificate holds for a failed policy or extension
        // constraint, as the rejection log's `findings` shows it.
        for seen in m.seen() {
            outln!("    the certificate has {seen}");
        }
    }
    if let Some(c) = why.chain() {
        outln!(
            "  chain {:?}: {} intermediate(s) came with the certificate; anchors: {}",
            c.set(),
            c.intermediates(),
            c.anchors().join(" | ")
        );
        if r.detail().code() == "unknown_issuer" && c.intermediates() == 0 {
            outln!(
                "  hint: no intermediate was forwarded: the client sent none, or the proxy forwards only Cert (Envoy: add chain to set_current_client_cert_details)"
            );
        }
    }
}

fn print_cert_value(c: &Value) {
    for key in [
        "subject",
        "issuer",
        "serial",
        "not_before",
        "not_after",
        "sha256",
        "sha1",
        "key",
        "spki_sha256",
    ] {
        // A FIELDS object has no issuer, serial, validity, SHA-1 or key.
        if let Some(v) = c[key].as_str() {
            outln!("    {key:<11} {v}");
        }
    }
    // A JSON array of strings, joined (empty when absent).
    let joined = |v: &Value| {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    };
    for kind in ["dns", "uri", "email", "ip"] {
        let v = joined(&c["san"][kind]);
        if !v.is_empty() {
            outln!("    san {kind:<7} {v}");
        }
    }
    // What `certificate_policies` and `extension` rules read.
    for (key, label) in [
        ("certificate_policies", "policies"),
        ("extensions", "extensions"),
    ] {
        let v = joined(&c[key]);
        if !v.is_empty() {
            outln!("    {label:<11} {v}");
        }
    }
}

/// The policy of a file (`Some(path)`) or of the environment (`None`), with
/// the format `--format` names (from the environment, XFCC_FORMAT's
/// unless `--format` is given).
fn load_policy(path: Option<&Path>, format: Option<Format>) -> Result<xfcc::Policy, Failure> {
    let config = |e: xfcc::ConfigError| Failure {
        exit: 2,
        code: "policy",
        detail: e.kind().code(),
        offset: None,
        message: e.to_string(),
    };
    match (path, format) {
        (Some(path), format) => PolicyConfig::from_toml_file(path)
            .and_then(|c| c.builder())
            .and_then(|b| b.format(format.unwrap_or(Format::Envoy)).build()),
        // As the app builds it: an error names the variable at fault.
        (None, None) => PolicyConfig::from_env().and_then(|c| c.build()),
        (None, Some(format)) => PolicyConfig::from_env()
            .and_then(|c| c.builder())
            .and_then(|b| b.format(format).build()),
    }
    .map_err(config)
}

/// `check --policy P` without a value: the policy alone, its warnings with
/// their codes and fixes. Exit 0 when it builds.
fn lint_policy(policy: &xfcc::Policy, path: Option<&Path>, json_out: bool) -> u8 {
    let shown = path.map_or_else(
        || "(the environment)".to_owned(),
        |p| p.display().to_string(),
    );
    let warnings = policy.warnings();
    if json_out {
        let list: Vec<Value> = warnings
            .iter()
            .map(|w| json!({"code": w.code(), "message": w.message(), "fix": w.fix()}))
            .collect();
        outln!(
            "{}",
            json!({"policy": shown, "builds": true, "warnings": list})
        );
        return 0;
    }
    outln!(
        "policy {}: builds ({} warning{}); give a header value (FILE, or pipe it in) to check one",
        shown,
        warnings.len(),
        if warnings.len() == 1 { "" } else { "s" }
    );
    for w in &warnings {
        outln!("warning [{}]: {}", w.code(), w.message());
        outln!("  fix: {}", w.fix());
    }
    0
}

fn check(
    policy_path: Option<&Path>,
    at: Option<&str>,
    format: Option<Format>,
    json_out: bool,
    source: Option<&str>,
    file: Option<&str>,
) -> Result<u8, Failure> {
    use std::io::IsTerminal as _;
    let whole = load_policy(policy_path, format)?;
    // No FILE and nothing to read (a terminal, or stdin closed to
    // /dev/null): the policy alone. Anything piped in is the value.
    let nothing_piped = std::io::stdin().is_terminal()
        || std::fs::read_link("/proc/self/fd/0").is_ok_and(|p| p == Path::new("/dev/null"));
    let file = match file {
        Some(f) => f,
        None if nothing_piped => {
            return Ok(lint_policy(&whole, policy_path, json_out));
        }
        None => "-",
    };
    // With [[sources]], a header is read the way its proxy writes it.
    let names: Vec<&str> = whole.readings().filter_map(|r| r.source()).collect();
    let policy = match (source, names.is_empty()) {
        (None, true) => whole.clone(),
        (Some(name), false) => whole.for_source(name).ok_or_else(|| {
            Failure::usage(format!(
                "--source {name:?}: the policy's sources are {}",
                names.join(", ")
            ))
        })?,
        (None, false) => {
            return Err(Failure::usage(format!(
                "the policy has [[sources]]: say which proxy's header this is with --source (one of {})",
                names.join(", ")
            )));
        }
        (Some(_), true) => {
            return Err(Failure::usage(
                "--source: the policy has no [[sources]]".to_owned(),
            ));
        }
    };
    let now = at
        .map(time::parse_rfc3339)
        .transpose()
        .map_err(Failure::usage)?;
    let value = read_value(file)?;
    let warnings: Vec<String> = policy.warnings().iter().map(ToString::to_string).collect();
    if !json_out {
        for w in &warnings {
            eprintln!("warning: {w}");
        }
    }
    let result = match now {
        Some(t) => policy.verify_at(&value, t),
        None => policy.verify(&value),
    };
    match result {
        Ok(cert) => {
            if json_out {
                outln!(
                    "{}",
                    json!({"allowed": true, "rule": cert.rule(), "verified_from": cert.verified_from().code(), "anchor_set": cert.anchor_set(), "anchor": cert.anchor(), "identity": json::identity(&cert), "warnings": warnings})
                );
            } else {
                outln!(
                    "allowed by rule {:?} (element {})",
                    cert.rule(),
                    cert.element()
                );
                if let (Some(set), Some(anchor)) = (cert.anchor_set(), cert.anchor()) {
                    outln!("  chain verified to anchor set {set:?}, anchor {anchor}");
                }
                if let Some(c) = cert.certificate() {
                    print_cert_value(&json::cert(c));
                    let ekus = c.extended_key_usages();
                    if !ekus.is_empty() {
                        outln!("    {:<11} {}", "eku", ekus.join(", "));
                    }
                } else if let Some(f) = cert.proxy_fields() {
                    outln!(
                        "  from the proxy's fields (identity_from = \"proxy-fields\"; no certificate forwarded):"
                    );
                    print_cert_value(&json::fields(f));
                }
            }
            Ok(0)
        }
        Err(r) => {
            // The troubleshooting guide's symptom when there is one, else
            // the next step the library saw in the request.
            let read_as = policy
                .readings()
                .next()
                .map_or(Format::Envoy, |r| r.format());
            let hint = symptom_hint(&value, read_as)
                .map(str::to_owned)
                .or_else(|| r.hint());
            if json_out {
                outln!(
                    "{}",
                    json!({"allowed": false, "would_deny": r.is_report_only(), "code": r.code(), "detail": r.detail().code(), "message": r.to_string(), "explain": json::explain(&r), "warnings": warnings, "hint": hint})
                );
            } else {
                let what = r.to_string();
                // Report mode decides as require does: the same refusal,
                // which the service logs and counts instead of answering.
                outln!(
                    "{}: {}",
                    if r.is_report_only() {
                        "would deny (mode = \"report\": the service logs and counts this as would_deny, and the request goes on)"
                    } else {
                        "denied"
                    },
                    what.strip_prefix("client certificate rejected: ")
                        .unwrap_or(&what)
                );
                print_explanation(&r);
                if let Some(h) = hint {
                    outln!("hint: {h}");
                }
            }
            Ok(1)
        }
    }
}

/// The troubleshooting guide's symptoms, recognised in a value that was
/// refused: what the value is, and what to do instead.
/// A failure with the symptom's hint after its message, as `check` gives
/// it (a value pasted with its header name, a bare PEM, ...).
fn hinted(mut f: Failure, value: &str, format: Format) -> Failure {
    if let Some(h) = symptom_hint(value, format) {
        f.message = format!("{}; hint: {h}", f.message);
    }
    f
}

fn symptom_hint(value: &str, format: Format) -> Option<&'static str> {
    let v = value.trim_start().trim_start_matches('"');
    let lower = v.get(..v.len().min(40)).unwrap_or("").to_ascii_lowercase();
    if v.is_empty() {
        Some(
            "an empty value: no certificate reached the app. The ingress forwards one only when it asks for it (Azure Container Apps: clientCertificateMode require or accept, not ignore) and the client sends one (curl: --cert and --key); behind your own proxy, run `xfcc doctor --proxy FILE`",
        )
    } else if (lower.starts_with("-----begin%20") || lower.starts_with("%2d%2d%2d%2d%2dbegin"))
        && format == Format::Envoy
    {
        Some(
            "a bare Cert= value: the URL-encoded PEM without Envoy's `Cert=\"...\"` around it. Pass the whole header (Hash=...;Cert=\"...\"); if your proxy sends just this (nginx's $ssl_client_escaped_cert), read it with --format nginx",
        )
    } else if lower.starts_with("-----begin") {
        Some(
            "this is a PEM certificate, not a header value: proxies send it URL-encoded (Envoy inside Cert=\"...\"). See it with `xfcc inspect FILE`; build the header a proxy would send with `xfcc header --cert FILE`",
        )
    } else if lower.starts_with("x-forwarded-client-cert:")
        || lower.starts_with("x-ssl-client-cert:")
        || lower.starts_with("client-cert:")
    {
        Some("the header's name was pasted with its value: pass the value only, after `NAME: `")
    } else {
        None
    }
}

/// The certificates of a PEM file, or the one certificate of a DER file.
pub(crate) fn read_pem_certs(path: &Path) -> Result<Vec<CertIdentity>, Failure> {
    let bytes = std::fs::read(path).map_err(|e| Failure::io(path.display(), &e))?;
    let bad = |e: xfcc::error::Error| Failure {
        exit: 2,
        code: e.kind().code(),
        detail: e.kind().code(),
        offset: None,
        message: format!("{}: {e}", path.display()),
    };
    if bytes.first() == Some(&0x30) {
        return CertIdentity::from_der(bytes).map(|c| vec![c]).map_err(bad);
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut certs = Vec::new();
    for block in pem_blocks(&text) {
        certs.push(xfcc::inspect::decode_certificate(block.trim()).map_err(bad)?);
    }
    if certs.is_empty() {
        return Err(Failure {
            exit: 2,
            code: "no_certificate",
            detail: "no_certificate",
            offset: None,
            message: format!(
                "{}: no CERTIFICATE block (a PEM or DER certificate is expected)",
                path.display()
            ),
        });
    }
    Ok(certs)
}

/// `--fields`: a comma-separated list of Envoy details.
fn envoy_fields(list: &str) -> Result<EnvoyFields, Failure> {
    let mut f = EnvoyFields::NONE;
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match name.to_ascii_lowercase().as_str() {
            "hash" => f.hash = true,
            "cert" => f.cert = true,
            "chain" => f.chain = true,
            "subject" => f.subject = true,
            "uri" => f.uri = true,
            "dns" => f.dns = true,
            "issuer" => f.issuer = true,
            _ => {
                return Err(Failure::usage(format!(
                    "unknown field {name:?} in --fields (hash, cert, chain, subject, uri, dns, issuer)"
                )));
            }
        }
    }
    Ok(f)
}

fn header(
    cert: &Path,
    chain: Option<&Path>,
    fields: &str,
    json_format: bool,
    format: Format,
) -> Result<u8, Failure> {
    if json_format && format != Format::Envoy {
        return Err(Failure::usage(format!(
            "--json-format writes Envoy's JSON form; --format {format} has none"
        )));
    }
    let mut certs = read_pem_certs(cert)?;
    if let Some(c) = chain {
        certs.extend(read_pem_certs(c)?);
    }
    let leaf = certs.remove(0);
    let fields = envoy_fields(fields)?;
    match format {
        Format::Envoy if json_format => {
            outln!(
                "{}",
                xfcc::render::render_envoy_json(&[], &leaf, &certs, fields)
            );
        }
        Format::Envoy => outln!("{}", xfcc::render::render_envoy(&[], &leaf, &certs, fields)),
        Format::Rfc9440 => {
            outln!("{}", format.render(&leaf, &certs));
            if !certs.is_empty() {
                // Client-Cert-Chain: each certificate as its own
                // byte sequence, comma-separated (RFC 9440 section 2.2).
                let chain: Vec<String> = certs.iter().map(|c| format.render(c, &[])).collect();
                outln!("{}", chain.join(", "));
            }
        }
        other => outln!("{}", other.render(&leaf, &certs)),
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_field_lists() {
        assert_eq!(envoy_fields("hash,cert,chain").ok(), Some(EnvoyFields::ACA));
        assert_eq!(
            envoy_fields("hash, cert,chain,subject,URI,dns").ok(),
            Some(EnvoyFields::ALL)
        );
        let bad = envoy_fields("hash,bogus")
            .err()
            .map(|f| (f.exit, f.message));
        assert_eq!(
            bad,
            Some((
                2,
                "unknown field \"bogus\" in --fields (hash, cert, chain, subject, uri, dns, issuer)"
                    .to_owned()
            ))
        );
        let mut with_issuer = EnvoyFields::ALL;
        with_issuer.issuer = true;
        assert_eq!(
            envoy_fields("hash,cert,chain,subject,uri,dns,Issuer").ok(),
            Some(with_issuer)
        );
    }
}
