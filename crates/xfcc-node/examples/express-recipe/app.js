'use strict'
// The Azure Container Apps mTLS recipe for Express, on xfcc: the same
// routes (/cert-info, /call-backend/dapr, /call-backend/direct) and
// variables (ALLOWED_CERT_COMMON_NAMES, ALLOWED_CERT_FINGERPRINTS), with
// the forwarded certificate verified by the Rust core instead of a regular
// expression and X509Certificate: URL-decoded, every element and field
// checked, and a certificate the ingress let through unverified never
// allowed on names alone. Plus /health (open, for the platform's probes)
// and /ws (a WebSocket, its handshake verified the same way).
//
// Configuration is the environment, as in the recipe, with no default
// allow list: ALLOWED_CERT_FINGERPRINTS (SHA-256, colons allowed), or
// ALLOWED_CERT_COMMON_NAMES with XFCC_CHAIN_ANCHORS (your CA; names alone
// are refused at start: a self-signed certificate can carry them), any
// XFCC_* variable, or XFCC_POLICY_FILE.
//
//     PORT=8000 node app.js
//
// With TLS_CERT_FILE and TLS_KEY_FILE it serves the proxy's TLS itself and
// asks each connection for its certificate (any: the policy's
// trusted_proxies, XFCC_TRUSTED_PROXY_SPKI, decides which are proxies).

const fs = require('node:fs')
const http = require('node:http')
const https = require('node:https')
const express = require('express')
const { WebSocketServer } = require('ws')
const { Policy } = require('xfcc')
const xfcc = require('xfcc/express')

const policy = Policy.fromEnv()
const directBackendUrl = process.env.DIRECT_BACKEND_URL || 'http://ca-backend'
const daprHttpPort = process.env.DAPR_HTTP_PORT || '3500'
const daprTargetAppId = process.env.DAPR_TARGET_APP_ID || 'backend'

const app = express()
const guard = xfcc(policy, { exempt: ['/health'] })
app.use(guard)

app.get('/health', (_req, res) => res.json({ status: 'healthy' }))

app.get('/cert-info', (req, res) => {
  const c = req.clientCert
  res.json({
    // The recipe's two fields...
    commonName: c.subjectCn.length === 1 ? c.subjectCn[0] : null,
    fingerprint: c.sha256,
    // ...and what the core verified.
    rule: c.rule,
    element: c.element,
    source: c.source,
    proxy: c.proxy,
    verified_from: c.verifiedFrom,
    chain_verified: c.chainVerified,
    identity: {
      sha256: c.sha256,
      sha1: c.sha1,
      subject: c.subject,
      subject_cn: c.subjectCn,
      issuer: c.issuer,
      san_uri: c.sanUri,
      spiffe_id: c.spiffeId
    }
  })
})

app.get('/call-backend/dapr', async (_req, res, next) => {
  try {
    const response = await fetch(`http://127.0.0.1:${daprHttpPort}/v1.0/invoke/${daprTargetAppId}/method/health`)
    res.json({ path: 'dapr', status: await response.json() })
  } catch (error) {
    next(error)
  }
})

app.get('/call-backend/direct', async (_req, res, next) => {
  try {
    const response = await fetch(`${directBackendUrl}/health`)
    res.json({ path: 'direct', status: await response.json() })
  } catch (error) {
    next(error)
  }
})

function tlsOptions () {
  const cert = process.env.TLS_CERT_FILE
  const key = process.env.TLS_KEY_FILE
  if (!cert && !key) return null
  if (!cert || !key) throw new Error('TLS_CERT_FILE and TLS_KEY_FILE are set together')
  return { cert: fs.readFileSync(cert), key: fs.readFileSync(key), requestCert: true, rejectUnauthorized: false }
}

const tls = tlsOptions()
const server = tls ? https.createServer(tls, app) : http.createServer(app)
const wss = new WebSocketServer({ noServer: true })
server.on('upgrade', guard.upgrade((req, socket, head) => {
  if (req.url !== '/ws') return socket.destroy()
  wss.handleUpgrade(req, socket, head, (ws) => {
    const c = req.clientCert
    ws.send(JSON.stringify({ rule: c.rule, subject_cn: c.subjectCn, sha256: c.sha256 }))
    ws.close()
  })
}))

const port = Number(process.env.PORT || 8000)
server.listen(port, process.env.HOST || '0.0.0.0', () => {
  console.log(`mTLS sample listening on port ${port}`)
})
