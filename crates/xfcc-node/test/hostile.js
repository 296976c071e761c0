'use strict'
// The hostile table (crates/xfcc/tests/fixtures/hostile.json) for the Node
// runners, judged exactly as the Rust and Python runners judge it: every
// case in both modes, each against a real server on a loopback port, over
// a raw connection (header names, duplicates and paths sent as written).

const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '../../..')
const CAPTURES = path.join(ROOT, 'crates/xfcc/tests/fixtures/envoy')
const TABLE = JSON.parse(fs.readFileSync(path.join(ROOT, 'crates/xfcc/tests/fixtures/hostile.json'), 'utf8'))
// Behind a real server every client is 127.0.0.1: a trusted peer is that
// address; for an untrusted one, the policy trusts another.
const LOOPBACK = '127.0.0.1'
const ELSEWHERE = '10.0.0.5'

function value (v, trusted) {
  if (v === '@oversized') return Buffer.alloc(70000, 'A')
  if (v.startsWith('@')) return Buffer.from(fs.readFileSync(path.join(CAPTURES, v.slice(1) + '.txt'), 'utf8').trim())
  return Buffer.from(v.replaceAll('{trusted}', trusted))
}

function cases (runner) {
  const unsupported = TABLE.unsupported[runner] || {}
  const out = []
  for (const row of TABLE.cases) {
    const reason = unsupported[row.name]
    if (reason !== undefined) {
      if (reason.length <= 10) throw new Error(`${runner}: ${row.name} is unsupported without a reason`)
      continue
    }
    for (const report of [false, true]) {
      const trusted = row.peer === 'untrusted' ? ELSEWHERE : LOOPBACK
      const policy = TABLE.policies[row.policy].replaceAll('{trusted}', trusted)
      out.push({
        name: row.name,
        label: report ? `${row.name} (report)` : row.name,
        websocket: row.kind === 'websocket',
        path: row.path,
        policyToml: report ? 'mode = "report"\n' + policy : policy,
        headers: row.headers.map(([n, v]) => [n, value(v, trusted)]),
        expect: report && row.report ? row.report : (report ? { reported_from: row.expect } : row.expect)
      })
    }
  }
  if (out.length < 40) throw new Error('the table is too short')
  return out
}

function complete (data) {
  const end = data.indexOf('\r\n\r\n')
  if (end < 0 || !data.subarray(0, 12).equals(Buffer.from('HTTP/1.1 101'))) return false
  const f = data.subarray(end + 4)
  if (f.length < 2) return false
  let n = f[1] & 0x7f
  let at = 2
  if (n === 126) {
    if (f.length < 4) return false
    n = f.readUInt16BE(2)
    at = 4
  }
  return f.length >= at + n
}

function json (b) {
  try { return JSON.parse(b.toString('utf8')) } catch { return null }
}

/** [status, JSON body or first WebSocket frame, else null] for one request written by hand. */
function rawRequest (port, c) {
  const lines = [`GET ${c.path} HTTP/1.1`, 'Host: 127.0.0.1']
  if (c.websocket) {
    lines.push('Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 13')
  } else {
    lines.push('Connection: close')
  }
  const parts = [Buffer.from(lines.join('\r\n') + '\r\n')]
  for (const [n, v] of c.headers) parts.push(Buffer.from(n + ': '), v, Buffer.from('\r\n'))
  parts.push(Buffer.from('\r\n'))
  return new Promise((resolve) => {
    let got = Buffer.alloc(0)
    const s = net.connect(port, '127.0.0.1')
    const finish = () => {
      clearTimeout(timer)
      s.destroy()
      const end = got.indexOf('\r\n\r\n')
      const head = end < 0 ? got : got.subarray(0, end)
      let rest = end < 0 ? Buffer.alloc(0) : got.subarray(end + 4)
      const m = /^HTTP\/1\.1 (\d+)/.exec(head.toString('latin1'))
      const status = m ? Number(m[1]) : 0
      if (status === 101 && rest.length >= 2) {
        let n = rest[1] & 0x7f
        let at = 2
        if (n === 126) { n = rest.readUInt16BE(2); at = 4 }
        return resolve([status, json(rest.subarray(at, at + n))])
      }
      if (/transfer-encoding: chunked/i.test(head.toString('latin1'))) {
        const t = rest.toString('latin1').split('\r\n')
        rest = Buffer.from(t.length >= 2 ? t[1] : '', 'latin1')
      }
      resolve([status, json(rest)])
    }
    const timer = setTimeout(finish, 10000)
    s.on('data', (d) => {
      got = Buffer.concat([got, d])
      if (complete(got)) finish()
    })
    s.on('error', finish)
    s.on('close', finish)
    s.write(Buffer.concat(parts))
  })
}

function codesOf (x) {
  return [...(x.codes || []), ...(x.code ? [x.code] : [])]
}

/** What differs, or null: the same rules as the Rust judge. */
function check (c, status, body) {
  const b = body && typeof body === 'object' ? body : {}
  const fail = (why) => `${c.label}: ${why}: got ${status} ${JSON.stringify(body)}`
  const served = status === 200 || status === 101
  const checked = (b.cn !== undefined && b.cn !== null) || (b.would_deny !== undefined && b.would_deny !== null)
  if (b.protected === true && !checked) return fail('the protected handler ran without a verdict')
  const e = c.expect
  if (e.reported_from) {
    const frm = e.reported_from
    if (frm.refused && !served) return null
    if (!served) return fail('report mode refused')
    const codes = codesOf(frm)
    if (codes.length === 0 && (frm.status ?? 500) < 300) {
      return (b.cn != null || frm.open) ? null : fail('allowed without the client')
    }
    return codes.includes(b.would_deny) ? null : fail('not the would-be refusal')
  }
  if (e.refused_or_reported) return served && b.would_deny == null ? fail('served without a would-be refusal') : null
  if (e.never_unchecked) return null
  if (e.refused) {
    if (served) return fail('served')
    const codes = codesOf(e)
    return b.error && codes.length && !codes.includes(b.error) ? fail('another code') : null
  }
  if (e.status !== undefined && status !== e.status) return fail(`status is not ${e.status}`)
  if (e.open && b.open !== true) return fail('not the open handler')
  const codes = codesOf(e)
  if (codes.length === 0) {
    if (b.error) return fail('refused')
    if (!e.open && b.cn == null && status !== 101) return fail('allowed without the client')
    return null
  }
  return codes.includes(b.error) ? null : fail(`the code is not one of ${codes}`)
}

/**
 * Runs every case against a server `serve(policyToml)` starts (resolving
 * to `{port, close}`), one server per policy; resolves to the failures.
 */
async function runAll (runner, serve) {
  const groups = new Map()
  for (const c of cases(runner)) {
    if (!groups.has(c.policyToml)) groups.set(c.policyToml, [])
    groups.get(c.policyToml).push(c)
  }
  const failures = []
  let total = 0
  for (const [policyToml, group] of groups) {
    const server = await serve(policyToml)
    try {
      for (const c of group) {
        total++
        const [status, body] = await rawRequest(server.port, c)
        const why = check(c, status, body)
        if (why) failures.push(why)
      }
    } finally {
      await server.close()
    }
  }
  return { failures, total }
}

/** The body every runner's handlers answer with. */
function handlerBody (cert, rejection) {
  return { protected: true, cn: cert ? cert.subjectCn : null, would_deny: rejection ? rejection.code : null }
}

module.exports = { runAll, handlerBody, OPEN: TABLE.open_path, ROOT, CAPTURES }
