#!/usr/bin/env bash
# Packages the four published crates and runs their tests from the unpacked
# .crate files, in a workspace of their own, so a test that reaches outside its
# crate or a fixture left out by `exclude` fails here and not on a user's
# machine. The published manifests name `xfcc` by version; [patch] points that
# at the unpacked core. Registry crates build once: the target dir is shared.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
crates=(xfcc xfcc-tower xfcc-actix xfcc-cli)
version=$(cargo metadata --no-deps --format-version 1 |
  python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="xfcc"))')
rm -rf target/package
cargo package --no-verify --allow-dirty --quiet $(printf -- '-p %s ' "${crates[@]}")
# A fixed place: the test binaries bake in CARGO_MANIFEST_DIR, and cargo's
# fingerprints do not see a move of identical sources.
work=$root/target/package-test
rm -rf "$work"
mkdir -p "$work"
members=()
for c in "${crates[@]}"; do
  tar -xzf "target/package/$c-$version.crate" -C "$work"
  # No private key is ever published, not even a test CA's (the PKCS#12
  # fixtures are made with -nokeys).
  if keys=$(cd "$work/$c-$version" && { find . -name '*.key'; grep -rlE --exclude='*.rs' -- '-----BEGIN ([A-Z]+ )?PRIVATE KEY-----' .; }) && [[ -n $keys ]]; then
    echo "the $c package holds private keys: $keys" >&2
    exit 1
  fi
  members+=("\"$c-$version\"")
done
cat >"$work/Cargo.toml" <<TOML
[workspace]
resolver = "3"
members = [$(IFS=,; echo "${members[*]}")]

[patch.crates-io]
xfcc = { path = "xfcc-$version" }
TOML
cp Cargo.lock "$work/"
# The .crate keeps the sources' mtimes; touch them so cargo rebuilds what was
# packaged instead of reusing binaries built from an earlier unpacking.
find "$work" -type f -exec touch {} +
echo "unpacked: ${members[*]} in $work"
cd "$work"
CARGO_TARGET_DIR="$root/target" cargo test --workspace --all-features --no-fail-fast
