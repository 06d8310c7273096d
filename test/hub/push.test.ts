import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {promisify} from 'node:util'
import {dlec, python, ROOT, STORIES} from '../helpers/cli.js'
import {FakeHub, sha256} from '../helpers/fake-hub.js'

const CANARY = 'hf_CanaryTokenXq7ZpL0wK3nB9vR2sT5uY8'
const run = promisify(execFile)

function listFiles(dir: string): string[] {
  return readdirSync(dir, {recursive: true, withFileTypes: true})
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort()
}

/** Every file under `dir` (recursively) as text: for the canary search. */
function allText(dir: string): string {
  return listFiles(dir).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('\n')
}

describe('dlec push against a local fake Hub', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'dlec-push-'))
  const model = join(tmp, 'model')
  const home = join(tmp, 'hf-home')
  let hub: FakeHub
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({HF_HOME: home, HF_TOKEN: '', HF_TOKEN_PATH: '', HF_ENDPOINT: hub.url, ...extra})
  const outputs: string[] = []
  const push = async (args: string[], extra?: NodeJS.ProcessEnv): Promise<Awaited<ReturnType<typeof dlec>>> => {
    const result = await dlec(['push', ...args], {env: env(extra)})
    outputs.push(result.stdout, result.stderr)
    return result
  }

  before(async () => {
    cpSync(STORIES, model, {recursive: true})
    hub = await new FakeHub(CANARY).start()
  })
  after(async () => {
    await hub.stop()
    rmSync(tmp, {recursive: true, force: true})
  })

  it('--token: one commit with every file byte-identical, safetensors through LFS, --json report', async () => {
    const r = await push([model, '--repo', 'me/tiny', '--token', CANARY, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const report = JSON.parse(r.stdout) as {repo: string; commit: string; created: boolean; files: Array<{path: string}>}
    assert.equal(report.repo, 'me/tiny')
    assert.equal(report.created, true)
    const repo = hub.repos.get('me/tiny')
    assert.ok(repo)
    assert.equal(repo.commits.length, 1)
    const commit = repo.commits[0]
    assert.ok(commit)
    assert.equal(commit.oid, report.commit)
    assert.deepEqual([...commit.files.keys()].sort(), listFiles(model))
    for (const [path, file] of commit.files) {
      assert.ok(file.data.equals(readFileSync(join(model, path))), path)
    }
    assert.ok(commit.files.get('model.safetensors')?.lfs)
    assert.ok(hub.lfs.has(sha256(readFileSync(join(model, 'model.safetensors')))))
    assert.ok(commit.files.has('README.md') && commit.files.has('config.json'))
  })

  it("huggingface_hub's snapshot_download from the fake Hub gets back the local files", async () => {
    const cache = join(tmp, 'py-cache')
    const {stdout} = await run(python(), [join(ROOT, 'test/python/hub_snapshot.py'), hub.url, 'me/tiny', cache, 'main'], {env: {...process.env, HF_TOKEN: '', HF_HUB_DISABLE_TELEMETRY: '1'}})
    const snapshot = stdout.trim().split('\n').at(-1) ?? ''
    assert.deepEqual(listFiles(snapshot), listFiles(model))
    for (const f of listFiles(model)) {
      assert.ok(readFileSync(join(snapshot, f)).equals(readFileSync(join(model, f))), f)
    }
  })

  it('HF_TOKEN, then the token file: a second commit each, to the existing repo and to a new branch', async () => {
    const a = await push([model, '--repo', 'me/tiny', '--message', 'again'], {HF_TOKEN: CANARY})
    assert.equal(a.code, 0, a.stderr)
    assert.match(a.stdout, /^Updated me\/tiny \(main\): commit [0-9a-f]{40}$/m)
    assert.equal(hub.repos.get('me/tiny')?.commits.length, 2)
    assert.equal(hub.commitAt('me/tiny')?.title, 'again')
    rmSync(home, {recursive: true, force: true})
    writeFileSync(join(tmp, 'token'), `${CANARY}\n`)
    const b = await push([model, '--repo', 'me/tiny', '--revision', 'dev', '--json'], {HF_TOKEN_PATH: join(tmp, 'token')})
    assert.equal(b.code, 0, b.stderr)
    assert.equal(hub.repos.get('me/tiny')?.commits.length, 3)
    assert.equal(hub.commitAt('me/tiny', 'dev')?.oid, (JSON.parse(b.stdout) as {commit: string}).commit)
    assert.notEqual(hub.commitAt('me/tiny', 'main')?.oid, hub.commitAt('me/tiny', 'dev')?.oid)
  })

  it('the token file under $HF_HOME', async () => {
    const h = join(tmp, 'home2')
    cpSync(join(tmp, 'token'), join(h, 'token'), {recursive: true})
    const r = await push([model, '--repo', 'me/other', '--private', '--json'], {HF_HOME: h, HF_TOKEN_PATH: undefined})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(hub.repos.get('me/other')?.private, true)
    assert.equal(hub.repos.get('me/other')?.commits.length, 1)
  })

  const refused = async (args: string[], extra: NodeJS.ProcessEnv, message: RegExp, code = 11): Promise<void> => {
    const before = hub.requests.length
    const r = await push(args, extra)
    assert.equal(r.code, code, r.stderr)
    assert.match(r.stderr, message)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/)
    assert.equal(hub.requests.length, before, 'no request to the Hub')
  }

  it('refused up front: no token, no safetensors, config.json disagreeing with the weights, a file holding the token', async () => {
    await refused([model, '--repo', 'me/x'], {HF_HOME: join(tmp, 'nowhere'), HF_TOKEN_PATH: undefined}, /^Error: no Hub token: pass --token, set HF_TOKEN/)
    const empty = join(tmp, 'empty')
    cpSync(model, empty, {recursive: true})
    rmSync(join(empty, 'model.safetensors'))
    await refused([empty, '--repo', 'me/x', '--token', CANARY], {}, /no \.safetensors files to push/, 4)
    const wrong = join(tmp, 'wrong')
    cpSync(model, wrong, {recursive: true})
    const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')) as Record<string, unknown>
    writeFileSync(join(wrong, 'config.json'), JSON.stringify({...config, num_hidden_layers: 3}))
    await refused([wrong, '--repo', 'me/x', '--token', CANARY], {}, /config\.json: says 3 layers but the safetensors hold layer 4/, 4)
    writeFileSync(join(wrong, 'config.json'), JSON.stringify({...config, num_hidden_layers: 7}))
    await refused([wrong, '--repo', 'me/x', '--token', CANARY], {}, /model\.layers\.5\..* is not in the checkpoint/, 4)
    const leaky = join(tmp, 'leaky')
    cpSync(model, leaky, {recursive: true})
    writeFileSync(join(leaky, 'notes.txt'), `token=${CANARY}`)
    await refused([leaky, '--repo', 'me/x', '--token', CANARY], {}, /notes\.txt: contains your Hub token; refusing to publish it/, 4)
    await refused([model, '--repo', '../x', '--token', CANARY], {}, /not a Hub repo id/, 2)
    assert.equal(hub.repos.has('me/x'), false)
  })

  const failsWithoutCommit = async (args: string[], message: RegExp): Promise<string> => {
    const commits = [...hub.repos.values()].reduce((a, r) => a + r.commits.length, 0)
    const r = await push(args)
    assert.equal(r.code, 11, r.stderr)
    assert.match(r.stderr, message)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.equal([...hub.repos.values()].reduce((a, x) => a + x.commits.length, 0), commits, 'no commit')
    return r.stderr
  }

  it('a wrong token: the 401 body echoing it is redacted; no commit', async () => {
    const wrong = 'hf_WrongTokenAbCdEfGh0123456789'
    const stderr = await failsWithoutCommit([model, '--repo', 'me/y', '--token', wrong], /the Hub answered 401 to http:\/\/127\.0\.0\.1:\d+\/api\/repos\/create: Invalid credentials in Authorization header: Bearer \[redacted\] \(is the token valid/)
    assert.ok(!stderr.includes(wrong))
    assert.ok(!stderr.includes('WrongToken'))
  })

  it('a Hub answering 500 at the commit: clean failure naming the URL, no commit', async () => {
    hub.fault = {route: 'commit', kind: '500'}
    try {
      await failsWithoutCommit([model, '--repo', 'me/tiny', '--token', CANARY], /push failed, nothing was committed: the Hub answered 500 to http:\/\/127\.0\.0\.1:\d+\/api\/models\/me\/tiny\/commit\/main/)
    } finally {
      hub.fault = undefined
    }
  })

  for (const route of ['preupload', 'lfs-upload', 'commit'] as const) {
    it(`a Hub that hangs at ${route}: fails after --timeout naming the URL, no commit`, async () => {
      hub.fault = {route, kind: 'hang'}
      hub.lfs.clear()
      try {
        await failsWithoutCommit([model, '--repo', 'me/tiny', '--token', CANARY, '--timeout', '1'], /the Hub did not answer for 1 s/)
      } finally {
        hub.fault = undefined
      }
    })
  }

  it('the canary token is in no output and no file: not the pushed files, the local folder, HF_HOME', () => {
    for (const text of outputs) {
      assert.ok(!text.includes(CANARY))
      assert.ok(!text.includes('CanaryToken'))
    }
    for (const repo of hub.repos.values()) {
      for (const c of repo.commits) {
        for (const [path, f] of c.files) {
          assert.ok(!f.data.includes(CANARY), path)
        }
      }
    }
    assert.ok(!allText(model).includes(CANARY))
    assert.ok(!allText(join(tmp, 'py-cache')).includes(CANARY))
  })
})
