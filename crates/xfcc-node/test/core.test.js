'use strict'
// The package's API and each adapter's own wiring checks: the policy from
// the recipe's variables, the verdict for every shape of headers, the
// refusals the adapters detect (trust proxy, no peer), WebSockets under
// Hono, and the bounded logs. (The hostile table: hostile.test.js.)

const test = require('node:test')
const assert = require('node:assert')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const { Policy, Rejection, ConfigError, ClientCert } = require('..')
const { CAPTURES } = require('./hostile.js')

const capture = (name) => fs.readFileSync(path.join(CAPTURES, name + '.txt'), 'utf8')
const RSA = capture('rsa-chain')
const WRONG = capture('wrong-cn')
const CN = 'client-app.contoso.example'
const SHA256 = '642D3D0CBBF64D1E59F2C73BE3D715C222020123909713797A9EE8B9410643A4'
const NAMES = { XFCC_ALLOWED_SUBJECT_CNS: CN, XFCC_PROXY_VERIFIES_CHAIN: 'true' }

test('the Node recipe\'s variables: a fingerprint pins the client; names alone do not start', () => {
  const colons = SHA256.match(/../g).join(':')
  const p = Policy.fromEnv({ ALLOWED_CERT_FINGERPRINTS: colons })
  assert.strictEqual(p.verify(RSA).sha256, SHA256)
  assert.throws(() => p.verify(WRONG), (e) => e instanceof Rejection && e.code === 'not_allowed' && e.status === 403)
  assert.throws(() => Policy.fromEnv({ ALLOWED_CERT_COMMON_NAMES: CN }),
    (e) => e instanceof ConfigError && e.code === 'names_only_rule' && /ALLOWED_CERT_COMMON_NAMES/.test(e.message))
  assert.throws(() => Policy.fromEnv({}), (e) => e instanceof ConfigError && e.code === 'nothing_set')
  assert.throws(() => Policy.fromEnv({ XFCC_ALLOWED_SUBJECT_CNZ: 'x' }),
    (e) => e instanceof ConfigError && e.code === 'unknown_variable' && e.setting === 'XFCC_ALLOWED_SUBJECT_CNZ')
})

test('a verified client has the core\'s fields; a refusal its codes, never certificate bytes', () => {
  const p = Policy.fromEnv(NAMES)
  const c = p.verify(RSA)
  assert.ok(c instanceof ClientCert)
  assert.deepStrictEqual(c.subjectCn, [CN])
  assert.strictEqual(c.sha256, SHA256)
  assert.ok(c.spiffeId.startsWith('spiffe://'))
  assert.strictEqual(c.rule, 'env')
  assert.ok(Buffer.isBuffer(c.der) && c.der[0] === 0x30)
  assert.strictEqual(p.verify(Buffer.from(RSA)).sha256, SHA256)
  let r
  try { p.verify(WRONG) } catch (e) { r = e }
  assert.ok(r instanceof Rejection && r instanceof Error)
  assert.deepStrictEqual([r.code, r.detail, r.wouldDeny, r.status], ['not_allowed', 'not_allowed', false, 403])
  assert.ok(r.explanation.includes('subject_cn'), r.explanation)
  assert.ok(!/MII/.test(JSON.stringify(r)) && !/MII/.test(r.message))
  assert.throws(() => p.verify(null), (e) => e.code === 'missing')
  const accept = Policy.fromEnv({ ...NAMES, XFCC_MODE: 'accept' })
  assert.strictEqual(accept.verify(null), null)
  const report = Policy.fromEnv({ ...NAMES, XFCC_MODE: 'report' })
  assert.throws(() => report.verify(WRONG), (e) => e.code === 'not_allowed' && e.wouldDeny === true)
})

test('verifyRequest and decide read every shape of headers, and see a repeated line', () => {
  const p = Policy.fromEnv(NAMES)
  const name = 'X-Forwarded-Client-Cert'
  const shapes = [
    [name, RSA, 'Host', 'app'], // Node's rawHeaders
    [[name, RSA]], // pairs
    new Headers({ [name]: RSA }), // Fetch Headers
    { 'x-forwarded-client-cert': RSA }, // an object
    new Request('http://app/cert-info', { headers: { [name]: RSA } }), // a Fetch Request
    { rawHeaders: [name, RSA], socket: { remoteAddress: '::ffff:10.0.0.4' } } // an IncomingMessage
  ]
  for (const s of shapes) assert.strictEqual(p.verifyRequest(s).sha256, SHA256)
  assert.throws(() => p.verifyRequest([name, RSA, name.toLowerCase(), RSA]), (e) => e.code === 'multiple_headers')
  assert.throws(() => p.verifyRequest({ 'x-forwarded-client-cert': [RSA, RSA] }), (e) => e.code === 'multiple_headers')
  // A look-alike name is another header.
  assert.throws(() => p.verifyRequest(['X_Forwarded_Client_Cert', RSA]), (e) => e.code === 'missing')
  const refuse = p.decide([], null)
  assert.deepStrictEqual([refuse.action, refuse.status, refuse.body], ['refuse', 403, '{"error":"missing"}'])
  const allow = p.decide([name, RSA], null)
  assert.strictEqual(allow.action, 'allow')
  assert.strictEqual(allow.clientCert.sha256, SHA256)
})

test('trusted peers: the socket\'s peer decides; none is peer_unavailable', () => {
  const p = Policy.fromEnv({ ...NAMES, XFCC_TRUSTED_PEERS: '10.0.0.4/32' })
  assert.strictEqual(p.verifyRequest({ rawHeaders: ['x-forwarded-client-cert', RSA], socket: { remoteAddress: '::ffff:10.0.0.4' } }).sha256, SHA256)
  assert.throws(() => p.verifyRequest({ rawHeaders: ['x-forwarded-client-cert', RSA], socket: { remoteAddress: '10.0.0.9' } }),
    (e) => e.code === 'untrusted_peer' && e.peer === '10.0.0.9')
  assert.throws(() => p.verifyRequest({ rawHeaders: ['x-forwarded-client-cert', RSA], socket: {} }),
    (e) => e.code === 'peer_unavailable' && e.status === 500)
  assert.throws(() => p.verifyRequest(new Request('http://app/', { headers: { 'x-forwarded-client-cert': RSA } })),
    (e) => e.code === 'peer_unavailable')
})

function get (port, urlPath, headers = {}) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, headers }, (res) => {
      let body = ''
      res.on('data', (d) => { body += d })
      res.on('end', () => resolve([res.statusCode, body ? JSON.parse(body) : null]))
    }).on('error', reject)
  })
}

async function serving (handler, fn) {
  const server = http.createServer(handler)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    return await fn(server.address().port)
  } finally {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
}

test('Express: "trust proxy" with trusted peers is refused (peer_rewritten); without them it serves', async () => {
  const express = require('express')
  const xfcc = require('../express.js')
  const records = []
  const trusting = Policy.fromEnv({ ...NAMES, XFCC_TRUSTED_PEERS: '127.0.0.1/32' })
  for (const [policy, want] of [[trusting, [500, { error: 'peer_rewritten' }]], [Policy.fromEnv(NAMES), [200, { cn: [CN] }]]]) {
    const app = express()
    app.set('trust proxy', true)
    app.use(xfcc(policy, { log: (r) => records.push(r) }))
    app.get('/cert-info', (req, res) => res.json({ cn: req.clientCert.subjectCn }))
    const got = await serving(app, (port) => get(port, '/cert-info', { 'X-Forwarded-Client-Cert': RSA }))
    assert.deepStrictEqual(got, want)
  }
  assert.ok(records.some((r) => r.level === 'error' && /trust proxy/.test(r.message)))
})

test('Express: a request without a socket peer under trusted peers is 500 peer_unavailable', () => {
  const xfcc = require('../express.js')
  const mw = xfcc(Policy.fromEnv({ ...NAMES, XFCC_TRUSTED_PEERS: '10.0.0.4/32' }), { log: false })
  const res = { headers: {}, setHeader (k, v) { this.headers[k] = v }, end (b) { this.body = b } }
  let nexted = false
  mw({ url: '/x', rawHeaders: ['x-forwarded-client-cert', RSA], socket: {} }, res, () => { nexted = true })
  assert.deepStrictEqual([nexted, res.statusCode, res.body], [false, 500, '{"error":"peer_unavailable"}'])
})

test('Fastify: trustProxy with trusted peers is refused (peer_rewritten)', async () => {
  const Fastify = require('fastify')
  const xfcc = require('../fastify.js')
  const app = Fastify({ trustProxy: true })
  await app.register(xfcc, { policy: Policy.fromEnv({ ...NAMES, XFCC_TRUSTED_PEERS: '127.0.0.1/32' }), log: false })
  app.get('/cert-info', async (req) => ({ cn: req.clientCert.subjectCn }))
  const r = await app.inject({ method: 'GET', url: '/cert-info', headers: { 'x-forwarded-client-cert': RSA } })
  assert.deepStrictEqual([r.statusCode, r.json()], [500, { error: 'peer_rewritten' }])
  await app.close()
})

test('Hono: a refused WebSocket handshake is 403 (500 for a wiring error) and never upgraded', async () => {
  const { Hono } = require('hono')
  const { serve } = require('@hono/node-server')
  const { createNodeWebSocket } = require('@hono/node-ws')
  const xfcc = require('../hono.js')
  const net = require('node:net')
  const start = async (policy) => {
    const app = new Hono()
    const { injectWebSocket, upgradeWebSocket } = createNodeWebSocket({ app })
    app.use(xfcc(policy, { log: false }))
    app.get('/ws', upgradeWebSocket(() => ({ onOpen (_e, ws) { ws.send('in'); ws.close() } })))
    const server = await new Promise((resolve) => { const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s)) })
    injectWebSocket(server)
    return server
  }
  const handshake = (server, extra) => new Promise((resolve) => {
    const s = net.connect(server.address().port, '127.0.0.1')
    let got = ''
    s.on('data', (d) => { got += d })
    s.on('close', () => resolve(got))
    s.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' + extra + '\r\n')
    setTimeout(() => s.destroy(), 3000)
  })
  const server = await start(Policy.fromEnv(NAMES))
  assert.match(await handshake(server, ''), /^HTTP\/1\.1 403 /)
  assert.match(await handshake(server, `X-Forwarded-Client-Cert: ${WRONG.trim()}\r\n`), /^HTTP\/1\.1 403 /)
  assert.match(await handshake(server, `X-Forwarded-Client-Cert: ${RSA.trim()}\r\n`), /^HTTP\/1\.1 101 /)
  server.close()
  // trusted_proxies over plain HTTP: the certificate cannot be seen (the
  // hostile table's row, which @hono/node-ws answers without a body).
  const proxies = await start(Policy.fromTomlString(`
[[trusted_proxies]]
name = "edge"
thumbprint = "9d00332b45c0268abedef944fa7be0244c8518f6a4800bf9c7c267760742544d"
[[allow]]
name = "partner"
thumbprint = "642d3d0cbbf64d1e59f2c73be3d715c222020123909713797a9ee8b9410643a4"
`))
  assert.match(await handshake(proxies, `X-Forwarded-Client-Cert: ${RSA.trim()}\r\n`), /^HTTP\/1\.1 500 /)
  proxies.close()
})

test('Hono without a Node request: the peer comes from options.peer, else trusted peers refuse', async () => {
  const { Hono } = require('hono')
  const xfcc = require('../hono.js')
  const trusting = Policy.fromEnv({ ...NAMES, XFCC_TRUSTED_PEERS: '10.0.0.4/32' })
  for (const [peer, want] of [[undefined, [500, 'peer_unavailable']], [() => '10.0.0.4', [200, null]], [() => '10.0.0.9', [403, 'untrusted_peer']]]) {
    const app = new Hono()
    app.use(xfcc(trusting, { log: false, peer }))
    app.get('/cert-info', (c) => c.json({ cn: c.get('clientCert').subjectCn }))
    const r = await app.request('/cert-info', { headers: { 'x-forwarded-client-cert': RSA } })
    const body = await r.json()
    assert.deepStrictEqual([r.status, body.error ?? null], want)
  }
})

test('logs: one record per refusal up to the rate, then a count; report mode says the request goes on', async () => {
  const express = require('express')
  const xfcc = require('../express.js')
  const records = []
  const app = express()
  app.use(xfcc(Policy.fromEnv(NAMES), { exempt: ['/health'], logRate: 1, log: (r) => records.push(r) }))
  app.get('/health', (req, res) => res.json({ ok: true, cert: req.clientCert ?? null }))
  app.get('/cert-info', (req, res) => res.json({ cn: req.clientCert.subjectCn }))
  await serving(app, async (port) => {
    for (let i = 0; i < 5; i++) assert.deepStrictEqual(await get(port, '/cert-info'), [403, { error: 'missing' }])
    assert.deepStrictEqual(await get(port, '/health?probe=1'), [200, { ok: true, cert: null }])
    assert.deepStrictEqual(await get(port, '/health/'), [403, { error: 'missing' }])
  })
  const rejected = records.filter((r) => r.message.startsWith('client certificate rejected'))
  assert.strictEqual(rejected.length, 1)
  assert.strictEqual(rejected[0].fields.reason, 'missing')
  const report = []
  const reporting = express()
  reporting.use(xfcc(Policy.fromEnv({ ...NAMES, XFCC_MODE: 'report' }), { log: (r) => report.push(r) }))
  reporting.get('/cert-info', (req, res) => res.json({ would: req.xfccRejection.code }))
  await serving(reporting, async (port) => {
    assert.deepStrictEqual(await get(port, '/cert-info', { 'X-Forwarded-Client-Cert': WRONG }), [200, { would: 'not_allowed' }])
  })
  const line = report.find((r) => /would be rejected/.test(r.message))
  assert.ok(line && line.fields.reason === 'not_allowed')
  assert.ok(!JSON.stringify(records.concat(report)).includes('MII'), 'no certificate bytes in the logs')
})

test('options the adapters cannot honour are refused when built', () => {
  const xfcc = require('../express.js')
  assert.throws(() => xfcc(null), /policy/)
  assert.throws(() => xfcc(Policy.fromEnv(NAMES), { exempt: '/health' }), /exempt/)
  assert.throws(() => xfcc(Policy.fromEnv(NAMES), { logRate: 0 }), /logRate/)
  assert.throws(() => xfcc(Policy.fromEnv(NAMES), { logRate: '10' }), /logRate/)
  assert.throws(() => xfcc(Policy.fromEnv(NAMES), { log: 'stderr' }), /log is a function/)
  assert.throws(() => require('../hono.js')(Policy.fromEnv(NAMES), { peer: '10.0.0.4' }), /peer is a function/)
})

test('header lines are the bytes received: Latin-1 strings read back as bytes, wider characters refused', () => {
  const p = Policy.fromEnv(NAMES)
  // A byte above 0x7F, as Node's parser hands it over (one character per
  // byte): the core sees that byte, and refuses the header it does not
  // expect (a stray byte in the element), never reads it as two bytes.
  const latin1 = RSA.replace('Hash=', 'Hash=\u00e9')
  assert.throws(() => p.verifyRequest(['x-forwarded-client-cert', latin1]), (e) => e instanceof Rejection && e.code === 'malformed' && e.detail === 'invalid_utf8')
  assert.throws(() => p.verifyRequest(['x-forwarded-client-cert', RSA + '\u0141']), TypeError)
  assert.throws(() => p.verifyRequest({ 'x-forwarded-client-cert': '\u0100' }), /byte strings/)
  // The same bytes as a Buffer read the same.
  assert.strictEqual(p.verifyRequest([['x-forwarded-client-cert', Buffer.from(RSA)]]).sha256, SHA256)
})
