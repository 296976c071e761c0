'use strict'
// Hono: `app.use(xfcc(policy, { exempt }))` verifies every request (the
// handshake of an upgradeWebSocket route too) and sets `c.get('clientCert')`.
// Under @hono/node-server it reads the Node request (its raw header lines
// and its socket's peer); elsewhere (Bun, Deno, Workers) the Fetch
// request's headers, and the peer from `options.peer(c)` if given: a policy
// with trusted_peers refuses a request whose peer it cannot know
// (500 peer_unavailable).

const { Guard } = require('./guard.js')

function xfcc (policy, options = {}) {
  if (options.peer !== undefined && typeof options.peer !== 'function') {
    throw new TypeError('xfcc Hono middleware: peer is a function (c) => the TCP peer\'s address')
  }
  const guard = new Guard(policy, options, 'Hono middleware')
  const peerOf = options.peer
  return async function xfccMiddleware (c, next) {
    const incoming = c.env && c.env.incoming
    let headers, peer
    let socket = null
    if (incoming && Array.isArray(incoming.rawHeaders) && incoming.socket) {
      headers = incoming.rawHeaders
      peer = incoming.socket.remoteAddress
      socket = incoming.socket
    } else {
      headers = c.req.raw.headers
      peer = typeof peerOf === 'function' ? peerOf(c) : null
    }
    const a = guard.answer(new URL(c.req.url).pathname, headers, peer, false, socket)
    if (a.status !== null) {
      return new Response(a.body, { status: a.status, headers: { 'content-type': 'application/json' } })
    }
    c.set('clientCert', a.clientCert)
    c.set('xfccRejection', a.rejection)
    await next()
  }
}

module.exports = xfcc
module.exports.xfcc = xfcc
