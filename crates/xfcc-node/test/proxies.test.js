'use strict'
// trusted_proxies in Node: the header is believed for the certificate the
// proxy presents on its TLS connection (socket.getPeerCertificate), never
// for its address; a plain-HTTP connection cannot show one and fails
// closed. Real TLS servers (express, fastify, hono over node:https) and a
// real TLS client, with the test PKI.

const test = require('node:test')
const assert = require('node:assert')
const crypto = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')
const https = require('node:https')
const path = require('node:path')
const { Policy } = require('..')
const { CAPTURES } = require('./hostile.js')

const CERTS = path.join(__dirname, '../../xfcc/tests/fixtures/certs')
const read = (name) => fs.readFileSync(path.join(CERTS, name))
const HEADER = fs.readFileSync(path.join(CAPTURES, 'rsa-chain.txt'), 'utf8').trim()
const EDGE = new crypto.X509Certificate(read('edge.pem'))

function policy () {
  // edge.pem (its URI SAN is the capture's By) pinned by its thumbprint,
  // computed here by node:crypto, not by the core.
  const thumb = crypto.createHash('sha256').update(EDGE.raw).digest('hex')
  return Policy.fromTomlString(`
[[trusted_proxies]]
name = "edge"
thumbprint = "${thumb}"

[[allow]]
name = "client"
thumbprint = "642d3d0cbbf64d1e59f2c73be3d715c222020123909713797a9ee8b9410643a4"
`)
}

/** One GET over TLS as `who` (a fixture name, or null for no certificate). */
function call (port, who, header) {
  return new Promise((resolve, reject) => {
    const options = {
      port, host: '127.0.0.1', path: '/', rejectUnauthorized: false,
      headers: header ? { 'x-forwarded-client-cert': header } : {}
    }
    if (who) Object.assign(options, { cert: read(`${who}.pem`), key: read(`${who}.key`) })
    const req = https.get(options, (res) => {
      let body = ''
      res.on('data', (d) => { body += d })
      res.on('end', () => resolve([res.statusCode, body]))
    })
    req.on('error', reject)
  })
}

function tlsOptions () {
  // The policy decides which certificates are proxies: the handshake asks
  // for one and lets any through.
  return { cert: read('inner.pem'), key: read('inner.key'), requestCert: true, rejectUnauthorized: false }
}

async function listen (server) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server.address().port
}

const cases = [
  ['edge', HEADER, 200, 'client via edge'],
  [null, HEADER, 403, '{"error":"untrusted_proxy"}'],
  ['client-rsa', HEADER, 403, '{"error":"untrusted_proxy"}'],
  [null, null, 403, '{"error":"missing"}']
]

test('express over https: the proxy\'s certificate, and every other refused', async () => {
  const express = require('express')
  const xfcc = require('../express.js')
  const app = express()
  app.use(xfcc(policy(), { log: false }))
  app.get('/', (req, res) => res.send(`${req.clientCert.rule} via ${req.clientCert.proxy}`))
  const server = https.createServer(tlsOptions(), app)
  const port = await listen(server)
  try {
    for (const [who, header, status, body] of cases) {
      assert.deepStrictEqual(await call(port, who, header), [status, body], `${who}`)
    }
  } finally {
    server.close()
  }
})

test('fastify over https reads the same socket', async () => {
  const Fastify = require('fastify')
  const xfcc = require('../fastify.js')
  const app = Fastify({ https: tlsOptions() })
  await app.register(xfcc, { policy: policy(), log: false })
  app.get('/', async (req) => `${req.clientCert.rule} via ${req.clientCert.proxy}`)
  await app.listen({ port: 0, host: '127.0.0.1' })
  try {
    const port = app.server.address().port
    for (const [who, header, status, body] of cases) {
      assert.deepStrictEqual(await call(port, who, header), [status, body], `${who}`)
    }
  } finally {
    await app.close()
  }
})

test('a plain-HTTP connection cannot show a certificate and fails closed', async () => {
  const express = require('express')
  const xfcc = require('../express.js')
  const app = express()
  app.use(xfcc(policy(), { log: false }))
  app.get('/', (req, res) => res.send('served'))
  const server = http.createServer(app)
  const port = await listen(server)
  try {
    const got = await new Promise((resolve, reject) => {
      http.get({ port, host: '127.0.0.1', path: '/', headers: { 'x-forwarded-client-cert': HEADER } }, (res) => {
        let body = ''
        res.on('data', (d) => { body += d })
        res.on('end', () => resolve([res.statusCode, body]))
      }).on('error', reject)
    })
    assert.deepStrictEqual(got, [500, '{"error":"peer_unavailable"}'])
  } finally {
    server.close()
  }
})

test('Policy#verify takes the chain itself', () => {
  const p = policy()
  assert.strictEqual(p.hasTrustedProxies, true)
  assert.strictEqual(p.verify(HEADER, { peerChain: [EDGE.raw] }).proxy, 'edge')
  assert.throws(() => p.verify(HEADER, { peerChain: [] }), (e) => e.code === 'untrusted_proxy' && e.detail === 'no_proxy_certificate')
  assert.throws(() => p.verify(HEADER, {}), (e) => e.code === 'peer_unavailable')
  assert.throws(() => p.verify(HEADER, { peerChain: [Buffer.from('nope')] }),
    (e) => e.code === 'untrusted_proxy' && e.detail === 'proxy_certificate_unreadable')
})
