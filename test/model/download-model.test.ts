import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {promisify} from 'node:util'
import {HubError} from '../../src/errors.js'
import type {DownloadEvent} from '../../src/model/download-model.js'
import {resolveModel} from '../../src/model/resolve-model.js'
import {ShardedTensorIndex} from '../../src/safetensors/reader.js'
import {python, ROOT, STORIES} from '../helpers/cli.js'
import {FakeHub, gitBlobOid, sha256} from '../helpers/fake-hub.js'

const run = promisify(execFile)
const CANARY = 'hf_CanaryDownloadTokenQ4mZ8xW2'
const WEIGHTS = readFileSync(join(STORIES, 'model.safetensors'))
const WEIGHTS_BLOB = sha256(WEIGHTS)
/** stories260K's parameter count, as its README gives it (transformers' num_parameters). */
const STORIES_PARAMETERS = 260_032

function storiesFiles(): Record<string, Buffer> {
  return Object.fromEntries(readdirSync(STORIES).map((f) => [f, readFileSync(join(STORIES, f))]))
}

/** huggingface_hub and transformers reading the cache offline (local_files_only). */
async function pythonReads(cache: string, repo: string, revision: string): Promise<{snapshot: string; parameters: number; warnings: string[]}> {
  const {stdout} = await run(python(), [join(ROOT, 'test/python/hub_cache_check.py'), cache, repo, revision], {env: {...process.env, HF_TOKEN: '', HF_HUB_DISABLE_TELEMETRY: '1'}})
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {snapshot: string; parameters: number; warnings: string[]}
}

describe('downloads into the HF cache: parallel, progress, stall timeout, resume, checksums', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'dlec-download-'))
  let hub: FakeHub
  let commit = ''
  let n = 0
  const freshCache = (): string => join(tmp, `cache-${n++}`)
  before(async () => {
    hub = await new FakeHub('hf_writer').start()
    commit = hub.seed('org/tiny', storiesFiles()).oid
    hub.seed('org/private', storiesFiles(), {private: true})
  })
  after(async () => {
    await hub.stop()
    rmSync(tmp, {recursive: true, force: true})
  })

  it('fetches up to 4 files at once in huggingface_hub layout, with byte progress, rate and ETA; Python reads it offline', async () => {
    const cache = freshCache()
    const events: DownloadEvent[] = []
    hub.resolveDelayMs = 150
    hub.maxResolveInFlight = 0
    const got = await resolveModel({model: 'org/tiny', cacheDir: cache, hubUrl: hub.url, onProgress: (e) => events.push(e)}).finally(() => {
      hub.resolveDelayMs = 0
    })
    // 8 files, 4 workers: four requests were open together, never more.
    assert.equal(hub.maxResolveInFlight, 4)
    const repo = join(cache, 'models--org--tiny')
    assert.equal(got.dir, join(repo, 'snapshots', commit))
    assert.equal(readFileSync(join(repo, 'refs', 'main'), 'utf8'), commit)
    const weights = join(got.dir, 'model.safetensors')
    assert.ok(lstatSync(weights).isSymbolicLink())
    assert.equal(readlinkSync(weights), join('..', '..', 'blobs', WEIGHTS_BLOB))
    assert.ok(readFileSync(weights).equals(WEIGHTS))
    assert.deepEqual(readdirSync(join(repo, 'blobs')).filter((f) => f.endsWith('.incomplete')), [])
    const total = readdirSync(STORIES).reduce((a, f) => a + readFileSync(join(STORIES, f)).byteLength, 0)
    const start = events.find((e) => e.type === 'download-start')
    assert.deepEqual(start, {type: 'download-start', repo: 'org/tiny', revision: 'main', commit, files: 8, totalBytes: total, cachedBytes: 0})
    assert.deepEqual(events.filter((e) => e.type === 'download-file').map((e) => e.path).sort(), readdirSync(STORIES).sort())
    const progress = events.filter((e) => e.type === 'download-progress')
    assert.equal(progress.at(-1)?.bytesDone, total)
    assert.ok(progress.every((e) => e.totalBytes === total && e.bytesPerSecond >= 0))
    assert.ok(progress.some((e) => e.etaSeconds !== undefined && e.bytesPerSecond > 0))
    assert.equal(events.at(-1)?.type, 'download-done')
    const index = await ShardedTensorIndex.open(got.dir)
    assert.deepEqual(index.info('model.norm.weight').shape, [64])
    await index.close()
    const py = await pythonReads(cache, 'org/tiny', 'main')
    assert.equal(py.snapshot, got.dir)
    assert.equal(py.parameters, STORIES_PARAMETERS)
    assert.deepEqual(py.warnings, [])
    // Again: from the cache, no request.
    const before = hub.requests.length
    assert.equal((await resolveModel({model: 'org/tiny', cacheDir: cache, hubUrl: hub.url, offline: true})).dir, got.dir)
    assert.equal(hub.requests.length, before)
  })

  it('resumes an .incomplete blob with a Range request, checks its sha256, and Python reads the result', async () => {
    const cache = freshCache()
    const blobs = join(cache, 'models--org--tiny', 'blobs')
    mkdirSync(blobs, {recursive: true})
    const half = Math.floor(WEIGHTS.byteLength / 2)
    writeFileSync(join(blobs, `${WEIGHTS_BLOB}.incomplete`), WEIGHTS.subarray(0, half))
    const events: DownloadEvent[] = []
    const from = hub.requests.length
    const got = await resolveModel({model: 'org/tiny', cacheDir: cache, hubUrl: hub.url, onProgress: (e) => events.push(e)})
    const asked = hub.requests.slice(from).filter((r) => r.route === 'resolve' && r.path.endsWith('/model.safetensors'))
    assert.deepEqual(asked.map((r) => r.range), [`bytes=${half}-`])
    assert.deepEqual(events.find((e) => e.type === 'download-file' && e.path === 'model.safetensors'), {type: 'download-file', path: 'model.safetensors', bytes: WEIGHTS.byteLength, resumedFrom: half})
    assert.ok(readFileSync(join(got.dir, 'model.safetensors')).equals(WEIGHTS))
    assert.equal(existsSync(join(blobs, `${WEIGHTS_BLOB}.incomplete`)), false)
    assert.equal((await pythonReads(cache, 'org/tiny', 'main')).parameters, STORIES_PARAMETERS)
  })

  it('a Hub that ignores Range (200, the whole file): the partial blob is restarted, not doubled', async () => {
    const cache = freshCache()
    const blobs = join(cache, 'models--org--tiny', 'blobs')
    mkdirSync(blobs, {recursive: true})
    writeFileSync(join(blobs, `${WEIGHTS_BLOB}.incomplete`), WEIGHTS.subarray(0, 1000))
    hub.fault = {route: 'resolve', kind: 'no-range'}
    try {
      const got = await resolveModel({model: 'org/tiny', cacheDir: cache, hubUrl: hub.url})
      assert.ok(readFileSync(join(got.dir, 'model.safetensors')).equals(WEIGHTS))
    } finally {
      hub.fault = undefined
    }
  })

  it('a stalled Hub fails after the timeout naming the URL; the partial blob stays and the next run resumes it', async () => {
    const cache = freshCache()
    hub.fault = {route: 'resolve', kind: 'stall', path: 'model.safetensors'}
    const started = Date.now()
    try {
      await assert.rejects(resolveModel({model: 'org/tiny', cacheDir: cache, hubUrl: hub.url, timeoutMs: 700}), (e: unknown) => {
        assert.ok(e instanceof HubError, String(e))
        assert.equal(e.code, 'DLEC_HUB_TIMEOUT')
        assert.match(e.message, new RegExp(`GET ${hub.url}/org/tiny/resolve/${commit}/model\\.safetensors: the Hub did not answer for 0\\.7 s`))
        return true
      })
    } finally {
      hub.fault = undefined
    }
    assert.ok(Date.now() - started < 20_000)
    const partial = join(cache, 'models--org--tiny', 'blobs', `${WEIGHTS_BLOB}.incomplete`)
    const kept = lstatSync(partial).size
    assert.equal(kept, Math.floor(WEIGHTS.byteLength / 2))
    assert.equal(existsSync(join(cache, 'models--org--tiny', 'snapshots')), false)
    const from = hub.requests.length
    const got = await resolveModel({model: 'org/tiny', cacheDir: cache, hubUrl: hub.url})
    assert.deepEqual(hub.requests.slice(from).filter((r) => r.path.endsWith('/model.safetensors')).map((r) => r.range), [`bytes=${kept}-`])
    assert.ok(readFileSync(join(got.dir, 'model.safetensors')).equals(WEIGHTS))
  })

  it('bytes that do not hash to the etag: refused naming the URL, nothing kept', async () => {
    for (const path of ['model.safetensors', 'config.json']) {
      const cache = freshCache()
      hub.fault = {route: 'resolve', kind: 'corrupt', path}
      try {
        await assert.rejects(resolveModel({model: 'org/tiny', cacheDir: cache, hubUrl: hub.url}), (e: unknown) => {
          assert.ok(e instanceof HubError, String(e))
          assert.equal(e.code, 'DLEC_HUB_CHECKSUM')
          assert.match(e.message, new RegExp(`^GET ${hub.url}/org/tiny/resolve/${commit}/${path.replace('.', '\\.')}: the downloaded ${path.replace('.', '\\.')} has (sha256|git-sha1) [0-9a-f]+, not the`))
          return true
        })
      } finally {
        hub.fault = undefined
      }
      // The bad file is gone, complete or partial (others stopped mid-way keep theirs, to resume).
      const data = readFileSync(join(STORIES, path))
      const etag = path.endsWith('.safetensors') ? sha256(data) : gitBlobOid(data)
      assert.deepEqual(readdirSync(join(cache, 'models--org--tiny', 'blobs')).filter((f) => f.startsWith(etag)), [], path)
      assert.equal(existsSync(join(cache, 'models--org--tiny', 'snapshots')), false, path)
    }
  })

  it('a private repo: no token is a one-line error naming the URL; the token is sent, and never shown', async () => {
    await assert.rejects(resolveModel({model: 'org/private', cacheDir: freshCache(), hubUrl: hub.url}), (e: unknown) => {
      assert.ok(e instanceof HubError)
      assert.match(e.message, new RegExp(`the Hub answered 401 to ${hub.url}/api/models/org/private`))
      return true
    })
    await assert.rejects(resolveModel({model: 'org/private', cacheDir: freshCache(), hubUrl: hub.url, accessToken: CANARY}), (e: unknown) => {
      assert.ok(e instanceof HubError)
      assert.ok(!e.message.includes(CANARY), e.message)
      assert.ok(!e.message.includes('CanaryDownload'), e.message)
      return true
    })
    const got = await resolveModel({model: 'org/private', cacheDir: freshCache(), hubUrl: hub.url, accessToken: 'hf_writer'})
    assert.ok(readFileSync(join(got.dir, 'model.safetensors')).equals(WEIGHTS))
  })

  it('a repo the Hub does not have: a HubError naming it and the URL, nothing cached', async () => {
    const cache = freshCache()
    await assert.rejects(resolveModel({model: 'org/missing', cacheDir: cache, hubUrl: hub.url}), (e: unknown) => {
      assert.ok(e instanceof HubError)
      assert.match(e.message, new RegExp(`^org/missing: download from the Hub failed: the Hub answered 404 to ${hub.url}/api/models/org/missing`))
      return true
    })
    assert.equal(existsSync(cache), false)
  })
})
