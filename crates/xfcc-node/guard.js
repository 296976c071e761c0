'use strict'
// The one request path of the Express, Fastify and Hono adapters: the
// core's verdict (Policy#decide), the rejection records the core's limiter
// admits, the policy's warnings at start, and wiring errors logged at most
// once a minute. The adapters only read their framework's request and
// write its answer; they decide nothing.

const { LogLimiter, Rejection, wiringRefusal, headerLines, peerChain } = require('./index.js')

/** What to check when the policy trusts peers by address, logged at start. */
const PEER_CHECKLIST =
  'trusted_peers is judged on the TCP peer (the socket\'s remoteAddress), never on req.ip: with Express\'s ' +
  '"trust proxy" or Fastify\'s trustProxy set, req.ip is taken from X-Forwarded-For, which any client writes, so ' +
  'such an app is refused (500 peer_rewritten) while the policy trusts peers by address'

/** What a policy with trusted_proxies needs of the server, logged at start. */
const PROXY_CHECKLIST =
  'trusted_proxies is judged on the certificate the proxy presents to this server: serve the proxy\'s TLS in ' +
  'Node (https.createServer({ requestCert: true, rejectUnauthorized: false, ... }): the policy, not the ' +
  'handshake, decides which certificates are proxies); over plain HTTP every request carrying the header is ' +
  'refused (500 peer_unavailable)'

/** The default log: one line on stderr per record. */
function defaultLog (record) {
  const fields = Object.entries(record.fields || {})
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')
  process.stderr.write(`xfcc ${record.level}: ${record.message}${fields ? ' ' + fields : ''}\n`)
}

class Guard {
  /**
   * @param policy an xfcc Policy
   * @param options `{ exempt, log, logRate }`: paths served unchecked;
   *   a function receiving `{level, message, fields}` records (default: a
   *   line on stderr; `false`: none); at most `logRate` rejection records
   *   per reason per second (default `XFCC_LOG_RATE`, else 10; `null`: no
   *   bound)
   * @param adapter the adapter's name, for the records
   */
  constructor (policy, options = {}, adapter = 'middleware') {
    if (policy == null || typeof policy.decide !== 'function' || policy.native == null) {
      throw new TypeError(`xfcc ${adapter}: a policy (Policy.fromEnv(), Policy.fromToml(...)) is required`)
    }
    const exempt = options.exempt ?? []
    if (!Array.isArray(exempt) || !exempt.every((p) => typeof p === 'string')) {
      throw new TypeError(`xfcc ${adapter}: exempt is a list of paths, such as ['/health']`)
    }
    if (options.log !== undefined && options.log !== false && typeof options.log !== 'function') {
      throw new TypeError(`xfcc ${adapter}: log is a function receiving each record, or false for none`)
    }
    const rate = options.logRate
    if (rate !== undefined && rate !== null && !(Number.isInteger(rate) && rate >= 1 && rate <= 0xffffffff)) {
      throw new TypeError(`xfcc ${adapter}: logRate is a whole number of records per reason per second (at least 1), or null for no bound`)
    }
    this.policy = policy
    this.adapter = adapter
    this.exempt = new Set(exempt)
    this.log = options.log === false ? null : (options.log ?? defaultLog)
    this.limiter = options.logRate === undefined ? LogLimiter.fromEnv() : new LogLimiter(options.logRate)
    this.wiringLast = new Map()
    for (const w of policy.warnings()) {
      this.write('warn', `${adapter}: policy warning [${w.code}]: ${w.message}`, { fix: w.fix })
    }
    if (policy.hasTrustedPeers) this.write('info', `${adapter}: ${PEER_CHECKLIST}`)
    if (policy.hasTrustedProxies) this.write('info', `${adapter}: ${PROXY_CHECKLIST}`)
  }

  /** @private */
  write (level, message, fields) {
    if (this.log) this.log({ level, message, fields: fields || {} })
  }

  /**
   * The answer for one request: `{status, body}` to refuse it, or
   * `{status: null, clientCert, rejection, verdict}` to serve it (all
   * `null` on an exempt path). `url` is the request target (the query is
   * not part of the path), `headers` its header lines (Node's rawHeaders,
   * or a Fetch Headers), `peer` the TCP peer's address, `proxyTrusted`
   * whether the framework takes the client address from forwarded headers,
   * `socket` the connection (its TLS peer certificate, for
   * `trusted_proxies`; `null` when there is none to read).
   */
  answer (url, headers, peer, proxyTrusted = false, socket = null) {
    const q = url.indexOf('?')
    const path = q < 0 ? url : url.slice(0, q)
    if (this.exempt.has(path)) return { status: null, body: null, clientCert: null, rejection: null, verdict: null }
    if (proxyTrusted && this.policy.hasTrustedPeers) {
      return this.wiring('peer_rewritten',
        `${this.adapter}: the framework takes the client address from X-Forwarded-For ("trust proxy" / ` +
        'trustProxy) while the policy trusts peers by address: every request is refused (500 peer_rewritten). ' +
        'Turn it off, or trust the proxy by its certificate instead of its address.')
    }
    const v = this.policy.native.decide(headerLines(this.policy.names, headers), peer ?? null, peerChain(socket))
    let rejection = null
    if (v.rejection) {
      rejection = Rejection.of(v.rejection)
      this.logRejection(rejection)
    }
    return { status: v.status ?? null, body: v.body ?? null, clientCert: v.clientCert ?? null, rejection, verdict: v }
  }

  /** @private A refusal the adapter detects itself, logged at most once a minute. */
  wiring (code, message) {
    const now = Date.now()
    const last = this.wiringLast.get(code)
    if (last === undefined || now - last >= 60000) {
      this.wiringLast.set(code, now)
      this.write('error', message + ' (Logged at most once a minute.)')
    }
    const r = wiringRefusal(code)
    return { status: r.status, body: r.body, clientCert: null, rejection: null, verdict: null }
  }

  /** @private One bounded record per refusal, as the core's limiter admits. */
  logRejection (r) {
    const a = this.limiter.admit(r.code)
    if (a.summary.length > 0) {
      this.write('info', 'client certificate rejections not logged in the last second: ' +
        a.summary.map(([k, n]) => `${k}=${n}`).join(', '))
    }
    if (!a.log) return
    const verb = r.wouldDeny ? 'would be rejected (mode = report: the request goes on)' : 'rejected'
    this.write(r.code === 'peer_unavailable' ? 'error' : 'info', `client certificate ${verb}`, {
      reason: r.code,
      detail: r.detail,
      element: r.element,
      peer: r.peer,
      source: r.source,
      hint: r.hint,
      explanation: r.explanation
    })
  }
}

module.exports = { Guard, PEER_CHECKLIST }
