import assert from 'node:assert/strict'
import {cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {HubError, ModelError} from '../../src/errors.js'
import {hubFetch} from '../../src/hub/hub-fetch.js'
import {pushModel, pushModelIter, type PushEvent} from '../../src/publish/push-model.js'
import {describeUrl, redactSecrets} from '../../src/hub/redact.js'
import {STORIES} from '../helpers/cli.js'
import {FakeHub} from '../helpers/fake-hub.js'

const TOKEN = 'hf_LibraryTokenForPushModelTests01'

describe('pushModelIter', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'dlec-push-lib-'))
  const model = join(tmp, 'model')
  let hub: FakeHub
  before(async () => {
    cpSync(STORIES, model, {recursive: true})
    hub = await new FakeHub(TOKEN).start()
  })
  after(async () => {
    await hub.stop()
    rmSync(tmp, {recursive: true, force: true})
  })

  it('yields start, the phases in order, byte progress with rate and ETA, ending at the total', async () => {
    let clock = 0
    const events: PushEvent[] = []
    const it = pushModelIter({dir: model, repo: 'me/lib', accessToken: TOKEN, hubUrl: hub.url, now: () => (clock += 50)})
    let next = await it.next()
    while (!next.done) {
      events.push(next.value)
      next = await it.next()
    }
    const report = next.value
    const start = events[0]
    assert.ok(start?.type === 'start')
    assert.equal(start.totalBytes, report.totalBytes)
    assert.equal(start.files, report.files.length)
    const phases = events.flatMap((e) => (e.type === 'phase' ? [e.phase] : []))
    // First appearance of each phase, in order (hashing interleaves with uploading).
    assert.deepEqual([...new Set(phases.filter((p) => p !== 'hashing'))], ['creating-repo', 'preuploading', 'uploading', 'committing'])
    const progress = events.flatMap((e) => (e.type === 'progress' ? [e] : []))
    assert.ok(progress.length >= 2)
    for (let i = 1; i < progress.length; i++) {
      assert.ok((progress[i]?.bytesDone ?? 0) >= (progress[i - 1]?.bytesDone ?? 0))
    }
    const last = progress.at(-1)
    assert.equal(last?.bytesDone, report.totalBytes)
    assert.equal(last?.etaSeconds, 0)
    assert.ok((last?.bytesPerSecond ?? 0) > 0)
    assert.equal(hub.commitAt('me/lib')?.oid, report.commit)
    assert.ok(!JSON.stringify({events, report}).includes(TOKEN))
  })

  it('extra files join the same commit and replace a local file of the same path', async () => {
    const report = await pushModel({dir: model, repo: 'me/extra', accessToken: TOKEN, hubUrl: hub.url, extraFiles: [{path: 'README.md', content: new Blob(['# card\n'])}, {path: 'images/curve.png', content: new Blob([Buffer.from([137, 80, 78, 71])])}]})
    const commit = hub.commitAt('me/extra')
    assert.equal(commit?.oid, report.commit)
    assert.equal(hub.repos.get('me/extra')?.commits.length, 1)
    assert.equal(commit?.files.get('README.md')?.data.toString(), '# card\n')
    assert.deepEqual([...(commit?.files.get('images/curve.png')?.data ?? [])], [137, 80, 78, 71])
  })

  it('refuses a symlink out of the folder (a token file, /etc/passwd) before any request', async () => {
    const dir = join(tmp, 'linked')
    cpSync(model, dir, {recursive: true})
    writeFileSync(join(tmp, 'secret'), 'not for the Hub')
    symlinkSync(join(tmp, 'secret'), join(dir, 'notes.txt'))
    const before = hub.requests.length
    await assert.rejects(pushModel({dir, repo: 'me/linked', accessToken: TOKEN, hubUrl: hub.url}), (e: unknown) => e instanceof ModelError && /notes\.txt: a symlink that leads out of the folder/.test(e.message))
    assert.equal(hub.requests.length, before)
  })

  it('a commit answer with a crafted commit id is refused', async () => {
    hub.answer = (route, body) => (route === 'commit' ? {...(body as object), commitOid: '../../../etc'} : body)
    try {
      await assert.rejects(pushModel({dir: model, repo: 'me/crafted', accessToken: TOKEN, hubUrl: hub.url}), (e: unknown) => e instanceof HubError && /without a valid commit id/.test(e.message))
    } finally {
      hub.answer = undefined
    }
  })
})

describe('hubFetch', () => {
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/stall')) {
      res.setHeader('content-length', '100')
      res.write('partial')
      return // stalls mid-body
    }
    res.end('ok')
  })
  let base = ''
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(() => {
    server.closeAllConnections()
    server.close()
  })

  it('a body that stalls midway fails after the idle timeout, naming the URL without its query', async () => {
    const res = await hubFetch({timeoutMs: 300})(`${base}/stall?sig=secret`)
    await assert.rejects(res.text(), (e: unknown) => e instanceof HubError && e.message === `GET ${base}/stall: the Hub did not answer for 0.3 s`)
  })

  it('a refused connection is a HubError naming the URL', async () => {
    const closed = createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((r) => closed.close(() => r()))
    await assert.rejects(hubFetch({timeoutMs: 1000})(`http://127.0.0.1:${port}/api/x`, {method: 'POST'}), (e: unknown) => e instanceof HubError && e.message === `POST http://127.0.0.1:${port}/api/x: ECONNREFUSED`)
  })
})

describe('redactSecrets', () => {
  it('removes the given tokens, hf_ tokens and echoed credentials', () => {
    assert.equal(redactSecrets('bad token abc123secret', ['abc123secret']), 'bad token [redacted]')
    assert.equal(redactSecrets('Authorization: Bearer xyz.987-long'), 'Authorization: [redacted]')
    assert.equal(redactSecrets('{"authorization":"Bearer q1w2e3r4"}'), '{"authorization":"[redacted]"}')
    assert.equal(redactSecrets('see hf_AbCdEf123456 there'), 'see [redacted] there')
    assert.equal(redactSecrets('url?token=s3cr3tvalue&x=1'), 'url?token=[redacted]&x=1')
    assert.equal(redactSecrets('nothing secret here'), 'nothing secret here')
    assert.equal(describeUrl('https://user:pw@h.co/a/b?X-Amz-Signature=zz'), 'https://h.co/a/b')
  })
})
