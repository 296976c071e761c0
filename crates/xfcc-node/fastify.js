'use strict'
// Fastify: `app.register(require('xfcc/fastify'), { policy, exempt })`
// verifies every request (WebSocket routes of @fastify/websocket too: their
// handshake runs the onRequest hooks) and puts the verified client on
// `request.clientCert`. Registered without encapsulation, so it covers the
// routes of the whole instance.

const { Guard } = require('./guard.js')

function xfccFastify (fastify, options, done) {
  let guard
  try {
    guard = new Guard(options.policy, options, 'Fastify plugin')
  } catch (e) {
    done(e)
    return
  }
  fastify.decorateRequest('clientCert', null)
  fastify.decorateRequest('xfccRejection', null)
  fastify.addHook('onRequest', (request, reply, next) => {
    const raw = request.raw
    // trustProxy makes request.ip the X-Forwarded-For entry; only then
    // does Fastify give requests their `ips`.
    const trustProxy = 'ips' in request
    const a = guard.answer(raw.url, raw.rawHeaders, raw.socket.remoteAddress, trustProxy, raw.socket)
    if (a.status !== null) {
      if (raw.headers.upgrade !== undefined) {
        // A refused WebSocket handshake: the answer, then the connection
        // closes (it was never upgraded, and no other request follows).
        reply.header('connection', 'close')
        reply.raw.once('finish', () => raw.socket.destroy())
      }
      reply.code(a.status).header('content-type', 'application/json').send(a.body)
      return
    }
    request.clientCert = a.clientCert
    request.xfccRejection = a.rejection
    next()
  })
  done()
}

// What fastify-plugin sets: no encapsulation, so the hook applies to every
// route of the instance that registers it.
xfccFastify[Symbol.for('skip-override')] = true
xfccFastify[Symbol.for('fastify.display-name')] = 'xfcc'
module.exports = xfccFastify
module.exports.default = xfccFastify
module.exports.xfcc = xfccFastify
