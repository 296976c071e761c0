"""The hostile table (crates/xfcc/tests/fixtures/hostile.json) for the
Python runners, judged exactly as the Rust runners judge it
(crates/xfcc/tests/support/hostile.rs): every case in both modes, each
against a real server, over a raw connection (header names, duplicates and
paths sent as written)."""

from __future__ import annotations

import json
import socket
import time
from typing import Callable, Dict, List, Optional, Tuple

from conftest import CAPTURES, ROOT

TABLE = json.loads((ROOT / "crates/xfcc/tests/fixtures/hostile.json").read_text())
#: Behind a real server every client is 127.0.0.1: a trusted peer is that
#: address; for an untrusted one, the policy trusts another.
LOOPBACK, ELSEWHERE = "127.0.0.1", "10.0.0.5"


class Case:
    def __init__(self, row: dict, report: bool, runner: str) -> None:
        self.name = row["name"]
        self.report = report
        self.websocket = row.get("kind") == "websocket"
        self.path = row["path"]
        trusted = ELSEWHERE if row.get("peer") == "untrusted" else LOOPBACK
        policy = TABLE["policies"][row["policy"]].replace("{trusted}", trusted)
        self.policy_toml = ('mode = "report"\n' + policy) if report else policy
        self.headers = [(n, _value(v, trusted)) for n, v in row["headers"]]
        self.expect = row.get("report") if report and "report" in row else (
            {"reported_from": row["expect"]} if report else row["expect"])

    @property
    def label(self) -> str:
        return f"{self.name} (report)" if self.report else self.name


def _value(v: str, trusted: str) -> bytes:
    if v == "@oversized":
        return b"A" * 70_000
    if v.startswith("@"):
        return (CAPTURES / f"{v[1:]}.txt").read_text().strip().encode()
    return v.replace("{trusted}", trusted).encode()


def cases(runner: str) -> List[Case]:
    unsupported = TABLE["unsupported"].get(runner, {})
    out = []
    for row in TABLE["cases"]:
        reason = unsupported.get(row["name"])
        if reason is not None:
            assert len(reason) > 10, f"{runner}: {row['name']} is unsupported without a reason"
            continue
        out += [Case(row, False, runner), Case(row, True, runner)]
    assert len(out) >= 40
    return out


def raw_request(port: int, case: Case) -> Tuple[int, object]:
    """(status, JSON body or first WebSocket frame, else None) for one
    request written by hand; `refused` answers without a body are None."""
    lines = [f"GET {case.path} HTTP/1.1", "Host: 127.0.0.1"]
    if case.websocket:
        lines += ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                  "Sec-WebSocket-Version: 13"]
    else:
        lines.append("Connection: close")
    raw = ("\r\n".join(lines) + "\r\n").encode()
    for name, value in case.headers:
        raw += name.encode() + b": " + value + b"\r\n"
    raw += b"\r\n"
    got = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(raw)
        except OSError:
            pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _complete(got):
            try:
                chunk = s.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
    head, _, rest = got.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/") else 0
    if status == 101 and len(rest) >= 2:
        n, at = rest[1] & 0x7F, 2
        if n == 126:
            n, at = int.from_bytes(rest[2:4], "big"), 4
        return status, _json(rest[at:at + n])
    if b"transfer-encoding: chunked" in head.lower():
        rest = rest.split(b"\r\n", 2)[1] if rest.count(b"\r\n") >= 2 else rest
    return status, _json(rest)


def _complete(data: bytes) -> bool:
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return False
    if not data.startswith(b"HTTP/1.1 101"):
        return False  # read to the close (Connection: close)
    f = data[head_end + 4:]
    if len(f) < 2:
        return False
    n, at = f[1] & 0x7F, 2
    if n == 126:
        if len(f) < 4:
            return False
        n, at = int.from_bytes(f[2:4], "big"), 4
    return len(f) >= at + n


def _json(b: bytes) -> object:
    try:
        return json.loads(b)
    except ValueError:
        return None


def check(case: Case, status: int, body: object) -> Optional[str]:
    """What differs, or None: the same rules as the Rust judge."""
    b = body if isinstance(body, dict) else {}
    fail = lambda why: f"{case.label}: {why}: got {status} {body}"  # noqa: E731
    served = status in (200, 101)
    checked = b.get("cn") is not None or b.get("would_deny") is not None
    if b.get("protected") is True and not checked:
        return fail("the protected handler ran without a verdict")
    e = case.expect

    def codes_of(x: dict) -> List[str]:
        return list(x.get("codes", [])) + ([x["code"]] if x.get("code") else [])

    if "reported_from" in e:
        frm = e["reported_from"]
        if frm.get("refused") and not served:
            return None
        if not served:
            return fail("report mode refused")
        codes = codes_of(frm)
        if not codes and frm.get("status", 500) < 300:
            return None if (b.get("cn") is not None or frm.get("open")) else fail("allowed without the client")
        return None if b.get("would_deny") in codes else fail("not the would-be refusal")
    if e.get("refused_or_reported"):
        return fail("served without a would-be refusal") if served and b.get("would_deny") is None else None
    if e.get("never_unchecked"):
        return None
    if e.get("refused"):
        if served:
            return fail("served")
        codes = codes_of(e)
        return fail("another code") if b.get("error") and codes and b["error"] not in codes else None
    if "status" in e and status != e["status"]:
        return fail(f"status is not {e['status']}")
    if e.get("open") and b.get("open") is not True:
        return fail("not the open handler")
    codes = codes_of(e)
    if not codes:
        if b.get("error"):
            return fail("refused")
        if not e.get("open") and b.get("cn") is None and status != 101:
            return fail("allowed without the client")
        return None
    return None if b.get("error") in codes else fail(f"the code is not one of {codes}")


def run_all(runner: str, serve: Callable[[str], "object"]) -> None:
    """Runs every case against a server `serve(policy_toml)` starts (a
    context manager yielding its port), one server per policy."""
    groups: Dict[str, List[Case]] = {}
    for c in cases(runner):
        groups.setdefault(c.policy_toml, []).append(c)
    failures = []
    total = 0
    for policy_toml, group in groups.items():
        with serve(policy_toml) as port:
            for c in group:
                total += 1
                status, body = raw_request(port, c)
                why = check(c, status, body)
                if why:
                    failures.append(why)
    assert not failures, f"{runner}: {len(failures)} of {total} cases failed:\n" + "\n".join(failures)
