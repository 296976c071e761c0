#!/usr/bin/env bash
# Runs the axum and actix examples under wrk on 127.0.0.1, with the real
# layer (uncached and cached policy) and with a stand-in that inserts a
# certificate verified once (baseline): same routes and handlers. Prints a
# markdown table of requests/s and p99 latency. Bounded: WRK_SECONDS each
# (default 10), 1 wrk thread, 16 connections. Every server is stopped by PID.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${WRK_SECONDS:-10}
command -v wrk >/dev/null || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
(cd "$root" && cargo build --quiet --release -p xfcc-benches --bins)
bin=${CARGO_TARGET_DIR:-$root/target}/release
header=$(cat "$root/crates/xfcc/tests/fixtures/envoy/rsa-chain.txt")
pid=
trap '[[ -n $pid ]] && kill $pid 2>/dev/null; true' EXIT INT TERM

echo "| framework | protection | requests/s | p99 latency | vs baseline |"
echo "|---|---|---:|---:|---:|"
for fw in axum actix; do
  base=
  for mode in baseline layer layer-cached; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$bin/wrk-$fw" "$port" "$mode" >/dev/null 2>&1 & pid=$!
    for _ in $(seq 1 100); do curl -sf -o /dev/null -H "x-forwarded-client-cert: $header" "http://127.0.0.1:$port/cert-info" && break; sleep 0.05; done
    out=$(wrk -t1 -c16 -d"${seconds}s" --latency -H "x-forwarded-client-cert: $header" "http://127.0.0.1:$port/cert-info")
    kill $pid; wait $pid 2>/dev/null || true; pid=
    grep -q "Non-2xx" <<<"$out" && { echo "wrk-$fw $mode answered non-2xx" >&2; exit 1; }
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    [[ -z $base ]] && base=$rps
    ratio=$(python3 -c "print(f'{$rps / $base:.2f}x')")
    echo "| $fw | $mode | $rps | $p99 | $ratio |"
  done
done
