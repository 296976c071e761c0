'use strict'
// Express (and any Connect-style framework): `xfcc(policy, {exempt})`
// verifies every request and puts the verified client on `req.clientCert`;
// `xfcc.upgrade(policy, handler)` does the same for WebSocket upgrades,
// which Node hands to the server's 'upgrade' listeners, not to Express.

const { STATUS_CODES } = require('node:http')
const { Guard } = require('./guard.js')

function sendJson (res, status, body) {
  res.statusCode = status
  res.setHeader('content-type', 'application/json')
  res.setHeader('content-length', Buffer.byteLength(body))
  res.end(body)
}

/**
 * The middleware. `options`: `exempt` (paths served unchecked), `log`,
 * `logRate` (see guard.js). A refused request gets the core's status and
 * `{"error": "<code>"}` and never reaches the routes after it.
 */
function xfcc (policy, options = {}) {
  const guard = new Guard(policy, options, 'Express middleware')
  function xfccMiddleware (req, res, next) {
    // Express's "trust proxy" makes req.ip the X-Forwarded-For entry; the
    // peer is read from the socket here, and such an app is refused while
    // the policy trusts peers by address.
    const trustProxy = Boolean(req.app && typeof req.app.get === 'function' && req.app.get('trust proxy'))
    const a = guard.answer(req.originalUrl ?? req.url, req.rawHeaders, req.socket.remoteAddress, trustProxy, req.socket)
    if (a.status !== null) return sendJson(res, a.status, a.body)
    req.clientCert = a.clientCert
    req.xfccRejection = a.rejection
    next()
  }
  // The same guard (its options, its log bound) for the server's upgrades.
  xfccMiddleware.upgrade = (handler) => guardUpgrade(guard, handler)
  return xfccMiddleware
}

/**
 * A guard for the server's 'upgrade' event (WebSockets): verifies the
 * handshake as a request, then calls `handler(req, socket, head)` with
 * `req.clientCert` set, or answers the refusal on the socket and closes it.
 * `middleware.upgrade(handler)` does the same with the middleware's own
 * options and log bound:
 *
 *     const guard = xfcc(policy, { exempt: ['/health'] })
 *     app.use(guard)
 *     server.on('upgrade', guard.upgrade((req, socket, head) =>
 *       wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))))
 */
function upgrade (policy, handler, options = {}) {
  return guardUpgrade(new Guard(policy, options, 'upgrade guard'), handler)
}

function guardUpgrade (guard, handler) {
  if (typeof handler !== 'function') throw new TypeError('xfcc.upgrade: a handler (req, socket, head) is required')
  return function xfccUpgrade (req, socket, head) {
    const a = guard.answer(req.url, req.rawHeaders, req.socket.remoteAddress, false, req.socket)
    if (a.status !== null) {
      socket.end(`HTTP/1.1 ${a.status} ${STATUS_CODES[a.status]}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(a.body)}\r\nconnection: close\r\n\r\n${a.body}`)
      return
    }
    req.clientCert = a.clientCert
    req.xfccRejection = a.rejection
    handler(req, socket, head)
  }
}

xfcc.upgrade = upgrade
module.exports = xfcc
module.exports.xfcc = xfcc
module.exports.upgrade = upgrade
