#!/usr/bin/env python3
"""The doctor's worst case: `xfcc doctor --proxy` on the largest
configurations it reads (just under its 4 MiB limit), one per proxy, each
with thousands of places that proxy (nginx locations, HAProxy backends,
Caddy handle branches, Envoy routes). Prints the wall time and peak RSS of
each run. The doctor must stay linear: each level of a configuration is
summarised once, and at most 25 findings of one code are listed.

Usage: benches/doctor-worst.py [path/to/xfcc]   (default: target/release/xfcc)
"""
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def nginx(n):
    out = ["events {}\nhttp {\n  server {\n    listen 443 ssl;\n    ssl_verify_client on;\n"]
    out += [f"    location /p{i}/ {{ proxy_pass http://app{i % 50}; }}\n" for i in range(n)]
    return "".join(out) + "  }\n}\n"


def nginx_mixed(n):
    """Every other location sets the header: the rest fall back to the
    names the server mentions (one name, however many lines repeat it)."""
    out = ["events {}\nhttp {\n  server {\n    listen 443 ssl;\n    ssl_verify_client on;\n"]
    out += [f"    location /p{i}/ {{ {'proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert; ' if i % 2 else ''}proxy_pass http://app; }}\n" for i in range(n)]
    return "".join(out) + "  }\n}\n"


def haproxy(n):
    out = ["frontend fe\n  bind :443 ssl crt a.pem verify required ca-file c.pem\n"]
    out += [f"  use_backend b{i % 3000} if {{ path_beg /p{i} }}\n" for i in range(n)]
    out += [f"backend b{i}\n  http-request set-header X-SSL-Client-Cert %[ssl_c_der,base64]\n  server s 127.0.0.1:{1000 + i}\n" for i in range(3000)]
    return "".join(out)


def caddy(n):
    out = ["https://a.example {\n  tls a.pem a.key {\n    client_auth {\n      mode require_and_verify\n      trusted_ca_cert_file c.pem\n    }\n  }\n"]
    out += [f"  handle /p{i}/* {{\n    reverse_proxy 127.0.0.1:{1000 + i % 5000}\n  }}\n" for i in range(n)]
    out.append("  reverse_proxy 127.0.0.1:1 {\n    header_up X-Client-Cert {http.request.tls.client.certificate_der_base64}\n  }\n}\n")
    return "".join(out)


def nginx_uwsgi(n):
    """uwsgi_pass locations, every other one with its own uwsgi_param
    lines (which drop the server's)."""
    out = ["events {}\nhttp {\n  server {\n    listen 443 ssl;\n    ssl_verify_client on;\n",
           "    uwsgi_param HTTP_X_SSL_CLIENT_CERT $ssl_client_escaped_cert;\n"]
    out += [f"    location /p{i}/ {{ {'uwsgi_param REQUEST_METHOD $request_method; ' if i % 2 else ''}uwsgi_pass 127.0.0.1:{1000 + i % 5000}; }}\n" for i in range(n)]
    return "".join(out) + "  }\n}\n"


def haproxy_defaults(n):
    """Named defaults sections, each with rules, taken by the frontends."""
    out = []
    for i in range(n):
        out.append(f"defaults d{i}\n  mode http\n  http-request set-header X-SSL-Client-Cert %[ssl_c_der,base64]\n")
        out.append(f"frontend f{i} from d{i}\n  bind :{1000 + i % 60000} ssl crt a.pem verify required ca-file c.pem\n  default_backend b\n")
    out.append("defaults plain\n  mode http\nbackend b\n  server s 127.0.0.1:1\n")
    return "".join(out)


def caddy_json(n):
    """Caddy's JSON: thousands of routes that match everything, each with
    a headers handler (carried to the routes after it) and a
    reverse_proxy."""
    import json as _json
    routes = [{"handle": [{"handler": "headers", "request": {"set": {f"X-H{i % 40}": ["v"]}}},
                          {"handler": "reverse_proxy", "upstreams": [{"dial": f"127.0.0.1:{1000 + i % 5000}"}],
                           "headers": {"request": {"set": {"X-Client-Cert": ["{http.request.tls.client.certificate_der_base64}"]}}}}]}
              for i in range(n)]
    server = {"listen": [":443"], "routes": routes,
              "tls_connection_policies": [{"client_authentication": {"mode": "require_and_verify", "trusted_ca_certs_pem_files": ["c.pem"]}}]}
    return _json.dumps({"apps": {"http": {"servers": {"s": server}}}})


def envoy(n):
    routes = "".join(
        f"              - match: {{prefix: \"/p{i}/\"}}\n                route: {{cluster: app}}\n"
        f"                request_headers_to_add:\n                - header: {{key: X-SSL-Client-Cert, value: \"%DOWNSTREAM_PEER_CERT%\"}}\n"
        for i in range(n))
    return ("static_resources:\n  listeners:\n  - name: edge\n    filter_chains:\n    - filters:\n"
            "      - name: envoy.filters.network.http_connection_manager\n        typed_config:\n"
            "          forward_client_cert_details: SANITIZE_SET\n          set_current_client_cert_details: {cert: true}\n"
            "          route_config:\n            virtual_hosts:\n            - name: app\n              domains: [\"*\"]\n"
            f"              routes:\n{routes}      transport_socket:\n        name: tls\n        typed_config:\n"
            "          require_client_certificate: true\n          common_tls_context:\n"
            "            validation_context: {trusted_ca: {filename: c.pem}}\n")


def main():
    xfcc = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "target/release/xfcc")
    limit = 4 << 20
    print("| proxy | file | places | wall | peak RSS | findings |")
    print("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as d:
        for kind, make, n in [("nginx", nginx, 80000), ("nginx", nginx_mixed, 80000), ("nginx", nginx_uwsgi, 80000),
                              ("haproxy", haproxy, 80000), ("haproxy", haproxy_defaults, 40000), ("caddy", caddy, 70000),
                              ("caddy", caddy_json, 30000), ("envoy", envoy, 20000)]:
            text = make(n)
            while len(text) > limit:
                n = n * 9 // 10
                text = make(n)
            path = Path(d) / f"{make.__name__}.conf"
            path.write_text(text)
            out = Path(d) / f"{make.__name__}.out"
            start = time.perf_counter()
            with open(out, "w") as f:
                p = subprocess.Popen([xfcc, "doctor", "--proxy-kind", kind, "--proxy", str(path)], stdout=f, stderr=subprocess.STDOUT)
                _, _, usage = os.wait4(p.pid, 0)
            wall = time.perf_counter() - start
            lines = out.read_text().strip().splitlines()
            print(f"| {make.__name__} | {len(text) / 1048576:.1f} MiB | {n} | {wall:.2f} s | {usage.ru_maxrss / 1024:.0f} MiB | {lines[-1] if lines else ''} |")


if __name__ == "__main__":
    main()
