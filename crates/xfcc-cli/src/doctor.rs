//! `xfcc doctor`: reads what `az containerapp show -o json` and
//! `az containerapp env show -o json` print, and proxy configuration files
//! (Envoy, nginx, HAProxy, Caddy), and reports the mTLS pitfalls from the
//! troubleshooting guide, each with its fix.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use xfcc::{Thumbprint, config::PolicyConfig};

use crate::Failure;
use crate::finding::{Finding, Severity, finding};
use crate::proxy::{PolicyFacts, PolicyView, ProxyKind, lint};

fn read_json(path: &Path) -> Result<Value, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| Failure::io(path.display(), &e))?;
    serde_json::from_str(&text).map_err(|e| Failure {
        exit: 2,
        code: "json",
        detail: "json",
        offset: None,
        message: format!("{}: not JSON ({e})", path.display()),
    })
}

/// The Azure CLI prints `properties.*`; ARM exports sometimes nest the same
/// object directly. Accept both.
fn props(v: &Value) -> &Value {
    if v.get("properties").is_some() {
        &v["properties"]
    } else {
        v
    }
}

/// The Azure resource a JSON document describes: its name and resource
/// group, read from its ARM `id`
/// (`/subscriptions/../resourceGroups/<rg>/providers/<type>/<name>`).
struct Resource {
    id: String,
    name: String,
    group: String,
}

/// The resource of `kind` (`containerApps`, `managedEnvironments`) that
/// `v` is, as `az containerapp show` / `az containerapp env show` print it.
/// Anything else (a list from `az containerapp list`, `{}`, another
/// resource) is refused: its checks would report nonsense.
fn resource(v: &Value, kind: &str, what: &str, path: &Path) -> Result<Resource, Failure> {
    let refuse = |why: String| Failure {
        exit: 2,
        code: "not_one_resource",
        detail: "not_one_resource",
        offset: None,
        message: format!("{}: {why}", path.display()),
    };
    let show = format!("az containerapp {what} --name NAME --resource-group GROUP -o json");
    if let Some(list) = v.as_array() {
        return Err(refuse(format!(
            "a list of {} resources (from a `list` command); pass one, as `{show}` prints it",
            list.len()
        )));
    }
    let id = v["id"].as_str().unwrap_or("");
    let parts: Vec<&str> = id.split('/').collect();
    let after = |key: &str| {
        parts
            .iter()
            .position(|p| p.eq_ignore_ascii_case(key))
            .and_then(|i| parts.get(i + 1))
            .copied()
    };
    match (after("resourceGroups"), after(kind)) {
        (Some(group), Some(name)) if !group.is_empty() && !name.is_empty() => Ok(Resource {
            id: id.to_owned(),
            name: name.to_owned(),
            group: group.to_owned(),
        }),
        _ => Err(refuse(format!(
            "not one Microsoft.App/{kind} resource (no such ARM id); pass what `{show}` prints"
        ))),
    }
}

/// The ARM API version the `az rest` fixes name: a GA version of
/// Microsoft.App that has `ingress.clientCertificateMode`.
const API_VERSION: &str = "2024-03-01";

fn app_checks(app: &Value, res: &Resource, expect_app_id: Option<&str>, out: &mut Vec<Finding>) {
    let (name, group) = (res.name.as_str(), res.group.as_str());
    let config = &props(app)["configuration"];
    let ingress = &config["ingress"];
    // The CLI has no flag for clientCertificateMode; Microsoft's guide
    // ("Configure client certificate authentication in Azure Container
    // Apps", learn.microsoft.com/azure/container-apps/client-certificate-authorization)
    // patches the app with `az rest --method patch`, as here.
    let set_mode = |mode: &str| {
        format!(
            "az rest --method patch --url \"https://management.azure.com{}?api-version={API_VERSION}\" --body '{{\"properties\":{{\"configuration\":{{\"ingress\":{{\"clientCertificateMode\":\"{mode}\"}}}}}}}}'",
            res.id
        )
    };
    if !ingress.is_object() {
        out.push(finding(
            "ingress_disabled",
            Severity::Error,
            format!("{name} has no ingress: nothing terminates mTLS in front of it and no X-Forwarded-Client-Cert is ever sent"),
            // learn.microsoft.com/cli/azure/containerapp/ingress#az-containerapp-ingress-enable
            format!("az containerapp ingress enable --name {name} --resource-group {group} --type external --target-port <the port {name} listens on>, then: {}", set_mode("require")),
        ));
    } else {
        match ingress["clientCertificateMode"].as_str().map(str::to_ascii_lowercase).as_deref() {
            None | Some("ignore") => out.push(finding(
                "client_cert_ignored",
                Severity::Error,
                format!("{name}: ingress.clientCertificateMode is missing or \"ignore\": the ingress never asks for a client certificate, so {name} never sees the header"),
                set_mode("require"),
            )),
            Some("accept") => out.push(finding(
                "client_cert_accept",
                Severity::Warning,
                format!("{name}: ingress.clientCertificateMode is \"accept\": requests without a certificate reach {name} with no header"),
                format!("enforce per route (policy mode = \"accept\" with the ClientCert extractor on protected routes), or require one: {}", set_mode("require")),
            )),
            Some("require") => out.push(finding(
                "client_cert_require",
                Severity::Info,
                format!("{name}: ingress.clientCertificateMode is \"require\": a caller that sends no certificate gets 403 from the ingress itself, before {name} (test with curl --cert and --key, or `xfcc probe --cert --key`); the ingress accepts self-signed certificates, so the policy of {name} is the real check"),
                "pin thumbprints or require a chain to your CA in the policy",
            )),
            Some(other) => out.push(finding(
                "client_cert_mode_unknown",
                Severity::Error,
                format!("{name}: ingress.clientCertificateMode {other:?} is not require, accept or ignore"),
                set_mode("require"),
            )),
        }
    }
    let dapr = &config["dapr"];
    // learn.microsoft.com/cli/azure/containerapp/dapr#az-containerapp-dapr-enable
    let enable = |id: &str| {
        format!(
            "az containerapp dapr enable --name {name} --resource-group {group} --dapr-app-id {id}"
        )
    };
    if dapr["enabled"].as_bool() != Some(true) {
        // Only a concern when other apps reach this one by Dapr service
        // invocation: say so, rather than assume it.
        out.push(finding(
            "dapr_disabled",
            Severity::Info,
            format!("Dapr is not enabled on {name}: if other apps call it by Dapr service invocation, those calls fail (and get no sidecar mTLS); if nothing does, ignore this"),
            enable(expect_app_id.unwrap_or(name)),
        ));
    } else {
        match dapr["appId"].as_str().filter(|s| !s.is_empty()) {
            None => out.push(finding(
                "dapr_app_id_unset",
                Severity::Warning,
                format!("Dapr is enabled on {name} without an appId; it defaults to the app name ({name})"),
                format!("set it explicitly: {}", enable(expect_app_id.unwrap_or(name))),
            )),
            Some(id) => {
                let expected = expect_app_id.unwrap_or(name);
                if id != expected {
                    out.push(finding(
                        "dapr_app_id_mismatch",
                        Severity::Warning,
                        format!("the Dapr appId of {name} is {id:?}, but callers expect {expected:?}: their invocations will not reach {name}"),
                        format!("use one ID: {}, or set the callers' target app ID to {id:?}", enable(expected)),
                    ));
                }
            }
        }
    }
}

fn env_checks(env: &Value, res: &Resource, out: &mut Vec<Finding>) {
    let p = props(env);
    // Older API versions name the same setting peerAuthentication.mtls.enabled:
    // read either, and say something only where they disagree.
    let newer = p["peerTrafficConfiguration"]["encryption"]["enabled"].as_bool();
    let legacy = p["peerAuthentication"]["mtls"]["enabled"].as_bool();
    let fix = format!(
        "az containerapp env update --name {} --resource-group {} --enable-peer-to-peer-encryption",
        res.name, res.group
    );
    match (newer, legacy) {
        (Some(n), Some(l)) if n != l => out.push(finding(
            "peer_encryption_conflict",
            Severity::Warning,
            format!("environment {}: peerTrafficConfiguration.encryption.enabled is {n} but the older peerAuthentication.mtls.enabled is {l}: templates and the portal may disagree on whether app-to-app traffic is encrypted (the newer name is what current API versions apply)", res.name),
            format!("set both the same, or drop peerAuthentication from your templates: {fix}"),
        )),
        (None, Some(l)) => out.push(finding(
            "legacy_peer_authentication",
            Severity::Info,
            format!("environment {}: peerAuthentication.mtls.enabled = {l} (the older name of peerTrafficConfiguration.encryption.enabled), read as that setting", res.name),
            "nothing to do; new templates use peerTrafficConfiguration.encryption.enabled",
        )),
        _ => {}
    }
    if newer.or(legacy) != Some(true) {
        out.push(finding(
            "peer_encryption_off",
            Severity::Warning,
            format!("environment {}: peerTrafficConfiguration.encryption.enabled is off or missing: direct app-to-app traffic in the environment is not encrypted", res.name),
            // learn.microsoft.com/cli/azure/containerapp/env#az-containerapp-env-update
            fix,
        ));
    }
}

/// Checks the policy file and returns the policy it builds, if it builds
/// (the proxy checks judge the pair with it).
fn policy_checks(
    config: Result<PolicyConfig, xfcc::ConfigError>,
    now: SystemTime,
    out: &mut Vec<Finding>,
) -> Option<xfcc::Policy> {
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            out.push(finding(
                "policy_invalid",
                Severity::Error,
                e.to_string(),
                "fix the policy file (or the variable it names)",
            ));
            return None;
        }
    };
    for (i, rule) in config.rules().iter().enumerate() {
        let name = rule.name().map_or_else(|| i.to_string(), str::to_owned);
        for t in rule.values("thumbprint").unwrap_or_default() {
            if let Err(e) = Thumbprint::parse(t) {
                out.push(finding(
                    "bad_thumbprint",
                    Severity::Error,
                    format!("rule {name:?}: {e}"),
                    "copy the SHA-256 (64 hex digits) or SHA-1 (40 hex digits) thumbprint of the client certificate",
                ));
            }
        }
    }
    let soon = now + Duration::from_secs(30 * 86_400);
    let files = config.chains().flat_map(|(set, c)| {
        let anchors = c.trust_anchors().iter().map(move |a| (set, a, false));
        anchors.chain(c.crls().iter().map(move |crl| (set, crl, true)))
    });
    for (set, written, is_crl) in files {
        let file_path = config.resolve(written);
        let shown = file_path.display();
        let Ok(text) = std::fs::read(&file_path) else {
            out.push(finding(
                "anchor_unreadable",
                Severity::Error,
                format!("chain {set:?}: cannot read {shown}"),
                "fix the path (relative to the policy file)",
            ));
            continue;
        };
        if is_crl {
            continue;
        }
        let text = String::from_utf8_lossy(&text);
        let blocks: Vec<&str> = crate::pem_blocks(&text).collect();
        if blocks.is_empty() {
            out.push(finding(
                "bad_anchor",
                Severity::Error,
                format!("chain {set:?}: {shown} holds no PEM certificate"),
                "point trust_anchors at a PEM bundle of your CA certificates",
            ));
        }
        for (i, block) in blocks.iter().enumerate() {
            match xfcc::inspect::decode_certificate(block.trim()) {
                Err(e) => out.push(finding("bad_anchor", Severity::Error, format!("chain {set:?}: {shown} certificate {i}: {e}"), "replace it with the CA certificate in PEM")),
                Ok(c) if c.not_after() < now => out.push(finding(
                    "anchor_expired",
                    Severity::Error,
                    format!("chain {set:?}: {} expired on {}", c.subject(), c.not_after_rfc3339()),
                    "rotate the CA and update trust_anchors",
                )),
                Ok(c) if c.not_after() < soon => out.push(finding(
                    "anchor_expiring",
                    Severity::Warning,
                    format!("chain {set:?}: {} expires on {} (within 30 days)", c.subject(), c.not_after_rfc3339()),
                    "plan the CA rotation: add the new CA to trust_anchors before the old one expires",
                )),
                Ok(_) => {}
            }
        }
    }
    match config.build() {
        Ok(policy) => {
            for w in policy.warnings() {
                out.push(finding(w.code(), Severity::Warning, w.message(), w.fix()));
            }
            Some(policy)
        }
        Err(e) => {
            if !out.iter().any(|f| {
                matches!(
                    f.code,
                    "bad_thumbprint" | "bad_anchor" | "anchor_unreadable"
                )
            }) {
                out.push(finding(
                    "policy_invalid",
                    Severity::Error,
                    e.to_string(),
                    "fix the policy file",
                ));
            }
            None
        }
    }
}

/// What `doctor` is asked to read.
pub(crate) struct Inputs<'a> {
    pub(crate) app: Option<&'a Path>,
    pub(crate) env: Option<&'a Path>,
    pub(crate) policy: Option<&'a Path>,
    /// The policy the app builds from its environment (`XFCC_*`, the
    /// recipe's `ALLOWED_CERT_*`), instead of a file.
    pub(crate) policy_env: bool,
    pub(crate) expect_app_id: Option<&'a str>,
    pub(crate) proxies: &'a [PathBuf],
    pub(crate) proxy_kind: Option<ProxyKind>,
    pub(crate) header: Option<&'a str>,
}

pub(crate) fn run(inputs: &Inputs<'_>, json_out: bool) -> Result<u8, Failure> {
    let mut findings = Vec::new();
    if inputs.app.is_none() && inputs.proxies.is_empty() {
        return Err(Failure::usage(
            "give --app (az containerapp show -o json) or --proxy (a proxy configuration file), or both",
        ));
    }
    if inputs.env.is_some() && inputs.app.is_none() {
        return Err(Failure::usage("--env needs --app"));
    }
    if let Some(app) = inputs.app {
        let app_json = read_json(app)?;
        let app_res = resource(&app_json, "containerApps", "show", app)?;
        let env_json = inputs.env.map(read_json).transpose()?;
        let env_res = match (&env_json, inputs.env) {
            (Some(v), Some(path)) => Some(resource(v, "managedEnvironments", "env show", path)?),
            _ => None,
        };
        app_checks(&app_json, &app_res, inputs.expect_app_id, &mut findings);
        if let (Some(v), Some(res)) = (&env_json, &env_res) {
            env_checks(v, res, &mut findings);
        }
    }
    if inputs.policy.is_some() && inputs.policy_env {
        return Err(Failure::usage(
            "give --policy (a policy file) or --policy-env (the policy from the environment), not both",
        ));
    }
    let config = if inputs.policy_env {
        Some(PolicyConfig::from_env())
    } else {
        inputs.policy.map(PolicyConfig::from_toml_file)
    };
    let built = config.and_then(|c| policy_checks(c, SystemTime::now(), &mut findings));
    // The Azure Container Apps ingress accepts any client certificate: a
    // policy that says the proxy verifies them, to allow a rule of names
    // only, says what is not so.
    if inputs.app.is_some()
        && let Some(policy) = &built
        && policy.proxy_verifies_chain()
        && let Some(rule) = policy.name_only_rules().next()
    {
        findings.push(finding(
            "proxy_verifies_chain_false",
            Severity::Error,
            format!(
                "the policy says proxy_verifies_chain = true, but the Azure Container Apps ingress verifies no client certificate (it accepts self-signed ones): rule {rule:?} checks only names, so a self-signed certificate bearing them is allowed"
            ),
            format!(
                "remove proxy_verifies_chain and add chain (your CA in [chain.<set>] trust_anchors, or XFCC_CHAIN_ANCHORS) or thumbprint to rule {rule:?}"
            ),
        ));
    }
    let view = PolicyView {
        header: inputs.header.map(str::to_ascii_lowercase),
        policy: built.as_ref().and_then(PolicyFacts::of),
    };
    for path in inputs.proxies {
        // A configuration is small: a larger file is refused before it is
        // read, so the doctor's time and memory stay bounded.
        let len = std::fs::metadata(path)
            .map_err(|e| Failure::io(path.display(), &e))?
            .len();
        if len > crate::proxy::MAX_BYTES as u64 {
            return Err(Failure {
                exit: 2,
                code: "too_large",
                detail: "too_large",
                offset: None,
                message: format!(
                    "{}: {len} bytes, more than a proxy configuration (4 MiB)",
                    path.display()
                ),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|e| Failure::io(path.display(), &e))?;
        let kind = inputs
            .proxy_kind
            .or_else(|| ProxyKind::detect(path, &text))
            .ok_or_else(|| Failure {
                exit: 2,
                code: "unknown_proxy",
                detail: "unknown_proxy",
                offset: None,
                message: format!(
                    "{}: cannot tell which proxy this configuration is for: pass --proxy-kind envoy, nginx, haproxy or caddy",
                    path.display()
                ),
            })?;
        lint(kind, path, &text, &view, &mut findings);
    }
    let worst = findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Info);
    if json_out {
        let list: Vec<Value> = findings
            .iter()
            .map(|f| json!({"code": f.code, "severity": f.severity.name(), "message": f.message, "fix": f.fix}))
            .collect();
        outln!(
            "{}",
            json!({"ok": worst != Severity::Error, "findings": list})
        );
    } else {
        for f in &findings {
            outln!(
                "[{}] {}: {}\n    fix: {}",
                f.severity.name(),
                f.code,
                f.message,
                f.fix
            );
        }
        let errors = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        outln!("\n{} finding(s), {errors} error(s)", findings.len());
    }
    Ok(u8::from(worst == Severity::Error))
}
