"""The Python package beside what the published recipe does, in one process.

`recipe` is a straightforward Python version of the recipe's check, written
for this bench: find `Cert="..."` with a regular expression, URL-decode it,
load the PEM with pyca/cryptography, take its SHA-256 and compare the
subject CN with the allow list. `xfcc` verifies the same header with the
Rust core (parse, every consistency check, validity, the rule), uncached
(`XFCC_CACHE=0`) and cached (the default 1024 entries).

Then, with wrk on PATH, requests per second of the Flask example under
gunicorn with and without the middleware.

    python benches/python/bench.py [--seconds N] [--json]

Prints a Markdown table (or JSON). Figures are this machine's: compare
ratios across machines, not times.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

import xfcc

ROOT = pathlib.Path(__file__).resolve().parents[2]
HEADER = (ROOT / "crates/xfcc/tests/fixtures/envoy/rsa-chain.txt").read_text()
CN = "client-app.contoso.example"
CERT_RE = re.compile(r'Cert="([\s\S]*?)"(?:;|$)')


def recipe(header: str, allowed=(CN,)) -> str:
    """The recipe's check, as its reader would write it, with the URL
    decoding it lacks (so that it reads real Envoy output at all): the leaf's
    PEM by regular expression, unescaped and loaded, its SHA-256 over the
    DER, the subject's first CN compared with the allow list. As weak as
    the recipe: no consistency, validity or element checks."""
    m = CERT_RE.search(header)
    if not m:
        raise ValueError("no certificate")
    pem = urllib.parse.unquote(m.group(1)).replace("\\n", "\n")
    cert = x509.load_pem_x509_certificate(pem.encode("utf-8"))
    thumbprint = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    cn = next((a.value for a in cert.subject if a.oid == NameOID.COMMON_NAME), None)
    if cn not in allowed:
        raise PermissionError("not allowed")
    return thumbprint


def per_call(f, seconds: float) -> float:
    """Median of five runs of the mean time per call, in microseconds."""
    runs = []
    for _ in range(5):
        n, start = 0, time.perf_counter()
        while True:
            for _ in range(200):
                f()
            n += 200
            elapsed = time.perf_counter() - start
            if elapsed >= seconds / 5:
                break
        runs.append(elapsed / n * 1e6)
    return sorted(runs)[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk_rps(app: str, env: dict, seconds: int) -> float:
    """Requests/s of `app` under gunicorn (2 workers) with wrk sending the
    Envoy header."""
    port = free_port()
    examples = ROOT / "crates/xfcc-python/examples"
    gunicorn = pathlib.Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen(
        [str(gunicorn), "--chdir", str(examples), "--pythonpath", str(pathlib.Path(__file__).parent),
         "-b", f"127.0.0.1:{port}", "-w", "2", "--log-level", "warning", app],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
            lua.write('wrk.headers["X-Forwarded-Client-Cert"] = ' + json.dumps(HEADER) + "\n")
        out = subprocess.run(
            ["wrk", "-t2", "-c16", f"-d{seconds}s", "-s", lua.name, f"http://127.0.0.1:{port}/cert-info"],
            capture_output=True, text=True, check=True,
        ).stdout
        os.unlink(lua.name)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if non2xx:
            raise RuntimeError(f"{app}: {non2xx.group(1)} requests not answered 200")
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("PY_BENCH_SECONDS", 5)))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    # The recipe's check is names only: so is this policy (which then needs
    # the operator's word that the proxy verifies client certificates).
    env = {"XFCC_ALLOWED_SUBJECT_CNS": CN, "XFCC_PROXY_VERIFIES_CHAIN": "true"}
    uncached = xfcc.Policy.from_env({**env, "XFCC_CACHE": "0"})
    cached = xfcc.Policy.from_env(env)
    # The same answer first: both allow the header, with the same thumbprint.
    assert recipe(HEADER) == uncached.verify(HEADER).sha256 == cached.verify(HEADER).sha256

    out = {
        "recipe_us": per_call(lambda: recipe(HEADER), args.seconds),
        "xfcc_uncached_us": per_call(lambda: uncached.verify(HEADER), args.seconds),
        "xfcc_cached_us": per_call(lambda: cached.verify(HEADER), args.seconds),
    }
    # The rewritten-peer check's worst case: a request from a trusted peer
    # (the proxy appends to what the client sent) whose 64 KB
    # X-Forwarded-For holds the peer's address as the prefix of every entry.
    from xfcc._guard import rewritten_peer

    trusting = xfcc.Policy.from_env({**env, "XFCC_TRUSTED_PEERS": "10.0.0.5/32"})
    worst = ", ".join("10.0.0.55" for _ in range(64 * 1024 // 11))
    out["rewritten_peer_usual_us"] = per_call(lambda: rewritten_peer(trusting, "10.0.0.5", ["192.0.2.7, 198.51.100.2"]), args.seconds)
    out["rewritten_peer_worst_64k_us"] = per_call(lambda: rewritten_peer(trusting, "10.0.0.5", [worst]), args.seconds)
    # Where the time goes: a call into the extension that does nothing (a
    # property), the middleware's whole request path for an allowed request
    # (the verdict from the raw header list, cached), and for a refused one
    # with its log record written (at INFO, to a handler that drops it) and
    # with the record held back by the rate bound.
    import logging

    from xfcc._guard import RejectionLog, RequestPath

    out["call_overhead_us"] = per_call(lambda: cached.mode, args.seconds)
    quiet = logging.getLogger("xfcc")
    quiet.handlers[:] = [logging.NullHandler()]
    quiet.propagate = False
    quiet.setLevel(logging.INFO)
    path = RequestPath(cached, (), RejectionLog(None), "bench")
    allowed = [(b"x-forwarded-client-cert", HEADER.encode()), (b"host", b"app"), (b"accept", b"*/*")]
    refused = [(b"host", b"app"), (b"accept", b"*/*")]
    out["request_path_allowed_us"] = per_call(lambda: path.answer("/cert-info", allowed, "10.0.0.4", []), args.seconds)
    out["request_path_refused_logged_us"] = per_call(lambda: path.answer("/cert-info", refused, "10.0.0.4", []), args.seconds)
    bounded = RequestPath(cached, (), RejectionLog(1), "bench")
    bounded.answer("/cert-info", refused, "10.0.0.4", [])
    out["request_path_refused_rate_bound_us"] = per_call(lambda: bounded.answer("/cert-info", refused, "10.0.0.4", []), args.seconds)
    quiet.handlers[:] = []
    quiet.propagate = True
    out["uncached_speedup"] = out["recipe_us"] / out["xfcc_uncached_us"]
    out["cached_speedup"] = out["recipe_us"] / out["xfcc_cached_us"]
    if shutil.which("wrk"):
        secs = max(2, int(args.seconds))
        out["flask_plain_rps"] = wrk_rps("plain_flask:app", env, secs)
        out["flask_xfcc_rps"] = wrk_rps("flask_app:app", env, secs)
    if args.json:
        print(json.dumps(out))
        return 0
    print("| measure | value |")
    print("|---|---|")
    print(f"| recipe's check in Python (regex, unquote, cryptography, SHA-256, CN) | {out['recipe_us']:.1f} µs |")
    print(f"| xfcc, uncached | {out['xfcc_uncached_us']:.2f} µs ({out['uncached_speedup']:.0f}x) |")
    print(f"| xfcc, cached | {out['xfcc_cached_us']:.2f} µs ({out['cached_speedup']:.0f}x) |")
    print(f"| a call into the extension that does nothing (`policy.mode`) | {out['call_overhead_us']:.3f} µs |")
    print(f"| the middleware's request path, allowed (cached verdict from the raw header list, ClientCert object) | {out['request_path_allowed_us']:.2f} µs |")
    print(f"| the middleware's request path, refused (`missing`), its log record written | {out['request_path_refused_logged_us']:.2f} µs |")
    print(f"| the same, the record held back by the rate bound | {out['request_path_refused_rate_bound_us']:.2f} µs |")
    print(f"| rewritten-peer check, a usual X-Forwarded-For | {out['rewritten_peer_usual_us']:.2f} µs |")
    print(f"| rewritten-peer check, worst case: 64 KB X-Forwarded-For naming the peer's prefix in every entry | {out['rewritten_peer_worst_64k_us']:.0f} µs |")
    if "flask_plain_rps" in out:
        print(f"| Flask example under gunicorn (2 workers), the client handed in without a check | {out['flask_plain_rps']:.0f} req/s |")
        print(f"| Flask example with the xfcc middleware | {out['flask_xfcc_rps']:.0f} req/s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
