#!/usr/bin/env bash
# A mixed-traffic soak of each example (axum, actix-web) at its default
# settings: wrk with 32 connections rotates valid, denied, spoofed,
# malformed, oversized and chain-attack headers (benches/src/bin/
# soak-headers.rs) for SOAK_SECONDS (default 60) per framework, while a
# valid request is sent every 2 s beside the load. Prints a markdown table:
# requests/s, p99, the share of each status, RSS at start, end and
# high-water, log bytes per second; and fails when a target is missed:
# RSS growth under 20 MB, log under 100 KB/s, no status but 200/403/431,
# 200s only for the valid header's share, the valid request answered 200
# during and after. XFCC_LOG_RATE, when set, is passed to the examples
# (`XFCC_LOG_RATE=unlimited` shows what one event per rejection costs).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${SOAK_SECONDS:-60}
command -v wrk >/dev/null || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
(cd "$root" && cargo build --quiet --release -p xfcc-example-axum -p xfcc-example-actix && cargo build --quiet --release -p xfcc-benches --bin soak-headers)
bin=${CARGO_TARGET_DIR:-$root/target}/release
work=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill $pid 2>/dev/null; rm -rf "$work"; true' EXIT INT TERM
count=$("$bin/soak-headers" "$work")
valid=$(cat "$work"/headers/*-200-valid-envoy.txt)
rss() { awk -v k="$2" '$1 == k":" {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

echo "| framework | requests/s | p99 | 200 | 403 | 431 | other | RSS start → end (high-water), MB | log KB/s | valid request during / after |"
echo "|---|---:|---:|---:|---:|---:|---:|---|---:|---|"
failed=0
for fw in axum actix; do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  log="$work/$fw.log"
  HOST=127.0.0.1 PORT=$port XFCC_POLICY_FILE="$work/policy.toml" "$bin/xfcc-example-$fw" >"$log" 2>&1 & pid=$!
  for _ in $(seq 1 200); do curl -sf -o /dev/null -H "x-forwarded-client-cert: $valid" "http://127.0.0.1:$port/cert-info" && break; sleep 0.05; done
  start_rss=$(rss $pid VmRSS)
  start_log=$(stat -c %s "$log")
  # The valid request beside the load, every 2 s.
  ( while sleep 2; do
      curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 -H "x-forwarded-client-cert: $valid" "http://127.0.0.1:$port/cert-info" || echo 000
    done ) >"$work/$fw.during" & probe=$!
  out=$(SOAK_HEADERS="$work/headers" wrk -t1 -c32 -d"${seconds}s" --latency -s "$root/benches/soak.lua" "http://127.0.0.1:$port/cert-info")
  kill $probe; wait $probe 2>/dev/null || true
  after=$(curl -s -o /dev/null -w '%{http_code}' -H "x-forwarded-client-cert: $valid" "http://127.0.0.1:$port/cert-info" || echo 000)
  end_rss=$(rss $pid VmRSS); hwm=$(rss $pid VmHWM)
  log_bytes=$(( $(stat -c %s "$log") - start_log ))
  kill $pid; wait $pid 2>/dev/null || true; pid=
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  read -r s200 s403 s431 other < <(sed -n 's/^STATUS headers=[0-9]* s200=\([0-9]*\) s403=\([0-9]*\) s431=\([0-9]*\) other=\([0-9]*\)$/\1 \2 \3 \4/p' <<<"$out")
  total=$((s200 + s403 + s431 + other))
  during=$(sort "$work/$fw.during" | uniq -c | awk '{printf "%s%s×%s", sep, $2, $1; sep=" "}')
  verdict=$(python3 - "$fw" "$total" "$s200" "$other" "$count" "$start_rss" "$end_rss" "$log_bytes" "$seconds" "$after" "$work/$fw.during" <<'PY'
import sys
fw, total, s200, other, count = sys.argv[1], *map(int, sys.argv[2:6])
start, end = float(sys.argv[6]), float(sys.argv[7])
log_bytes, seconds, after = int(sys.argv[8]), int(sys.argv[9]), sys.argv[10]
during = open(sys.argv[11]).read().split()
problems = []
share = s200 / total if total else 0
if total == 0: problems.append("no requests")
if other: problems.append(f"{other} answers neither 200, 403 nor 431")
if abs(share - 1 / count) > 0.25 / count: problems.append(f"200 share {share:.3f}, expected {1 / count:.3f} (the valid header's)")
if end - start > 20: problems.append(f"RSS grew {end - start:.1f} MB")
if log_bytes / seconds > 100 * 1024: problems.append(f"log {log_bytes / seconds / 1024:.1f} KB/s")
if after != "200" or not during or any(c != "200" for c in during): problems.append(f"valid request: during {during}, after {after}")
print("; ".join(problems) or "ok")
PY
)
  pct() { python3 -c "print(f'{100 * $1 / max($total, 1):.1f}%')"; }
  echo "| $fw | $rps | $p99 | $(pct "$s200") | $(pct "$s403") | $(pct "$s431") | $other | $start_rss → $end_rss ($hwm) | $(python3 -c "print(f'{$log_bytes / $seconds / 1024:.1f}')") | $during / $after |"
  if [[ $verdict != ok ]]; then echo "soak $fw: $verdict" >&2; failed=1; fi
done
echo
echo "$count headers in rotation, ${seconds}s per framework, wrk -t1 -c32, XFCC_LOG_RATE=${XFCC_LOG_RATE:-unset (10 events per reason per second)}."
exit $failed
