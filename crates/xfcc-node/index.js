'use strict'
// xfcc for Node.js: verify the client certificate a TLS-terminating proxy
// forwards (X-Forwarded-Client-Cert and the other proxies' forms) with the
// xfcc Rust core. Every decision is the core's (binding.js loads the
// native addon built for this platform); this file converts arguments and
// results, and throws the core's refusals as `Rejection`.

const native = require('./binding.js')

/** A setting the library cannot honour: `code` (stable), `setting`, `rule`. */
class ConfigError extends Error {
  constructor (info) {
    super(info.message)
    this.name = 'ConfigError'
    this.code = info.code
    this.setting = info.setting
    this.rule = info.rule ?? null
  }
}

/** A forwarded client certificate that does not authenticate the request. */
class Rejection extends Error {
  constructor (info) {
    super(info.message)
    fill(this, info)
  }

  /**
   * @private A Rejection without a stack trace: what a verdict carries.
   * Capturing the stack cost more than the cached verification (a refusal
   * is data the middleware answers with, not a fault in the caller).
   */
  static of (info) {
    const r = Object.create(Rejection.prototype)
    Object.defineProperty(r, 'message', { value: info.message, writable: true, configurable: true })
    return fill(r, info)
  }
}

function fill (r, info) {
  r.name = 'Rejection'
  r.code = info.code
  r.reason = info.reason
  r.detail = info.detail
  r.explanation = info.explanation ?? null
  r.hint = info.hint ?? null
  r.element = info.element ?? null
  r.peer = info.peer ?? null
  r.source = info.source ?? null
  r.wouldDeny = info.wouldDeny
  r.status = info.status
  return r
}

const WIDE = /[^\x00-\xff]/

function built (result) {
  if (result.error) throw new ConfigError(result.error)
  return new Policy(result.policy)
}

/**
 * The lines of the policy's headers in a request, as the flat list
 * `[name, value, ...]` the core reads: from Node's `rawHeaders` (each line
 * as received, repeated lines kept, so a second header line is seen), a
 * Fetch `Headers` (which has already joined repeated lines with ", "), a
 * plain object of header names to a string or an array of strings, or an
 * array of `[name, value]` pairs.
 */
function headerLines (names, headers) {
  const out = []
  const push = (name, v) => {
    // A header is bytes: HTTP servers hand them over as byte strings
    // (U+0000 to U+00FF), which the core reads back as those bytes. A
    // character above that was not received over HTTP: refused, never
    // truncated to a byte.
    if (typeof v === 'string' && WIDE.test(v)) {
      throw new TypeError(`xfcc: the ${name} header holds a character above U+00FF: header values are byte strings`)
    }
    out.push(name, v)
  }
  if (headers == null) return out
  if (Array.isArray(headers) && (headers.length === 0 || typeof headers[0] === 'string')) {
    // rawHeaders: [name, value, name, value, ...]
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = String(headers[i]).toLowerCase()
      if (names.has(name)) push(name, headers[i + 1])
    }
    return out
  }
  if (Array.isArray(headers)) {
    for (const [n, v] of headers) {
      const name = String(n).toLowerCase()
      if (names.has(name)) push(name, v)
    }
    return out
  }
  if (typeof headers.get === 'function' && typeof headers.entries === 'function') {
    for (const name of names) {
      const v = headers.get(name)
      if (v !== null) push(name, v)
    }
    return out
  }
  for (const [n, v] of Object.entries(headers)) {
    const name = n.toLowerCase()
    if (!names.has(name) || v === undefined) continue
    for (const one of Array.isArray(v) ? v : [v]) push(name, one)
  }
  return out
}

/** The chains read from each TLS socket, once per connection. */
const CHAINS = new WeakMap()

/**
 * What a connection presented in TLS, for `trusted_proxies`: the DER
 * certificates of `socket.getPeerCertificate(true)`, leaf first (an empty
 * list when it presented none), or `null` when the socket is not TLS (the
 * policy then cannot tell, and refuses as `peer_unavailable`). Read once
 * per socket.
 */
function peerChain (socket) {
  if (socket == null || !socket.encrypted || typeof socket.getPeerCertificate !== 'function') return null
  let chain = CHAINS.get(socket)
  if (chain !== undefined) return chain
  chain = []
  let c = socket.getPeerCertificate(true)
  const seen = new Set()
  while (c != null && Buffer.isBuffer(c.raw) && !seen.has(c) && chain.length < 16) {
    seen.add(c)
    chain.push(c.raw)
    c = c.issuerCertificate
  }
  CHAINS.set(socket, chain)
  return chain
}

/** A Node request (`http.IncomingMessage`) or anything with its shape. */
function isIncoming (r) {
  return r != null && Array.isArray(r.rawHeaders) && r.socket != null
}

/**
 * A validation policy (thread-safe, cheap to share). Build it with
 * `Policy.fromEnv()`, `Policy.fromToml(path)` or `Policy.fromTomlString`.
 */
class Policy {
  constructor (nativePolicy) {
    if (!(nativePolicy instanceof native.NativePolicy)) {
      throw new TypeError('use Policy.fromEnv(), Policy.fromToml() or Policy.fromTomlString()')
    }
    this.native = nativePolicy
    this.headerNames = Object.freeze(nativePolicy.headerNames)
    this.names = new Set(this.headerNames)
  }

  /**
   * The policy the environment describes: the recipe's variables
   * (`ALLOWED_CERT_THUMBPRINTS`, `ALLOWED_CERT_FINGERPRINTS`,
   * `ALLOWED_CERT_COMMON_NAMES`), every `XFCC_*` variable, or
   * `XFCC_POLICY_FILE`. Nothing set is an error: there is no default
   * allow list.
   */
  static fromEnv (env = process.env) {
    const pairs = {}
    for (const [k, v] of Object.entries(env)) if (typeof v === 'string') pairs[k] = v
    return built(native.NativePolicy.fromEnv(pairs))
  }

  /** The policy of a TOML file; anchor and CRL paths are relative to it. */
  static fromToml (path) {
    return built(native.NativePolicy.fromTomlFile(String(path)))
  }

  /** The policy of TOML text; anchor and CRL paths are relative to `baseDir`. */
  static fromTomlString (text, baseDir) {
    return built(native.NativePolicy.fromTomlString(text, baseDir ?? null))
  }

  /** `"require"`, `"accept"` or `"report"`. */
  get mode () { return this.native.mode }

  /** Whether the policy honours the header only from listed peers. */
  get hasTrustedPeers () { return this.native.hasTrustedPeers }

  /**
   * Whether the policy honours the header only over connections that
   * present a `[[trusted_proxies]]` certificate (serve the proxy's TLS with
   * `https.createServer({ requestCert: true, rejectUnauthorized: false })`).
   */
  get hasTrustedProxies () { return this.native.hasTrustedProxies }

  /** Whether a request from `peer` may carry the header. */
  isTrustedPeer (peer) { return this.native.isTrustedPeer(String(peer)) }

  /** The settings that weaken the policy: `{code, message, fix}`. */
  warnings () {
    return this.native.warnings().map(([code, message, fix]) => ({ code, message, fix }))
  }

  /**
   * Verifies one header value (a string or a Buffer; `null` for no
   * header) from `peer`, the TCP peer's address. Returns the `ClientCert`
   * (`null` in accept mode without a header) or throws a `Rejection`.
   */
  verify (header, { peer, peerChain } = {}) {
    const r = this.native.check(header ?? null, peer ?? null, peerChain ?? null)
    if (r.rejection) throw new Rejection(r.rejection)
    return r.clientCert ?? null
  }

  /**
   * Verifies a request: a Node `IncomingMessage` (its raw header lines,
   * and its socket's peer unless `peer` is given), a Fetch `Request`, or
   * headers alone (`rawHeaders`, `Headers`, an object, `[name, value]`
   * pairs) with `peer`. Returns the `ClientCert` or throws a `Rejection`.
   */
  verifyRequest (request, peer) {
    const [lines, p, chain] = this.linesAndPeer(request, peer)
    const r = this.native.checkRequest(lines, p, chain)
    if (r.rejection) throw new Rejection(r.rejection)
    return r.clientCert ?? null
  }

  /**
   * The core's verdict on a request (arguments as for `verifyRequest`):
   * `{action, clientCert, rejection, status, body, code}`, `action` being
   * `"allow"`, `"report"` or `"refuse"`. What the middleware translate.
   */
  decide (request, peer) {
    const [lines, p, chain] = this.linesAndPeer(request, peer)
    const v = this.native.decide(lines, p, chain)
    if (v.rejection) v.rejection = Rejection.of(v.rejection)
    return v
  }

  /** @private */
  linesAndPeer (request, peer) {
    if (isIncoming(request)) {
      return [headerLines(this.names, request.rawHeaders), peer ?? request.socket.remoteAddress ?? null,
        peerChain(request.socket)]
    }
    if (request != null && typeof request.headers === 'object' && typeof request.url === 'string') {
      return [headerLines(this.names, request.headers), peer ?? null, null] // a Fetch Request
    }
    return [headerLines(this.names, request), peer ?? null, null]
  }
}

module.exports = {
  Policy,
  ClientCert: native.ClientCert,
  ConfigError,
  Rejection,
  LogLimiter: native.LogLimiter,
  wiringRefusal: native.wiringRefusal,
  headerLines,
  peerChain
}
