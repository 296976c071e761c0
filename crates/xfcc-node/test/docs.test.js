'use strict'
// The README's and the guide's Node blocks, run as they are printed: each
// in a project of its own that installs this package (a link to it), with
// the recipe's variable pinning the captures' client; each server block
// serves that client, refuses another and leaves /health open.

const test = require('node:test')
const assert = require('node:assert')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const { ROOT, CAPTURES } = require('./hostile.js')

const CRATE = path.resolve(__dirname, '..')
const RSA = fs.readFileSync(path.join(CAPTURES, 'rsa-chain.txt'), 'utf8').trim()
const WRONG = fs.readFileSync(path.join(CAPTURES, 'wrong-cn.txt'), 'utf8').trim()
const SHA256 = '642D3D0CBBF64D1E59F2C73BE3D715C222020123909713797A9EE8B9410643A4'

function blocks (file, from, to) {
  let text = fs.readFileSync(path.join(ROOT, file), 'utf8')
  if (from) text = text.slice(text.indexOf(from), to ? text.indexOf(to) : undefined)
  return [...text.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1])
}

/** A project holding `code` as index.js, with this package installed (a link). */
function project (code) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xfcc-doc-'))
  fs.mkdirSync(path.join(dir, 'node_modules'))
  fs.symlinkSync(CRATE, path.join(dir, 'node_modules', 'xfcc'), 'dir')
  fs.writeFileSync(path.join(dir, 'index.js'), code)
  return dir
}

const ENV = {
  PATH: process.env.PATH,
  // The frameworks, from this package's own dev dependencies.
  NODE_PATH: path.join(CRATE, 'node_modules'),
  ALLOWED_CERT_FINGERPRINTS: SHA256
}

function freePort () {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)) })
  })
}

async function get (port, p, header) {
  const r = await fetch(`http://127.0.0.1:${port}${p}`, { headers: header ? { 'X-Forwarded-Client-Cert': header } : {} })
  return [r.status, await r.json()]
}

async function serving (code, fn) {
  const dir = project(code)
  const port = await freePort()
  const child = spawn(process.execPath, ['index.js'], { cwd: dir, env: { ...ENV, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  try {
    const deadline = Date.now() + 20000
    for (;;) {
      assert.strictEqual(child.exitCode, null, `the block exited: ${stderr}`)
      try { await get(port, '/health'); break } catch { }
      assert.ok(Date.now() < deadline, `the block did not listen: ${stderr}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    await fn(port)
  } finally {
    child.kill()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const readme = blocks('README.md', '### Node', '### The `xfcc` command')
const guide = blocks('docs/src/node.md')

test('the README and the guide have their Node blocks', () => {
  assert.strictEqual(readme.length, 1)
  assert.strictEqual(guide.length, 4)
})

for (const [name, code] of [['README express', readme[0]], ['guide express', guide[1]], ['guide fastify', guide[2]], ['guide hono', guide[3]]]) {
  test(`${name}: serves the pinned client, refuses another, /health open`, async () => {
    await serving(code, async (port) => {
      const [status, body] = await get(port, '/cert-info', RSA)
      assert.strictEqual(status, 200)
      assert.match(body.subject, /^CN=client-app\.contoso\.example/)
      assert.deepStrictEqual(await get(port, '/cert-info', WRONG), [403, { error: 'not_allowed' }])
      assert.deepStrictEqual(await get(port, '/cert-info'), [403, { error: 'missing' }])
      assert.strictEqual((await get(port, '/health'))[0], 200)
    })
  })
}

test('guide API block: the client, then the refusal', () => {
  const run = (header) => {
    const code = `const header = ${JSON.stringify(header)}\nconst remoteAddress = '10.0.0.4'\n` + guide[0]
    const dir = project(code)
    try {
      const out = spawnSync(process.execPath, ['index.js'], { cwd: dir, env: ENV, encoding: 'utf8' })
      assert.strictEqual(out.status, 0, out.stderr)
      return out.stdout
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
  assert.match(run(RSA), new RegExp(`^CN=client-app\\.contoso\\.example.* ${SHA256} thumbprint\\n$`))
  assert.match(run(WRONG), /^not_allowed not_allowed /)
})
