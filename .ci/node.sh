#!/usr/bin/env bash
# The Node package (crates/xfcc-node): its npm dependencies from the lock
# file, the addon's lints, the addon built once with @napi-rs/cli, the
# types checked with tsc, node --test against the built addon, then the
# package packed (npm pack) and installed from the tarball into a clean
# project that uses it. Usage: .ci/node.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
crate=$root/crates/xfcc-node
cd "$crate"
npm ci --no-audit --no-fund --loglevel=error
cargo fmt --manifest-path Cargo.toml --check
cargo clippy --quiet --manifest-path Cargo.toml --locked --release -- -D warnings
npx napi build --platform --release --js binding.js --dts binding.d.ts -- --locked
ls -l ./*.node
npx tsc -p tsconfig.json
echo "tsc: the declarations and test/types.ts check"
node --test test/
# The package as users install it: a tarball with the addon built here
# (linux-x64-gnu; the release workflow builds the other platforms).
work=$(mktemp -d)
npm pack --pack-destination "$work" --loglevel=error >/dev/null
tarball=$(ls "$work"/xfcc-*.tgz)
tar -tzf "$tarball" | sort
mkdir "$work/clean"
cd "$work/clean"
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error "$tarball"
node - "$root/crates/xfcc/tests/fixtures/envoy/rsa-chain.txt" <<'JS'
const fs = require('node:fs')
const { Policy, Rejection } = require('xfcc')
const express = require('xfcc/express')
const fastify = require('xfcc/fastify')
const hono = require('xfcc/hono')
const header = fs.readFileSync(process.argv[2], 'utf8')
const policy = Policy.fromEnv({ XFCC_ALLOWED_SUBJECT_CNS: 'client-app.contoso.example', XFCC_PROXY_VERIFIES_CHAIN: 'true' })
const cert = policy.verify(header)
if (cert.subjectCn[0] !== 'client-app.contoso.example') throw new Error('not the client')
let refused = false
try { policy.verify(null) } catch (e) { refused = e instanceof Rejection && e.code === 'missing' }
if (!refused) throw new Error('no header was not refused')
for (const [name, m] of [['express', express], ['fastify', fastify], ['hono', hono]]) {
  if (typeof m !== 'function') throw new Error(`xfcc/${name} is not a function`)
}
console.log('clean project: xfcc installed from', require.resolve('xfcc'), 'verified', cert.subjectCn[0])
JS
rm -rf "$work"
