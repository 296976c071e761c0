//! `xfcc._xfcc`: the Python extension of the `xfcc` crate. Every decision
//! is the Rust core's; this layer converts arguments and results.
//!
//! The Python package (`python/xfcc`) wraps it with the ASGI and WSGI
//! middleware and the type stubs.

use std::net::IpAddr;

mod settings;

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

create_exception!(
    xfcc,
    Rejection,
    PyException,
    "A forwarded client certificate that does not authenticate the request: `code` (the stable reason code), `reason`, `detail`, `explanation`, `hint`, `element`, `peer`, `source`, `would_deny`."
);
create_exception!(
    xfcc,
    ConfigError,
    PyValueError,
    "A policy setting the library cannot honour; the message names the setting (or the environment variable), and `code` is its stable kind."
);

/// A policy: which element of the header to trust, the checks and the
/// allow rules. Build it with `Policy.from_env()`, `Policy.from_toml(path)`
/// or `Policy.from_toml_str(text, base_dir)`. Thread-safe and cheap to share.
#[pyclass(frozen, module = "xfcc._xfcc")]
struct Policy {
    inner: xfcc::Policy,
    /// The chains of the last connections' certificates: a server hands
    /// them anew with every request, and the same chain reuses the
    /// policy's decision on it.
    recent: xfcc::RecentPeers,
}

/// How many peers' chains a policy remembers (`trusted_proxies`).
const RECENT_PEERS: usize = 16;

impl From<xfcc::Policy> for Policy {
    fn from(inner: xfcc::Policy) -> Self {
        Self {
            inner,
            recent: xfcc::RecentPeers::new(RECENT_PEERS),
        }
    }
}

fn config_error(py: Python<'_>, e: &xfcc::ConfigError) -> PyErr {
    let err = ConfigError::new_err(e.to_string());
    let v = err.value(py);
    let _ = v.setattr("code", e.kind().code());
    let _ = v.setattr("setting", e.setting().into_owned());
    let _ = v.setattr("rule", e.rule());
    err
}

fn rejection(py: Python<'_>, r: &xfcc::Rejection) -> PyErr {
    let err = Rejection::new_err(r.to_string());
    let v = err.value(py);
    let explanation = r.explanation().map(ToString::to_string);
    let _ = v.setattr("code", r.code());
    let _ = v.setattr("reason", r.reason().code());
    let _ = v.setattr("detail", r.detail().code());
    let _ = v.setattr("explanation", explanation);
    let _ = v.setattr("hint", r.hint());
    let _ = v.setattr("element", r.element());
    let _ = v.setattr("peer", r.peer().map(|p| p.to_string()));
    let _ = v.setattr("source", r.source());
    let _ = v.setattr("would_deny", r.is_report_only());
    // The core's answer to it (what a middleware refuses with).
    let _ = v.setattr("status", xfcc::outcome::Refused::Policy(r.clone()).status());
    err
}

/// The connection as the policy reads it: the address, and with
/// `peer_cert_chain` what it presented in TLS (`None`: unknown; a list of
/// PEM `str` or DER `bytes`, leaf first; empty: no certificate). An entry
/// that is not a PEM certificate is handed over as it is, and the policy
/// refuses it as `proxy_certificate_unreadable`.
fn peer_of(
    recent: &xfcc::RecentPeers,
    peer: Option<&str>,
    chain: Option<&Bound<'_, PyAny>>,
) -> PyResult<xfcc::Peer> {
    let mut out = xfcc::Peer::from(peer_addr(peer)?);
    let Some(chain) = chain.filter(|c| !c.is_none()) else {
        return Ok(out);
    };
    let mut der: Vec<Vec<u8>> = Vec::new();
    for (i, entry) in chain.try_iter()?.enumerate() {
        let entry = entry?;
        if i >= MAX_CHAIN {
            return Err(PyValueError::new_err(format!(
                "peer_cert_chain holds more than {MAX_CHAIN} certificates"
            )));
        }
        if let Ok(b) = entry.cast::<pyo3::types::PyBytes>() {
            der.push(b.as_bytes().to_vec());
        } else {
            let text: String = entry.extract().map_err(|_| {
                PyValueError::new_err("peer_cert_chain holds str (PEM) or bytes (DER) entries")
            })?;
            der.push(match pem_rfc7468::decode_vec(text.as_bytes()) {
                Ok(("CERTIFICATE", d)) => d,
                _ => text.into_bytes(),
            });
        }
    }
    out = out.with_tls((!der.is_empty()).then(|| recent.get(&der)));
    Ok(out)
}

/// The most certificates a `peer_cert_chain` may hold (the core keeps 8).
const MAX_CHAIN: usize = 16;

fn peer_addr(peer: Option<&str>) -> PyResult<Option<IpAddr>> {
    peer.map(|p| {
        p.trim()
            .parse::<IpAddr>()
            .map_err(|_| PyValueError::new_err(format!("peer {p:?} is not an IP address")))
    })
    .transpose()
}

/// A header name or value from Python, `str` or `bytes`, read in place:
/// a `bytes` object's buffer, or a `str`'s UTF-8 form (for an ASCII string,
/// its own storage; otherwise the form CPython caches on it), never copied.
enum Text<'py> {
    Bytes(Bound<'py, PyBytes>),
    Str(Bound<'py, PyString>),
}

impl<'py> Text<'py> {
    fn new(value: &Bound<'py, PyAny>) -> PyResult<Self> {
        if let Ok(b) = value.cast::<PyBytes>() {
            return Ok(Self::Bytes(b.clone()));
        }
        if let Ok(s) = value.cast::<PyString>() {
            return Ok(Self::Str(s.clone()));
        }
        Err(PyTypeError::new_err(
            "a header name or value is str or bytes",
        ))
    }

    /// The bytes; a `str` that has no UTF-8 form (a lone surrogate) is a
    /// `UnicodeEncodeError`.
    fn bytes(&self) -> PyResult<&[u8]> {
        match self {
            Self::Bytes(b) => Ok(b.as_bytes()),
            Self::Str(s) => s.to_str().map(str::as_bytes),
        }
    }
}

/// A request's header lines from Python, `(name, value)` pairs of `str`
/// or `bytes`, keeping only those named as one of `wanted` (the policy's
/// headers, lower-case) in any case: `(wanted name, value)`, values read in
/// place. A name that is not text is not a header the policy reads.
fn header_lines<'py, 'w>(
    headers: &Bound<'py, PyAny>,
    wanted: &'w [String],
) -> PyResult<Vec<(&'w str, Text<'py>)>> {
    let mut lines = Vec::new();
    for item in headers.try_iter()? {
        let item = item?;
        let name = Text::new(&item.get_item(0)?)?;
        let Ok(name) = name.bytes() else { continue };
        if let Some(w) = wanted
            .iter()
            .find(|w| w.as_bytes().eq_ignore_ascii_case(name))
        {
            lines.push((w.as_str(), Text::new(&item.get_item(1)?)?));
        }
    }
    Ok(lines)
}

/// The lines' values, read in place.
fn line_values<'a>(lines: &'a [(&'a str, Text<'_>)]) -> PyResult<Vec<(&'a str, &'a [u8])>> {
    lines.iter().map(|(n, v)| Ok((*n, v.bytes()?))).collect()
}

/// The values of the lines named `name`.
fn lines_named<'a>(lines: &[(&str, &'a [u8])], name: &str) -> Vec<&'a [u8]> {
    lines
        .iter()
        .filter(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .collect()
}

#[pymethods]
impl Policy {
    /// The policy the environment describes (`XFCC_*` variables, the
    /// recipes' `ALLOWED_CERT_THUMBPRINTS` and `ALLOWED_CERT_COMMON_NAMES`,
    /// or `XFCC_POLICY_FILE`); `environ` defaults to `os.environ`. There is
    /// no default allow list: nothing set is an error.
    #[staticmethod]
    #[pyo3(signature = (environ=None))]
    fn from_env(py: Python<'_>, environ: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let os_environ;
        let environ = match environ {
            Some(e) => e,
            None => {
                os_environ = py.import("os")?.getattr("environ")?;
                &os_environ
            }
        };
        let pairs: Vec<(String, String)> = environ
            .call_method0("items")?
            .try_iter()?
            .map(|item| item.and_then(|i| i.extract::<(String, String)>()))
            .collect::<PyResult<_>>()?;
        xfcc::Policy::from_env_pairs(pairs)
            .map(Self::from)
            .map_err(|e| config_error(py, &e))
    }

    /// The policy of a TOML file; anchor and CRL paths are relative to it.
    #[staticmethod]
    fn from_toml(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Self> {
        xfcc::Policy::from_toml_file(path)
            .map(Self::from)
            .map_err(|e| config_error(py, &e))
    }

    /// The policy of TOML text; anchor and CRL paths are relative to
    /// `base_dir`.
    #[staticmethod]
    #[pyo3(signature = (text, base_dir=None))]
    fn from_toml_str(
        py: Python<'_>,
        text: &str,
        base_dir: Option<std::path::PathBuf>,
    ) -> PyResult<Self> {
        xfcc::Policy::from_toml_str(text, base_dir.unwrap_or_else(|| ".".into()))
            .map(Self::from)
            .map_err(|e| config_error(py, &e))
    }

    /// The policy a mapping describes, with the policy file's keys and
    /// values (`{"mode": "require", "allow": [{"subject_cn": ["api"]}]}`):
    /// Django's `XFCC` setting, Flask's `XFCC_*` config. It is read as the
    /// TOML document it stands for, so every key, check and message is the
    /// policy file's; a value a policy file cannot hold (`None`, an object)
    /// is a `ConfigError` naming its key. Anchor and CRL paths are relative
    /// to `base_dir` (the working directory by default).
    #[staticmethod]
    #[pyo3(signature = (settings, base_dir=None))]
    fn from_settings(
        py: Python<'_>,
        settings: &Bound<'_, PyAny>,
        base_dir: Option<std::path::PathBuf>,
    ) -> PyResult<Self> {
        let text = settings::table(settings)
            .and_then(|t| settings::text(&t))
            .map_err(|u| {
                let err = ConfigError::new_err(format!("settings: `{}`: {}", u.path, u.what));
                let v = err.value(py);
                let _ = v.setattr("code", "file");
                let _ = v.setattr("setting", u.path);
                let _ = v.setattr("rule", py.None());
                err
            })?;
        xfcc::Policy::from_toml_str(&text, base_dir.unwrap_or_else(|| ".".into()))
            .map(Self::from)
            .map_err(|e| {
                let err = config_error(py, &e);
                if e.kind() == xfcc::outcome::ConfigErrorKind::File {
                    let v = err.value(py);
                    let message =
                        format!("settings: {}", settings::settings_message(&e.to_string()));
                    let _ = v.setattr("args", (message,));
                    let _ = v.setattr("setting", "settings");
                }
                err
            })
    }

    /// Verifies one header value. `peer` is the TCP peer's address (for
    /// `trusted_peers` and `[[sources]]`); `None` for the value alone.
    /// Returns the `ClientCert`, or `None` in accept mode without a header
    /// (`header=None`); raises `Rejection` otherwise.
    #[pyo3(signature = (header, peer=None, peer_cert_chain=None))]
    fn verify(
        &self,
        py: Python<'_>,
        header: Option<&Bound<'_, PyAny>>,
        peer: Option<&str>,
        peer_cert_chain: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<ClientCert>> {
        let held = header.map(Text::new).transpose()?;
        let value = held.as_ref().map(Text::bytes).transpose()?;
        let peer = peer_of(&self.recent, peer, peer_cert_chain)?;
        let policy = &self.inner;
        // The GIL is held: a verification takes microseconds, less than
        // releasing and taking it back would cost under contention.
        let result = policy.verify_value(peer, value);
        result
            .map(|c| c.map(|inner| ClientCert { inner }))
            .map_err(|r| rejection(py, &r))
    }

    /// Verifies a request's headers, as the middleware does: `headers` is
    /// every header line as `(name, value)` pairs (`str` or `bytes`, names
    /// in any case, repeated names kept), `peer` the TCP peer's address.
    /// Reads the header(s) the policy (or the peer's source) names; more
    /// than one line of it is `multiple_headers`.
    #[pyo3(signature = (headers, peer=None, peer_cert_chain=None))]
    fn verify_request(
        &self,
        py: Python<'_>,
        headers: &Bound<'_, PyAny>,
        peer: Option<&str>,
        peer_cert_chain: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<ClientCert>> {
        let texts = header_lines(headers, self.inner.header_names())?;
        let lines = line_values(&texts)?;
        let peer = peer_of(&self.recent, peer, peer_cert_chain)?;
        let result = self
            .inner
            .verify_request(peer, |name| lines_named(&lines, name));
        result
            .map(|c| c.map(|inner| ClientCert { inner }))
            .map_err(|r| rejection(py, &r))
    }

    /// The request's verdict, as every adapter gets it from the core:
    /// `headers` and `peer` as for `verify_request`. The middleware
    /// translate it and decide nothing: serve (`action` `"allow"` or
    /// `"report"`, with `client_cert` and `rejection`) or refuse (`"refuse"`,
    /// with `status` and `body`).
    #[pyo3(signature = (headers, peer=None, peer_cert_chain=None))]
    fn decide(
        &self,
        headers: &Bound<'_, PyAny>,
        peer: Option<&str>,
        peer_cert_chain: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Verdict> {
        let texts = header_lines(headers, self.inner.header_names())?;
        let lines = line_values(&texts)?;
        let peer = peer_of(&self.recent, peer, peer_cert_chain)?;
        let inner = self.inner.decide(peer, |name| lines_named(&lines, name));
        Ok(Verdict { inner })
    }

    /// `"require"`, `"accept"` or `"report"`.
    #[getter]
    fn mode(&self) -> &'static str {
        match self.inner.mode() {
            xfcc::Mode::Accept => "accept",
            xfcc::Mode::Report => "report",
            _ => "require",
        }
    }

    /// The (lower-case) header the policy reads the certificate from;
    /// with `[[sources]]`, the first source's (`header_names` has them
    /// all).
    #[getter]
    fn header_name(&self) -> String {
        self.first_header().to_owned()
    }

    /// Every header the policy may read (lower-case): its own and, for a
    /// format with one, its chain header; with `[[sources]]`, each
    /// source's. What a middleware must hand to `verify_request`.
    #[getter]
    fn header_names(&self) -> Vec<String> {
        self.inner.header_names().to_vec()
    }

    /// Whether the policy honours the header only from listed peers
    /// (`trusted_peers` or `[[sources]]`).
    #[getter]
    fn has_trusted_peers(&self) -> bool {
        self.inner.has_trusted_peers()
    }

    /// Whether the policy honours the header only over connections that
    /// present a trusted proxy's certificate (`[[trusted_proxies]]`): the
    /// middleware must then hand over what each connection presented in
    /// TLS (`peer_cert_chain`; the ASGI TLS extension).
    #[getter]
    fn has_trusted_proxies(&self) -> bool {
        self.inner.has_trusted_proxies()
    }

    /// Whether a request from `peer` may carry the header (always true
    /// without `trusted_peers` or `[[sources]]`); an address that does not
    /// read is not trusted.
    fn is_trusted_peer(&self, peer: &str) -> bool {
        peer_addr(Some(peer))
            .ok()
            .flatten()
            .is_some_and(|ip| self.inner.is_trusted_peer(ip))
    }

    /// The settings that weaken the policy: `(code, message, fix)` tuples.
    fn warnings(&self) -> Vec<(&'static str, String, String)> {
        self.inner
            .warnings()
            .iter()
            .map(|w| (w.code(), w.message().to_owned(), w.fix().to_owned()))
            .collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "<xfcc.Policy mode={} header={:?}>",
            self.mode(),
            self.first_header()
        )
    }
}

impl Policy {
    /// The certificate header of the policy's first reading.
    fn first_header(&self) -> &str {
        self.inner
            .readings()
            .next()
            .map_or("x-forwarded-client-cert", xfcc::Reading::header_name)
    }
}

/// A verified client: the certificate's identity (or, with `identity_from =
/// "proxy-fields"`, the proxy's fields), which rule allowed it, from which
/// element and source.
#[pyclass(frozen, module = "xfcc._xfcc")]
struct ClientCert {
    inner: xfcc::ClientCert,
}

#[pymethods]
impl ClientCert {
    /// The subject (RFC 4514).
    #[getter]
    fn subject(&self) -> String {
        self.inner.subject()
    }
    /// The issuer (RFC 4514); `None` for proxy fields.
    #[getter]
    fn issuer(&self) -> Option<String> {
        self.inner.certificate().map(|c| c.issuer().to_owned())
    }
    /// The subject's common names.
    #[getter]
    fn subject_cn(&self) -> Vec<String> {
        self.inner.subject_cns().map(str::to_owned).collect()
    }
    /// The issuer's common names (empty for proxy fields).
    #[getter]
    fn issuer_cn(&self) -> Vec<String> {
        self.inner
            .certificate()
            .map(|c| c.issuer_cns().map(str::to_owned).collect())
            .unwrap_or_default()
    }
    /// DNS SANs.
    #[getter]
    fn san_dns(&self) -> Vec<String> {
        self.inner.san_dns().to_vec()
    }
    /// URI SANs.
    #[getter]
    fn san_uri(&self) -> Vec<String> {
        self.inner.san_uris().to_vec()
    }
    /// E-mail SANs (empty for proxy fields).
    #[getter]
    fn san_email(&self) -> Vec<String> {
        self.inner
            .certificate()
            .map(|c| c.san().email().to_vec())
            .unwrap_or_default()
    }
    /// IP SANs, as text (empty for proxy fields).
    #[getter]
    fn san_ip(&self) -> Vec<String> {
        self.inner
            .certificate()
            .map(|c| c.san().ip().iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    }
    /// The SPIFFE ID of an X.509-SVID, else `None`.
    #[getter]
    fn spiffe_id(&self) -> Option<String> {
        self.inner.spiffe_id().map(str::to_owned)
    }
    /// SHA-256 thumbprint, upper-case hex (as the Rust examples print it).
    #[getter]
    fn sha256(&self) -> String {
        self.inner.sha256_hex().to_ascii_uppercase()
    }
    /// SHA-1 thumbprint (what the Azure portal shows), upper-case hex;
    /// `None` for proxy fields.
    #[getter]
    fn sha1(&self) -> Option<String> {
        self.inner
            .certificate()
            .map(|c| c.sha1_hex().to_ascii_uppercase())
    }
    /// `x5t#S256`: base64url of the SHA-256 (RFC 8705 token binding).
    #[getter]
    fn x5t_s256(&self) -> String {
        self.inner.x5t_s256()
    }
    /// SHA-256 of the SubjectPublicKeyInfo, base64 (RFC 7469); `None` for
    /// proxy fields.
    #[getter]
    fn spki_sha256(&self) -> Option<String> {
        self.inner
            .certificate()
            .map(xfcc::inspect::CertIdentity::spki_sha256_base64)
    }
    /// Start of validity, seconds since the epoch (`None` for proxy fields).
    #[getter]
    fn not_before(&self) -> Option<i64> {
        self.inner
            .certificate()
            .map(xfcc::inspect::CertIdentity::not_before_unix)
    }
    /// End of validity, seconds since the epoch (`None` for proxy fields).
    #[getter]
    fn not_after(&self) -> Option<i64> {
        self.inner
            .certificate()
            .map(xfcc::inspect::CertIdentity::not_after_unix)
    }
    /// The certificate (DER), `None` for proxy fields.
    #[getter]
    fn der(&self) -> Option<Vec<u8>> {
        self.inner.certificate().map(|c| c.der().to_vec())
    }
    /// The certificate as PEM (`-----BEGIN CERTIFICATE-----`, 64-column
    /// base64, `\n` line ends), `None` for proxy fields: what the ASGI TLS
    /// extension's `client_cert_chain` holds.
    #[getter]
    fn pem(&self) -> Option<String> {
        self.inner.certificate().and_then(|c| {
            pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, c.der()).ok()
        })
    }
    /// The allow rule that matched.
    #[getter]
    fn rule(&self) -> String {
        self.inner.rule().to_owned()
    }
    /// The index of the header element it came from.
    #[getter]
    fn element(&self) -> usize {
        self.inner.element()
    }
    /// With `[[sources]]`, the proxy's source name.
    #[getter]
    fn source(&self) -> Option<String> {
        self.inner.source().map(str::to_owned)
    }
    /// With `[[trusted_proxies]]`, the entry the connection's certificate
    /// matched: the proxy the request came through.
    #[getter]
    fn proxy(&self) -> Option<String> {
        self.inner.proxy().map(str::to_owned)
    }
    /// `"cert"` or `"proxy-fields"`.
    #[getter]
    fn verified_from(&self) -> &'static str {
        self.inner.verified_from().code()
    }
    /// Whether a chain to the policy's anchors was verified.
    #[getter]
    fn chain_verified(&self) -> bool {
        self.inner.chain_verified()
    }
    /// The anchor set the chain was verified to.
    #[getter]
    fn anchor_set(&self) -> Option<String> {
        self.inner.anchor_set().map(str::to_owned)
    }

    fn __repr__(&self) -> String {
        format!(
            "<xfcc.ClientCert subject={:?} rule={:?}>",
            self.inner.subject(),
            self.inner.rule()
        )
    }
}

/// What a header value holds, for debugging: one dict per element with its
/// `index`, `by`, `uri`, `dns` and either the decoded `certificate`
/// (subject, issuer, sha256, sha1, not_before, not_after, san) or the
/// `error` that stopped it. Raises `ValueError` for a value that does not
/// parse. Never authenticates anything.
#[pyfunction]
fn inspect<'py>(py: Python<'py>, value: &str) -> PyResult<Bound<'py, PyList>> {
    let header = xfcc::inspect::XfccHeader::parse(value)
        .map_err(|e| PyValueError::new_err(format!("the value does not parse: {e}")))?;
    let out = PyList::empty(py);
    for e in header.elements() {
        let d = PyDict::new(py);
        d.set_item("index", e.index())?;
        let strings = |it: &mut dyn Iterator<Item = xfcc::inspect::Value<'_>>| -> Vec<String> {
            it.map(|v| v.unescaped().into_owned()).collect()
        };
        d.set_item("by", strings(&mut e.by()))?;
        d.set_item("uri", strings(&mut e.uri()))?;
        d.set_item("dns", strings(&mut e.dns()))?;
        match e.decode() {
            Ok(fc) => {
                let c = fc.leaf();
                let cert = PyDict::new(py);
                cert.set_item("subject", c.subject())?;
                cert.set_item("issuer", c.issuer())?;
                cert.set_item("sha256", c.sha256_hex())?;
                cert.set_item("sha1", c.sha1_hex())?;
                cert.set_item("not_before", c.not_before_rfc3339())?;
                cert.set_item("not_after", c.not_after_rfc3339())?;
                cert.set_item("san_dns", c.san().dns().to_vec())?;
                cert.set_item("san_uri", c.san().uri().to_vec())?;
                cert.set_item("spki_sha256", c.spki_sha256_base64())?;
                d.set_item("certificate", cert)?;
                d.set_item("error", py.None())?;
            }
            Err(err) => {
                d.set_item("certificate", py.None())?;
                d.set_item("error", err.to_string())?;
            }
        }
        out.append(d)?;
    }
    Ok(out)
}

/// The core's verdict on one request (`Policy.decide`): what a middleware
/// translates, deciding nothing itself.
#[pyclass(frozen, module = "xfcc._xfcc")]
struct Verdict {
    inner: xfcc::outcome::Verdict,
}

#[pymethods]
impl Verdict {
    /// `"allow"` (serve it, with `client_cert` or, in accept mode without
    /// a header, none), `"report"` (report mode: serve it with no identity,
    /// the would-be refusal in `rejection`) or `"refuse"` (answer `status`
    /// with `body`).
    #[getter]
    fn action(&self) -> &'static str {
        match self.inner.outcome() {
            xfcc::outcome::Outcome::Allow(_) => "allow",
            xfcc::outcome::Outcome::Report(_) => "report",
            _ => "refuse",
        }
    }

    /// The verified client, or `None`.
    #[getter]
    fn client_cert(&self) -> Option<ClientCert> {
        self.inner
            .client_cert()
            .cloned()
            .map(|inner| ClientCert { inner })
    }

    /// The policy's rejection (a `Rejection` instance): the would-be
    /// refusal in report mode, or the refusal; `None` when allowed.
    #[getter]
    fn rejection(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.inner
            .rejection()
            .map(|r| rejection(py, r).value(py).clone().into_any().unbind())
    }

    /// The HTTP status to refuse with (403, or 500 for a wiring error);
    /// `None` when the request is served.
    #[getter]
    fn status(&self) -> Option<u16> {
        self.inner.refused().map(xfcc::outcome::Refused::status)
    }

    /// The JSON body to refuse with (`{"error":"<code>"}`); `None` when the
    /// request is served.
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.inner
            .refused()
            .map(|r| PyBytes::new(py, r.json_body().as_bytes()))
    }

    /// The code of the refusal or would-be refusal; `None` when allowed.
    #[getter]
    fn code(&self) -> Option<&'static str> {
        self.inner.rejection().map(xfcc::Rejection::code)
    }

    /// The peer the request was judged with.
    #[getter]
    fn peer(&self) -> Option<String> {
        self.inner.peer().map(|p| p.to_string())
    }

    /// The header names the policy read.
    #[getter]
    fn header_names(&self) -> Vec<String> {
        self.inner.header_names().to_vec()
    }

    fn __repr__(&self) -> String {
        format!(
            "Verdict(action={:?}, code={:?})",
            self.action(),
            self.code()
        )
    }
}

/// A refusal the middleware detect themselves (`peer_rewritten`,
/// `unsafe_server`): its status and JSON body, from the core's one table.
#[pyfunction]
fn wiring_refusal<'py>(py: Python<'py>, code: &str) -> PyResult<(u16, Bound<'py, PyBytes>)> {
    let r = xfcc::outcome::Refused::wiring(code)
        .ok_or_else(|| PyValueError::new_err(format!("{code:?} is not a wiring refusal")))?;
    Ok((r.status(), PyBytes::new(py, r.json_body().as_bytes())))
}

/// How many rejection records the middleware write: at most `per_second`
/// per reason per second (`None`: no bound), the rest counted and
/// summarised; `peer_unavailable` always. The core's limiter: the
/// middleware only write what it admits.
#[pyclass(frozen, module = "xfcc._xfcc")]
struct LogLimiter {
    inner: xfcc::run::LogLimiter,
}

#[pymethods]
impl LogLimiter {
    #[new]
    #[pyo3(signature = (per_second=None))]
    fn new(per_second: Option<u32>) -> PyResult<Self> {
        let rate = match per_second {
            None => xfcc::run::LogRate::UNLIMITED,
            Some(n) => {
                xfcc::run::LogRate::per_second(std::num::NonZeroU32::new(n).ok_or_else(|| {
                    PyValueError::new_err(
                        "XFCC_LOG_RATE: at least 1 event per second, or unlimited",
                    )
                })?)
            }
        };
        Ok(Self {
            inner: xfcc::run::LogLimiter::new(rate),
        })
    }

    /// The limiter at the rate `XFCC_LOG_RATE` gives (a whole number of
    /// records per reason per second, or `unlimited`; 10 when unset), read
    /// by the core: a bad value is a `ConfigError` naming the variable.
    #[staticmethod]
    fn from_env(py: Python<'_>) -> PyResult<Self> {
        let rate = xfcc::run::LogRate::from_env().map_err(|e| config_error(py, &e))?;
        Ok(Self {
            inner: xfcc::run::LogLimiter::new(rate),
        })
    }

    /// Whether to write the record of a rejection with reason `code`, and
    /// the `(code, count)` pairs not written in the second that ended.
    fn admit(&self, code: &str) -> (bool, Vec<(&'static str, u64)>) {
        let reason = xfcc::Reason::from_code(code).unwrap_or(xfcc::Reason::Malformed);
        let a = self.inner.admit(reason);
        (
            a.log,
            a.summary.iter().map(|(r, n)| (r.code(), *n)).collect(),
        )
    }

    /// What was not written and not yet summarised.
    fn flush(&self) -> Vec<(&'static str, u64)> {
        self.inner
            .flush()
            .iter()
            .map(|(r, n)| (r.code(), *n))
            .collect()
    }
}

/// The extension module. It keeps no state that needs the GIL's
/// protection (the core's policy is `Send + Sync`), so a free-threaded
/// interpreter may run it without the GIL.
#[pymodule(gil_used = false)]
fn _xfcc(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Policy>()?;
    m.add_class::<ClientCert>()?;
    m.add_class::<Verdict>()?;
    m.add_class::<LogLimiter>()?;
    m.add_function(wrap_pyfunction!(wiring_refusal, m)?)?;
    m.add_function(wrap_pyfunction!(inspect, m)?)?;
    m.add("Rejection", m.py().get_type::<Rejection>())?;
    m.add("ConfigError", m.py().get_type::<ConfigError>())?;
    Ok(())
}
