#!/usr/bin/env bash
# The adapter and CLI crates are published on their own, so their tests read
# fixtures from inside the crate: copies of the core's, listed here. Run it
# after regenerating the core fixtures; `--check` (CI) fails if a copy differs
# from its source or is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
src=crates/xfcc/tests/fixtures
declare -A need=(
  [xfcc-tower]="envoy/json/rsa-chain.txt envoy/issuer/rsa-chain.txt envoy/json/wrong-cn.txt envoy/json/client-forced-json.txt envoy/json/edited-issuer.txt envoy/rsa-chain.txt envoy/rsa-chain-fields-only.txt envoy/wrong-cn.txt envoy/injection-semicolon.txt envoy/injection-uri.txt certs/client-rsa.der certs/inter.der certs/root.pem envoy/self-signed-lookalike.txt envoy/two-hop.txt hostile.json ../support/hostile.rs ../support/tls.rs"
  [xfcc-actix]="envoy/json/rsa-chain.txt envoy/issuer/rsa-chain.txt envoy/json/wrong-cn.txt envoy/json/client-forced-json.txt envoy/json/edited-issuer.txt envoy/rsa-chain.txt envoy/rsa-chain-fields-only.txt envoy/wrong-cn.txt envoy/injection-semicolon.txt envoy/injection-uri.txt certs/client-rsa.der certs/inter.der certs/root.pem envoy/self-signed-lookalike.txt envoy/two-hop.txt hostile.json ../support/hostile.rs ../support/tls.rs"
  [xfcc-cli]="envoy/json/rsa-chain.txt envoy/issuer/rsa-chain.txt envoy/json/client-forced-json.txt envoy/rsa-chain.txt envoy/rsa-chain-fields-only.txt envoy/p384.txt envoy/two-hop.txt envoy/wrong-cn.txt envoy/self-signed-lookalike.txt envoy/rsa-leaf-only.txt envoy/injection-semicolon.txt envoy/injection-uri.txt certs/client-rsa.der certs/client-rsa.pem certs/client-rsa-chain.pem certs/inter.pem certs/root.pem"
)
status=0
for crate in "${!need[@]}"; do
  for f in ${need[$crate]}; do
    dst=crates/$crate/tests/fixtures/$f
    if [[ ${1:-} == --check ]]; then
      cmp -s "$src/$f" "$dst" || { echo "fixture copy out of date: $dst (run .ci/fixtures.sh)" >&2; status=1; }
    else
      mkdir -p "$(dirname "$dst")"
      cp "$src/$f" "$dst"
    fi
  done
done
exit $status
