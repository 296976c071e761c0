'use strict'
// The Node package beside what the published Express recipe does, in one
// process (issue 45's goals: 20x the recipe's check uncached, 100x cached).
//
// `recipe` is the recipe's check with its bugs fixed so that it reads real
// Envoy output at all: the leaf's `Cert="..."` found by regular expression
// and URL-decoded (the recipe only replaced "\n"), loaded with
// crypto.X509Certificate, its SHA-256 fingerprint and subject CN compared
// with the allow lists. As weak as the recipe otherwise: no consistency,
// validity, element or chain checks. `xfcc` verifies the same header with
// the Rust core, uncached (XFCC_CACHE=0) and cached (1,024 entries).
//
//     node benches/node/bench.js [--seconds N] [--json]
//
// Figures are this machine's: compare ratios across machines, not times.

const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '../..')
const { Policy } = require(path.join(ROOT, 'crates/xfcc-node'))
const HEADER = fs.readFileSync(path.join(ROOT, 'crates/xfcc/tests/fixtures/envoy/rsa-chain.txt'), 'utf8')
const CN = 'client-app.contoso.example'

const allowedCommonNames = new Set([CN])
const allowedFingerprints = new Set()

function recipe (headerValue) {
  const match = headerValue.match(/Cert="([\s\S]*?)"(?:;|$)/)
  if (!match) throw new Error('leaf certificate missing from XFCC header')
  const certificate = new crypto.X509Certificate(decodeURIComponent(match[1]))
  const cn = /CN=([^,\n]+)/.exec(certificate.subject)
  const commonName = cn ? cn[1] : null
  const fingerprint = certificate.fingerprint256.replace(/:/g, '').toUpperCase()
  if (allowedFingerprints.has(fingerprint) || (commonName && allowedCommonNames.has(commonName))) {
    return fingerprint
  }
  throw new Error('client certificate not allowlisted')
}

/** Median of five runs of the mean time per call, in microseconds. */
function perCall (f, seconds) {
  const runs = []
  for (let r = 0; r < 5; r++) {
    let n = 0
    const start = process.hrtime.bigint()
    let elapsed
    for (;;) {
      for (let i = 0; i < 200; i++) f()
      n += 200
      elapsed = Number(process.hrtime.bigint() - start) / 1e9
      if (elapsed >= seconds / 5) break
    }
    runs.push(elapsed / n * 1e6)
  }
  return runs.sort((a, b) => a - b)[2]
}

function main () {
  const args = process.argv.slice(2)
  const at = args.indexOf('--seconds')
  const seconds = at >= 0 ? Number(args[at + 1]) : Number(process.env.NODE_BENCH_SECONDS || 5)
  // The recipe's check is names only: so is this policy (which then needs
  // the operator's word that the proxy verifies client certificates).
  const env = { XFCC_ALLOWED_SUBJECT_CNS: CN, XFCC_PROXY_VERIFIES_CHAIN: 'true' }
  const uncached = Policy.fromEnv({ ...env, XFCC_CACHE: '0' })
  const cached = Policy.fromEnv(env)
  // The same answer first: both allow the header, with the same thumbprint.
  const want = recipe(HEADER)
  if (uncached.verify(HEADER).sha256 !== want || cached.verify(HEADER).sha256 !== want) {
    throw new Error('xfcc and the recipe disagree on the header')
  }
  const rawHeaders = ['Host', 'app', 'X-Forwarded-Client-Cert', HEADER, 'Accept', '*/*']
  const out = {
    recipe_us: perCall(() => recipe(HEADER), seconds),
    xfcc_uncached_us: perCall(() => uncached.verify(HEADER), seconds),
    xfcc_cached_us: perCall(() => cached.verify(HEADER), seconds),
    call_overhead_us: perCall(() => cached.mode, seconds),
    decide_cached_us: perCall(() => cached.decide(rawHeaders, '10.0.0.4'), seconds),
    refused_cached_us: perCall(() => cached.decide(['Host', 'app'], '10.0.0.4'), seconds)
  }
  out.uncached_speedup = out.recipe_us / out.xfcc_uncached_us
  out.cached_speedup = out.recipe_us / out.xfcc_cached_us
  if (args.includes('--json')) {
    console.log(JSON.stringify(out))
    return
  }
  console.log('| measure | value |')
  console.log('|---|---|')
  console.log(`| recipe's check in Node (regex, decodeURIComponent, X509Certificate, SHA-256, CN) | ${out.recipe_us.toFixed(1)} µs |`)
  console.log(`| xfcc, uncached | ${out.xfcc_uncached_us.toFixed(2)} µs (${out.uncached_speedup.toFixed(0)}x) |`)
  console.log(`| xfcc, cached | ${out.xfcc_cached_us.toFixed(2)} µs (${out.cached_speedup.toFixed(0)}x) |`)
  console.log(`| a call into the addon that does nothing (\`policy.mode\`) | ${out.call_overhead_us.toFixed(3)} µs |`)
  console.log(`| the middleware's verdict from a request's rawHeaders, cached | ${out.decide_cached_us.toFixed(2)} µs |`)
  console.log(`| the same, refused (\`missing\`): the Rejection object | ${out.refused_cached_us.toFixed(2)} µs |`)
}

main()
