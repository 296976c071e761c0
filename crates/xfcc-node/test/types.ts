// Type-checked by `tsc` (never run): the package used as the README and
// the guide show it, from TypeScript.
import http from 'node:http'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { Policy, Rejection, ConfigError, type ClientCert, type Verdict } from '../index'
import xfccExpress = require('../express')
import xfccFastify = require('../fastify')
import xfccHono = require('../hono')

const policy: Policy = Policy.fromEnv()
const fromFile: Policy = Policy.fromToml('/etc/xfcc/policy.toml')
const mode: 'require' | 'accept' | 'report' = fromFile.mode

try {
  const cert: ClientCert | null = policy.verify('Hash=...', { peer: '10.0.0.4' })
  const cn: string[] | undefined = cert?.subjectCn
  const sha256: string | undefined = cert?.sha256
  void cn; void sha256
} catch (e) {
  if (e instanceof Rejection) {
    const code: string = e.code
    const status: number = e.status
    void code; void status
  } else if (e instanceof ConfigError) {
    const setting: string = e.setting
    void setting
  }
}

const app = express()
app.use(xfccExpress(policy, { exempt: ['/health'], logRate: 10 }))
app.get('/cert-info', (req, res) => {
  res.json({ cn: req.clientCert?.subjectCn ?? null })
})
const server = http.createServer(app)
const guard = xfccExpress(policy)
server.on('upgrade', guard.upgrade((req, socket) => {
  const who: ClientCert | null | undefined = req.clientCert
  void who
  socket.end()
}))

const fastify = Fastify()
void fastify.register(xfccFastify, { policy, exempt: ['/health'] })
fastify.get('/cert-info', async (request) => ({ cn: request.clientCert?.subjectCn ?? null }))

const hono = new Hono<{ Variables: xfccHono.XfccVariables }>()
hono.use(xfccHono(policy, { exempt: ['/health'], log: false }))
hono.get('/cert-info', (c) => c.json({ cn: c.get('clientCert')?.subjectCn ?? null }))

async function fetchHandler (request: Request): Promise<Response> {
  const verdict: Verdict = policy.decide(request, null)
  if (verdict.action === 'refuse') return new Response(verdict.body ?? '', { status: verdict.status ?? 403 })
  const cert = policy.verifyRequest(request, '10.0.0.4')
  return Response.json({ cn: cert?.subjectCn ?? null })
}
void fetchHandler; void mode
