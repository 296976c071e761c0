'use strict'
// The hostile table against each Node adapter behind its real server:
// Express (node:http, the ws package for upgrades), Fastify
// (@fastify/websocket) and Hono (@hono/node-server, @hono/node-ws).

const test = require('node:test')
const assert = require('node:assert')
const http = require('node:http')
const { Policy } = require('..')
const { runAll, handlerBody, OPEN } = require('./hostile.js')

const quiet = { log: false }

function listening (server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)))
}

function closing (server) {
  return () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()) })
}

test('Express passes the hostile table', async () => {
  const express = require('express')
  const { WebSocketServer } = require('ws')
  const xfcc = require('../express.js')
  const { failures, total } = await runAll('express', async (policyToml) => {
    const policy = Policy.fromTomlString(policyToml)
    const app = express()
    app.use(xfcc(policy, { exempt: [OPEN], ...quiet }))
    app.get(OPEN, (req, res) => res.json({ open: true }))
    app.use((req, res) => res.json(handlerBody(req.clientCert, req.xfccRejection)))
    const server = http.createServer(app)
    const wss = new WebSocketServer({ noServer: true })
    server.on('upgrade', xfcc.upgrade(policy, (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.send(JSON.stringify(handlerBody(req.clientCert, req.xfccRejection)))
        ws.close()
      })
    }, { exempt: [OPEN], ...quiet }))
    const port = await listening(server)
    return { port, close: closing(server) }
  })
  assert.deepStrictEqual(failures, [], `express: ${failures.length} of ${total} cases failed`)
})

test('Fastify passes the hostile table', async () => {
  const Fastify = require('fastify')
  const xfcc = require('../fastify.js')
  const { failures, total } = await runAll('fastify', async (policyToml) => {
    const app = Fastify({ logger: false })
    await app.register(xfcc, { policy: Policy.fromTomlString(policyToml), exempt: [OPEN], ...quiet })
    await app.register(require('@fastify/websocket'))
    app.get(OPEN, async () => ({ open: true }))
    app.get('/ws', { websocket: true }, (socket, req) => {
      socket.send(JSON.stringify(handlerBody(req.clientCert, req.xfccRejection)))
      socket.close()
    })
    app.all('/*', async (req) => handlerBody(req.clientCert, req.xfccRejection))
    await app.listen({ port: 0, host: '127.0.0.1' })
    return { port: app.server.address().port, close: () => app.close() }
  })
  assert.deepStrictEqual(failures, [], `fastify: ${failures.length} of ${total} cases failed`)
})

test('Hono passes the hostile table', async () => {
  const { Hono } = require('hono')
  const { serve } = require('@hono/node-server')
  const { createNodeWebSocket } = require('@hono/node-ws')
  const xfcc = require('../hono.js')
  const { failures, total } = await runAll('hono', async (policyToml) => {
    const app = new Hono()
    const { injectWebSocket, upgradeWebSocket } = createNodeWebSocket({ app })
    app.use(xfcc(Policy.fromTomlString(policyToml), { exempt: [OPEN], ...quiet }))
    app.get(OPEN, (c) => c.json({ open: true }))
    app.get('/ws', upgradeWebSocket((c) => ({
      onOpen (_evt, ws) {
        ws.send(JSON.stringify(handlerBody(c.get('clientCert'), c.get('xfccRejection'))))
        ws.close()
      }
    })))
    app.all('*', (c) => c.json(handlerBody(c.get('clientCert'), c.get('xfccRejection'))))
    const server = await new Promise((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
    })
    injectWebSocket(server)
    return { port: server.address().port, close: closing(server) }
  })
  assert.deepStrictEqual(failures, [], `hono: ${failures.length} of ${total} cases failed`)
})
