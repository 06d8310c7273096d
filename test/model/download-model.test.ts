import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {HubError} from '../../src/errors.js'
import {resolveModel} from '../../src/model/resolve-model.js'
import {ShardedTensorIndex} from '../../src/safetensors/reader.js'
import {STORIES} from '../helpers/cli.js'

const COMMIT = 'c0ffee0000000000000000000000000000000001'
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('hex')

/** A local HTTP server speaking the Hub API calls dlec makes, serving stories260K as org/tiny. */
function hubServer(): {server: Server; requests: string[]} {
  const files = new Map(readdirSync(STORIES).map((f) => [f, readFileSync(join(STORIES, f))]))
  const requests: string[] = []
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    requests.push(url.pathname)
    if (url.pathname === '/api/models/org/tiny/revision/main') {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({_id: 'id', id: 'org/tiny', sha: COMMIT, lastModified: '2026-01-01T00:00:00Z'}))
      return
    }
    if (url.pathname === `/api/models/org/tiny/tree/${COMMIT}`) {
      res.setHeader('content-type', 'application/json')
      const entries = [...files].map(([path, data]) => ({
        type: 'file',
        path,
        size: data.byteLength,
        oid: sha1(data),
        ...(path.endsWith('.safetensors') || path.endsWith('.model') ? {lfs: {oid: sha256(data), size: data.byteLength, pointerSize: 130}} : {}),
      }))
      res.end(JSON.stringify([...entries, {type: 'directory', path: 'extra', size: 0, oid: 'ab'}]))
      return
    }
    const resolve = /^\/org\/tiny\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname)
    const data = resolve ? files.get(decodeURIComponent(resolve[2] ?? '')) : undefined
    if (!resolve || data === undefined || resolve[1] !== COMMIT) {
      res.statusCode = 404
      res.setHeader('X-Error-Code', 'EntryNotFound')
      res.end('not found')
      return
    }
    res.setHeader('ETag', `"${sha256(data)}"`)
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '')
    if (range) {
      const start = Number(range[1])
      const end = range[2] === '' ? data.byteLength - 1 : Math.min(Number(range[2]), data.byteLength - 1)
      res.statusCode = 206
      res.setHeader('Content-Range', `bytes ${start}-${end}/${data.byteLength}`)
      res.end(data.subarray(start, end + 1))
      return
    }
    res.end(data)
  })
  return {server, requests}
}

describe('resolveModel downloads into the HF cache layout', () => {
  const cache = mkdtempSync(join(tmpdir(), 'dlec-download-'))
  const {server, requests} = hubServer()
  let hubUrl = ''
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    hubUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(() => {
    server.close()
    rmSync(cache, {recursive: true, force: true})
  })

  it('downloads blobs + snapshot symlinks + refs/main, then reads it offline', async () => {
    const events: string[] = []
    const got = await resolveModel({model: 'org/tiny', cacheDir: cache, hubUrl, onProgress: (e) => events.push(e.path)})
    const repo = join(cache, 'models--org--tiny')
    assert.equal(got.dir, join(repo, 'snapshots', COMMIT))
    assert.equal(got.revision, COMMIT)
    assert.equal(readFileSync(join(repo, 'refs', 'main'), 'utf8'), COMMIT)
    // Only what dlec needs: weights, JSON, tokenizer files, the card (not the directory entry).
    assert.deepEqual(events.sort(), readdirSync(STORIES).sort())
    const weights = join(got.dir, 'model.safetensors')
    assert.ok(lstatSync(weights).isSymbolicLink())
    assert.equal(readlinkSync(weights), join('..', '..', 'blobs', sha256(readFileSync(join(STORIES, 'model.safetensors')))))
    assert.ok(readFileSync(weights).equals(readFileSync(join(STORIES, 'model.safetensors'))))
    assert.deepEqual(readdirSync(join(repo, 'blobs')).filter((f) => f.endsWith('.incomplete')), [])
    const index = await ShardedTensorIndex.open(got.dir)
    assert.deepEqual(index.info('model.norm.weight').shape, [64])
    await index.close()
    // Second time: served from the cache, no request, even offline.
    const before = requests.length
    const again = await resolveModel({model: 'org/tiny', cacheDir: cache, hubUrl, offline: true})
    assert.equal(again.dir, got.dir)
    assert.equal(requests.length, before)
  })

  it('a repo the Hub does not have: a HubError naming it, nothing cached', async () => {
    await assert.rejects(resolveModel({model: 'org/missing', cacheDir: cache, hubUrl}), (e: unknown) => {
      assert.ok(e instanceof HubError)
      assert.match(e.message, /^org\/missing: download from the Hub failed/)
      return true
    })
    assert.deepEqual(readdirSync(cache), ['models--org--tiny'])
  })
})
