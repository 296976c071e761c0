//! `xfcc` for Node.js: the native addon (napi-rs) under the `xfcc` npm
//! package. Every decision is the Rust core's; this layer converts
//! arguments and results, and the JavaScript beside it (`index.js`,
//! `express.js`, `fastify.js`, `hono.js`) translates the core's verdict
//! into each framework's answer.
//!
//! Errors cross as values, not exceptions: a factory returns the policy or
//! a [`ConfigErrorInfo`], a check returns the client or a
//! [`RejectionInfo`]; `index.js` throws them as `ConfigError` and
//! `Rejection`, with the core's codes.

use std::collections::HashMap;
use std::net::IpAddr;

use napi::Env;
use napi::bindgen_prelude::{Buffer, Either, ObjectFinalize};
use napi::{JsString, JsStringLatin1};
use napi_derive::napi;

/// Why a policy cannot be built: the core's stable code, the setting at
/// fault (or the environment variable), the rule it is in, the message.
#[napi(object)]
pub struct ConfigErrorInfo {
    /// The stable code of its kind (`names_only_rule`, `value`, ...).
    pub code: String,
    /// The setting or environment variable at fault.
    pub setting: String,
    /// The `[[allow]]` rule it is in, if any.
    pub rule: Option<String>,
    /// The core's message, which names the setting.
    pub message: String,
}

fn config_error(e: &xfcc::ConfigError) -> ConfigErrorInfo {
    ConfigErrorInfo {
        code: e.kind().code().to_owned(),
        setting: e.setting().into_owned(),
        rule: e.rule().map(str::to_owned),
        message: e.to_string(),
    }
}

/// A forwarded client certificate that does not authenticate the request,
/// as the core says it: its codes, one bounded line of explanation (never
/// certificate bytes), the next step, and the answer a middleware gives.
#[napi(object)]
pub struct RejectionInfo {
    /// The stable reason code (`missing`, `not_allowed`, ...).
    pub code: String,
    /// The reason (the code's family).
    pub reason: String,
    /// The precise detail code (`subject_cn`, `repeated_by`, ...).
    pub detail: String,
    /// The certificate's values beside what did not hold.
    pub explanation: Option<String>,
    /// The next step, when the request shows what it is.
    pub hint: Option<String>,
    /// The header element it came from.
    pub element: Option<u32>,
    /// For `untrusted_peer`: the TCP peer.
    pub peer: Option<String>,
    /// With `[[sources]]`: the proxy's source.
    pub source: Option<String>,
    /// Report mode: logged and counted, and the request goes on.
    pub would_deny: bool,
    /// The HTTP status the core refuses it with (403, or 500).
    pub status: u16,
    /// The core's one-line message.
    pub message: String,
}

fn rejection(r: &xfcc::Rejection) -> RejectionInfo {
    RejectionInfo {
        code: r.code().to_owned(),
        reason: r.reason().code().to_owned(),
        detail: r.detail().code().to_owned(),
        explanation: r.explanation().map(|e| e.to_string()),
        hint: r.hint(),
        element: r.element().and_then(|e| u32::try_from(e).ok()),
        peer: r.peer().map(|p| p.to_string()),
        source: r.source().map(str::to_owned),
        would_deny: r.is_report_only(),
        status: xfcc::outcome::Refused::Policy(r.clone()).status(),
        message: r.to_string(),
    }
}

/// A peer address as Node gives it (`::ffff:10.0.0.4` for IPv4 on a
/// dual-stack socket, `fe80::1%eth0`); `None` for anything else (a Unix
/// socket), which a policy with `trusted_peers` refuses as
/// `peer_unavailable`.
fn peer_addr(peer: Option<&str>) -> Option<IpAddr> {
    let p = peer?.trim();
    let p = p.split_once('%').map_or(p, |(ip, _zone)| ip);
    p.parse::<IpAddr>().ok()
}

/// A header value from JavaScript: a string (UTF-8 once converted) or a
/// `Buffer` (its bytes as received).
type Text = Either<String, Buffer>;

fn text_bytes(t: &Text) -> &[u8] {
    match t {
        Either::A(s) => s.as_bytes(),
        Either::B(b) => b,
    }
}

/// A header line's name or value as an HTTP server hands it to
/// JavaScript: a byte string (Node's parser and Fetch's `Headers` map each
/// byte received to one character, U+0000 to U+00FF), read back as those
/// bytes (Latin-1), so that the core sees what was received; or a
/// `Buffer`. (Read as UTF-8, a byte above 0x7F would reach the core as two
/// bytes.) index.js refuses a character above U+00FF before it gets here.
type Line<'env> = Either<JsString<'env>, Buffer>;

/// The bytes of the lines, in order.
fn line_bytes(lines: Vec<Line<'_>>) -> napi::Result<Vec<LineBytes<'_>>> {
    lines
        .into_iter()
        .map(|l| match l {
            Either::A(s) => s.into_latin1().map(LineBytes::Latin1),
            Either::B(b) => Ok(LineBytes::Buffer(b)),
        })
        .collect()
}

/// One line's bytes, held for the call.
enum LineBytes<'env> {
    Latin1(JsStringLatin1<'env>),
    Buffer(Buffer),
}

impl LineBytes<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Self::Latin1(s) => s.as_slice(),
            Self::Buffer(b) => b,
        }
    }
}

/// A policy, or why there is none.
#[napi(object, object_from_js = false)]
pub struct Built {
    /// The policy.
    pub policy: Option<NativePolicy>,
    /// Why it could not be built.
    pub error: Option<ConfigErrorInfo>,
}

fn built(r: Result<xfcc::Policy, xfcc::ConfigError>) -> Built {
    match r {
        Ok(inner) => Built {
            policy: Some(NativePolicy {
                inner,
                recent: xfcc::RecentPeers::new(RECENT_PEERS),
            }),
            error: None,
        },
        Err(e) => Built {
            policy: None,
            error: Some(config_error(&e)),
        },
    }
}

/// The verified client, or the rejection (exactly one is set; neither in
/// accept mode without a header).
#[napi(object, object_from_js = false)]
pub struct Checked {
    /// The verified client.
    pub client_cert: Option<ClientCert>,
    /// Why it does not authenticate the request.
    pub rejection: Option<RejectionInfo>,
}

fn checked(env: &Env, r: Result<Option<xfcc::ClientCert>, xfcc::Rejection>) -> Checked {
    match r {
        Ok(c) => Checked {
            client_cert: c.as_ref().map(|c| ClientCert::new(env, c)),
            rejection: None,
        },
        Err(r) => Checked {
            client_cert: None,
            rejection: Some(rejection(&r)),
        },
    }
}

/// A policy: which element of the header to trust, the checks and the
/// allow rules. Thread-safe and cheap to share.
#[napi]
pub struct NativePolicy {
    inner: xfcc::Policy,
    /// The chains of the last connections' certificates: the same chain
    /// reuses the policy's decision on it.
    recent: xfcc::RecentPeers,
}

/// How many peers' chains a policy remembers (`trusted_proxies`).
const RECENT_PEERS: usize = 16;

/// The most certificates a peer chain may hold (the core keeps 8).
const MAX_CHAIN: usize = 16;

impl NativePolicy {
    /// The connection as the policy reads it: the address, and what it
    /// presented in TLS (`None`: unknown; DER buffers, leaf first; empty:
    /// no certificate).
    fn peer(&self, peer: Option<&str>, chain: Option<Vec<Buffer>>) -> napi::Result<xfcc::Peer> {
        let out = xfcc::Peer::from(peer_addr(peer));
        let Some(chain) = chain else {
            return Ok(out);
        };
        if chain.len() > MAX_CHAIN {
            return Err(napi::Error::from_reason(format!(
                "peerChain holds more than {MAX_CHAIN} certificates"
            )));
        }
        let der: Vec<&[u8]> = chain.iter().map(|b| &b[..]).collect();
        Ok(out.with_tls((!der.is_empty()).then(|| self.recent.get(&der))))
    }
}

#[napi]
impl NativePolicy {
    /// The policy the environment describes (`XFCC_*`, the recipes'
    /// `ALLOWED_CERT_*`, or `XFCC_POLICY_FILE`).
    #[napi]
    pub fn from_env(env: HashMap<String, String>) -> Built {
        built(xfcc::Policy::from_env_pairs(env))
    }

    /// The policy of a TOML file; anchor and CRL paths relative to it.
    #[napi]
    pub fn from_toml_file(path: String) -> Built {
        built(xfcc::Policy::from_toml_file(path))
    }

    /// The policy of TOML text; paths relative to `base_dir`.
    #[napi]
    pub fn from_toml_string(text: String, base_dir: Option<String>) -> Built {
        built(xfcc::Policy::from_toml_str(
            &text,
            base_dir.unwrap_or_else(|| ".".to_owned()),
        ))
    }

    /// One header value (`null`: no header) from `peer`, over a
    /// connection that presented `peer_chain` (DER, leaf first; `null`:
    /// unknown; empty: none).
    #[napi]
    pub fn check(
        &self,
        env: Env,
        header: Option<Either<String, Buffer>>,
        peer: Option<String>,
        peer_chain: Option<Vec<Buffer>>,
    ) -> napi::Result<Checked> {
        let value = header.as_ref().map(text_bytes);
        let peer = self.peer(peer.as_deref(), peer_chain)?;
        Ok(checked(&env, self.inner.verify_value(peer, value)))
    }

    /// A request's lines of the policy's headers, as a flat list `[name,
    /// value, name, value, ...]` (names lower-case; repeated lines kept),
    /// from `peer`: the client or the rejection.
    #[napi]
    pub fn check_request(
        &self,
        env: Env,
        lines: Vec<Either<JsString<'_>, Buffer>>,
        peer: Option<String>,
        peer_chain: Option<Vec<Buffer>>,
    ) -> napi::Result<Checked> {
        let held = line_bytes(lines)?;
        let pairs = pairs(&held);
        let peer = self.peer(peer.as_deref(), peer_chain)?;
        Ok(checked(
            &env,
            self.inner.verify_request(peer, |name| named(&pairs, name)),
        ))
    }

    /// The request's verdict, as every adapter gets it from the core
    /// (lines and peer as for `check_request`).
    #[napi]
    pub fn decide(
        &self,
        env: Env,
        lines: Vec<Either<JsString<'_>, Buffer>>,
        peer: Option<String>,
        peer_chain: Option<Vec<Buffer>>,
    ) -> napi::Result<NativeVerdict> {
        let held = line_bytes(lines)?;
        let pairs = pairs(&held);
        let peer = self.peer(peer.as_deref(), peer_chain)?;
        let v = self.inner.decide(peer, |name| named(&pairs, name));
        Ok(NativeVerdict::new(&env, &v))
    }

    /// `"require"`, `"accept"` or `"report"`.
    #[napi(getter)]
    pub fn mode(&self) -> &'static str {
        match self.inner.mode() {
            xfcc::Mode::Accept => "accept",
            xfcc::Mode::Report => "report",
            _ => "require",
        }
    }

    /// Every header the policy may read (lower-case).
    #[napi(getter)]
    pub fn header_names(&self) -> Vec<String> {
        self.inner.header_names().to_vec()
    }

    /// Whether the policy honours the header only from listed peers.
    #[napi(getter)]
    pub fn has_trusted_peers(&self) -> bool {
        self.inner.has_trusted_peers()
    }

    /// Whether the policy honours the header only over connections that
    /// present a `[[trusted_proxies]]` certificate.
    #[napi(getter)]
    pub fn has_trusted_proxies(&self) -> bool {
        self.inner.has_trusted_proxies()
    }

    /// Whether a request from `peer` may carry the header.
    #[napi]
    pub fn is_trusted_peer(&self, peer: String) -> bool {
        peer_addr(Some(&peer)).is_some_and(|ip| self.inner.is_trusted_peer(ip))
    }

    /// The settings that weaken the policy: `[code, message, fix]`.
    #[napi]
    pub fn warnings(&self) -> Vec<Vec<String>> {
        self.inner
            .warnings()
            .iter()
            .map(|w| {
                vec![
                    w.code().to_owned(),
                    w.message().to_owned(),
                    w.fix().to_owned(),
                ]
            })
            .collect()
    }
}

/// `[name, value, ...]` as `(name, bytes)` pairs; a trailing name without
/// a value is dropped.
fn pairs<'a>(lines: &'a [LineBytes<'_>]) -> Vec<(&'a [u8], &'a [u8])> {
    lines
        .chunks_exact(2)
        .filter_map(|c| match c {
            [n, v] => Some((n.bytes(), v.bytes())),
            _ => None,
        })
        .collect()
}

fn named<'a>(pairs: &[(&[u8], &'a [u8])], name: &str) -> Vec<&'a [u8]> {
    pairs
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| *v)
        .collect()
}

/// The core's verdict on one request: what a middleware translates.
#[napi(object, object_from_js = false)]
pub struct NativeVerdict {
    /// `"allow"`, `"report"` (serve it, the would-be refusal in
    /// `rejection`) or `"refuse"`.
    pub action: String,
    /// The verified client.
    pub client_cert: Option<ClientCert>,
    /// The refusal, or report mode's would-be refusal.
    pub rejection: Option<RejectionInfo>,
    /// The status to refuse with; absent when served.
    pub status: Option<u16>,
    /// The JSON body to refuse with (`{"error":"<code>"}`).
    pub body: Option<String>,
    /// The code of the refusal or would-be refusal.
    pub code: Option<String>,
}

impl NativeVerdict {
    fn new(env: &Env, v: &xfcc::outcome::Verdict) -> Self {
        let action = match v.outcome() {
            xfcc::outcome::Outcome::Allow(_) => "allow",
            xfcc::outcome::Outcome::Report(_) => "report",
            _ => "refuse",
        };
        Self {
            action: action.to_owned(),
            client_cert: v.client_cert().map(|c| ClientCert::new(env, c)),
            rejection: v.rejection().map(rejection),
            status: v.refused().map(xfcc::outcome::Refused::status),
            body: v.refused().map(xfcc::outcome::Refused::json_body),
            code: v.rejection().map(|r| r.code().to_owned()),
        }
    }
}

/// A refusal the middleware detect themselves (`peer_rewritten`):
/// `[status, body]` from the core's one table; `null` for another code.
#[napi]
pub fn wiring_refusal(code: String) -> Option<WiringRefusal> {
    xfcc::outcome::Refused::wiring(&code).map(|r| WiringRefusal {
        status: r.status(),
        body: r.json_body(),
    })
}

/// A wiring refusal's answer.
#[napi(object)]
pub struct WiringRefusal {
    /// Its status (500).
    pub status: u16,
    /// Its JSON body.
    pub body: String,
}

/// A verified client: the certificate's identity (or, with
/// `identity_from = "proxy-fields"`, the proxy's fields), which rule
/// allowed it, from which element and source. A class whose getters read
/// the core's value when asked: a plain object with every field filled in
/// cost five times as much per request (benches/README.md).
///
/// V8 is told what each one holds outside its heap (the DER, the names),
/// so that a burst of requests collects them as it collects the objects
/// it can see; without it, uncached verifications grew the process by
/// fresh pages faster than they were collected.
#[napi(custom_finalize)]
pub struct ClientCert {
    inner: xfcc::ClientCert,
    held: i64,
}

impl ClientCert {
    fn new(env: &Env, c: &xfcc::ClientCert) -> Self {
        let der = c.certificate().map_or(0, |x| x.der().len());
        let held = i64::try_from(der).unwrap_or(0).saturating_mul(2) + 1024;
        // An estimate for V8's scheduling; if V8 refuses it, nothing is
        // held back.
        let held = env.adjust_external_memory(held).map_or(0, |_| held);
        Self {
            inner: c.clone(),
            held,
        }
    }
}

impl ObjectFinalize for ClientCert {
    fn finalize(self, env: Env) -> napi::Result<()> {
        if self.held != 0 {
            env.adjust_external_memory(-self.held)?;
        }
        Ok(())
    }
}

#[napi]
impl ClientCert {
    /// The subject (RFC 4514).
    #[napi(getter)]
    pub fn subject(&self) -> String {
        self.inner.subject()
    }
    /// The issuer (RFC 4514); `null` for proxy fields.
    #[napi(getter)]
    pub fn issuer(&self) -> Option<String> {
        self.inner.certificate().map(|c| c.issuer().to_owned())
    }
    /// The subject's common names.
    #[napi(getter)]
    pub fn subject_cn(&self) -> Vec<String> {
        self.inner.subject_cns().map(str::to_owned).collect()
    }
    /// The issuer's common names.
    #[napi(getter)]
    pub fn issuer_cn(&self) -> Vec<String> {
        self.inner
            .certificate()
            .map(|c| c.issuer_cns().map(str::to_owned).collect())
            .unwrap_or_default()
    }
    /// DNS SANs.
    #[napi(getter)]
    pub fn san_dns(&self) -> Vec<String> {
        self.inner.san_dns().to_vec()
    }
    /// URI SANs.
    #[napi(getter)]
    pub fn san_uri(&self) -> Vec<String> {
        self.inner.san_uris().to_vec()
    }
    /// E-mail SANs.
    #[napi(getter)]
    pub fn san_email(&self) -> Vec<String> {
        self.inner
            .certificate()
            .map(|c| c.san().email().to_vec())
            .unwrap_or_default()
    }
    /// IP SANs, as text.
    #[napi(getter)]
    pub fn san_ip(&self) -> Vec<String> {
        self.inner
            .certificate()
            .map(|c| c.san().ip().iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    }
    /// The SPIFFE ID of an X.509-SVID.
    #[napi(getter)]
    pub fn spiffe_id(&self) -> Option<String> {
        self.inner.spiffe_id().map(str::to_owned)
    }
    /// SHA-256 thumbprint, upper-case hex.
    #[napi(getter)]
    pub fn sha256(&self) -> String {
        self.inner.sha256_hex().to_ascii_uppercase()
    }
    /// SHA-1 thumbprint (what the Azure portal shows), upper-case hex.
    #[napi(getter)]
    pub fn sha1(&self) -> Option<String> {
        self.inner
            .certificate()
            .map(|c| c.sha1_hex().to_ascii_uppercase())
    }
    /// `x5t#S256`: base64url of the SHA-256 (RFC 8705).
    #[napi(getter, js_name = "x5tS256")]
    pub fn x5t_s256(&self) -> String {
        self.inner.x5t_s256()
    }
    /// SHA-256 of the SubjectPublicKeyInfo, base64 (RFC 7469).
    #[napi(getter)]
    pub fn spki_sha256(&self) -> Option<String> {
        self.inner
            .certificate()
            .map(xfcc::inspect::CertIdentity::spki_sha256_base64)
    }
    /// Start of validity, seconds since the epoch.
    #[napi(getter)]
    pub fn not_before(&self) -> Option<i64> {
        self.inner
            .certificate()
            .map(xfcc::inspect::CertIdentity::not_before_unix)
    }
    /// End of validity, seconds since the epoch.
    #[napi(getter)]
    pub fn not_after(&self) -> Option<i64> {
        self.inner
            .certificate()
            .map(xfcc::inspect::CertIdentity::not_after_unix)
    }
    /// The certificate (DER); `null` for proxy fields.
    #[napi(getter)]
    pub fn der(&self) -> Option<Buffer> {
        self.inner.certificate().map(|c| c.der().to_vec().into())
    }
    /// The allow rule that matched.
    #[napi(getter)]
    pub fn rule(&self) -> String {
        self.inner.rule().to_owned()
    }
    /// The index of the header element it came from.
    #[napi(getter)]
    pub fn element(&self) -> u32 {
        u32::try_from(self.inner.element()).unwrap_or(u32::MAX)
    }
    /// With `[[sources]]`: the proxy's source.
    #[napi(getter)]
    pub fn source(&self) -> Option<String> {
        self.inner.source().map(str::to_owned)
    }

    /// With `[[trusted_proxies]]`: the entry the connection's certificate
    /// matched, the proxy the request came through.
    #[napi(getter)]
    pub fn proxy(&self) -> Option<String> {
        self.inner.proxy().map(str::to_owned)
    }
    /// `"cert"` or `"proxy-fields"`.
    #[napi(getter)]
    pub fn verified_from(&self) -> String {
        self.inner.verified_from().to_string()
    }
    /// Whether a chain to an anchor was verified.
    #[napi(getter)]
    pub fn chain_verified(&self) -> bool {
        self.inner.chain_verified()
    }
    /// The anchor set the chain was verified to.
    #[napi(getter)]
    pub fn anchor_set(&self) -> Option<String> {
        self.inner.anchor_set().map(str::to_owned)
    }
}

/// How many rejection records a middleware writes: at most `per_second`
/// per reason per second, the rest counted and summarised;
/// `peer_unavailable` always. The core's limiter.
#[napi]
pub struct LogLimiter {
    inner: xfcc::run::LogLimiter,
}

/// Whether to write a record, and what was held back in the second that
/// ended (`[code, count]` pairs).
#[napi(object)]
pub struct Admitted {
    /// Write this record.
    pub log: bool,
    /// What was not written in the second that ended.
    pub summary: Vec<Vec<String>>,
}

#[napi]
impl LogLimiter {
    /// At most `per_second` records per reason per second (`null`: no
    /// bound; 0 is refused).
    #[napi(constructor)]
    pub fn new(per_second: Option<u32>) -> napi::Result<Self> {
        let rate = match per_second {
            None => xfcc::run::LogRate::UNLIMITED,
            Some(n) => {
                xfcc::run::LogRate::per_second(std::num::NonZeroU32::new(n).ok_or_else(|| {
                    napi::Error::from_reason(
                        "XFCC_LOG_RATE: at least 1 event per second, or unlimited",
                    )
                })?)
            }
        };
        Ok(Self {
            inner: xfcc::run::LogLimiter::new(rate),
        })
    }

    /// The limiter at the rate `XFCC_LOG_RATE` gives (10 when unset).
    #[napi(factory)]
    pub fn from_env() -> napi::Result<Self> {
        let rate =
            xfcc::run::LogRate::from_env().map_err(|e| napi::Error::from_reason(e.to_string()))?;
        Ok(Self {
            inner: xfcc::run::LogLimiter::new(rate),
        })
    }

    /// Whether to write the record of a rejection with reason `code`.
    #[napi]
    pub fn admit(&self, code: String) -> Admitted {
        let reason = xfcc::Reason::from_code(&code).unwrap_or(xfcc::Reason::Malformed);
        let a = self.inner.admit(reason);
        Admitted {
            log: a.log,
            summary: a
                .summary
                .iter()
                .map(|(r, n)| vec![r.code().to_owned(), n.to_string()])
                .collect(),
        }
    }
}
