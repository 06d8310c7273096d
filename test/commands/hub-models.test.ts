import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {promisify} from 'node:util'
import type {LayersReport} from '../../src/merge/describe-layers.js'
import type {ProfileResult} from '../../src/profile/profile-model.js'
import {dlec, python, ROOT, STORIES, type CliResult} from '../helpers/cli.js'
import {FakeHub} from '../helpers/fake-hub.js'

const run = promisify(execFile)
const CANARY = 'hf_CanaryModelsTokenP3vN8qL1'
/** stories260K's parameter count and depth, as its README gives them. */
const STORIES_PARAMETERS = 260_032
const DATA = join(ROOT, 'fixtures/calibration/stories.txt')

function storiesFiles(readme = ''): Record<string, Buffer> {
  const files = Object.fromEntries(readdirSync(STORIES).map((f) => [f, readFileSync(join(STORIES, f))]))
  return {...files, 'README.md': Buffer.concat([files['README.md'] ?? Buffer.alloc(0), Buffer.from(readme)])}
}

/** A port nothing listens on: connections to it are refused (no network). */
async function refusedUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const {port} = server.address() as {port: number}
  await new Promise<void>((r) => server.close(() => r()))
  return `http://127.0.0.1:${port}`
}

/** One line of stderr, no stack trace, the exit code. */
function oneLine(res: CliResult, exit: number): string {
  assert.equal(res.code, exit, `exit ${res.code}: ${res.stderr}`)
  assert.doesNotMatch(res.stderr, /\n\s+at /)
  const lines = res.stderr.split('\n').filter((l) => l.trim() !== '')
  assert.equal(lines.length, 1, res.stderr)
  return lines[0] ?? ''
}

describe('Hub ids and revisions: profile and config commands from an HF cache filled by huggingface_hub, offline', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'dlec-hub-models-'))
  const home = join(tmp, 'hf-home')
  const cache = join(home, 'hub')
  const plan = join(tmp, 'plan.yaml')
  let hub: FakeHub
  let noNetwork = ''
  const commits = {main: '', v1First: '', v1: ''}
  const baseEnv = (): NodeJS.ProcessEnv => ({HF_HOME: home, HF_HUB_CACHE: '', HF_TOKEN: '', HF_TOKEN_PATH: '', HF_ENDPOINT: noNetwork, HF_HUB_OFFLINE: ''})
  const profile = (model: string[], env: NodeJS.ProcessEnv, json = true): Promise<CliResult> =>
    dlec(['profile', ...model, '--data', DATA, '--samples', '2', '--max-tokens', '16', '--db', join(tmp, `p${Math.random().toString(36).slice(2)}.duckdb`), '--cache-dir', join(tmp, 'dlec-cache'), ...(json ? ['--json'] : [])], {env: {...baseEnv(), ...env}})

  before(async () => {
    hub = await new FakeHub('hf_writer').start()
    noNetwork = await refusedUrl()
    commits.main = hub.seed('org/tiny', storiesFiles()).oid
    commits.v1First = hub.addCommit('org/tiny', 'v1', storiesFiles('\nv1, first\n')).oid
    commits.v1 = hub.addCommit('org/tiny', 'v1', storiesFiles('\nv1, second\n')).oid
    hub.seed('org/gated', storiesFiles(), {private: true})
    // The cache as Python users fill it: main and v1 by branch name (refs/main, refs/v1), the first v1 commit by its hash (no ref).
    for (const revision of ['main', 'v1', commits.v1First]) {
      await run(python(), [join(ROOT, 'test/python/hub_snapshot.py'), hub.url, 'org/tiny', cache, revision], {env: {...process.env, HF_TOKEN: '', HF_HUB_DISABLE_TELEMETRY: '1'}})
    }
    writeFileSync(plan, 'merge_method: passthrough\nslices:\n- sources:\n  - model: org/tiny\n    layer_range: [0, 5]\n- sources:\n  - model: org/tiny\n    layer_range: [4, 5]\n')
  })
  after(async () => {
    await hub.stop()
    rmSync(tmp, {recursive: true, force: true})
  })

  it('the cache holds what huggingface_hub wrote: refs for the branches, a snapshot per commit', () => {
    const repo = join(cache, 'models--org--tiny')
    assert.deepEqual(readdirSync(join(repo, 'refs')).sort(), ['main', 'v1'])
    assert.equal(readFileSync(join(repo, 'refs', 'v1'), 'utf8'), commits.v1)
    assert.deepEqual(readdirSync(join(repo, 'snapshots')).sort(), [commits.main, commits.v1First, commits.v1].sort())
  })

  it('dlec profile org/name@branch (through refs/) and --revision COMMIT (no ref) offline, and with the Hub unreachable', async () => {
    for (const env of [{HF_HUB_OFFLINE: '1'}, {}]) {
      const byBranch = await profile(['org/tiny@v1'], env)
      assert.equal(byBranch.code, 0, byBranch.stderr + byBranch.stdout)
      assert.equal((JSON.parse(byBranch.stdout) as ProfileResult).model, `hub:org/tiny@${commits.v1}`)
      const byCommit = await profile(['org/tiny', '--revision', commits.v1First], env)
      assert.equal(byCommit.code, 0, byCommit.stderr + byCommit.stdout)
      const r = JSON.parse(byCommit.stdout) as ProfileResult
      assert.equal(r.model, `hub:org/tiny@${commits.v1First}`)
      assert.equal(r.layers.length, 5)
    }
  })

  it('dlec config layers / validate --model org/name from the cache, offline and with the Hub unreachable', async () => {
    for (const env of [{HF_HUB_OFFLINE: '1'}, {}]) {
      for (const command of ['layers', 'validate']) {
        const res = await dlec(['config', command, plan, '--model', 'org/tiny', '--json'], {env: {...baseEnv(), ...env}})
        assert.equal(res.code, 0, res.stderr + res.stdout)
        const r = JSON.parse(res.stdout) as LayersReport
        assert.equal(r.model?.dir, join(cache, 'models--org--tiny', 'snapshots', commits.main))
        assert.equal(r.model?.paramsBefore, STORIES_PARAMETERS)
        assert.equal(r.model?.depthBefore, 5)
        assert.equal(r.model?.depthAfter, 6)
      }
    }
  })

  it('a revision not in the cache, offline: one line naming it and what the cache holds', async () => {
    const line = oneLine(await profile(['org/tiny@v2'], {HF_HUB_OFFLINE: '1'}, false), 11)
    assert.match(line, new RegExp(`^Error: org/tiny@v2: not in the Hugging Face cache ${cache.replaceAll('/', '\\/')} and HF_HUB_OFFLINE is set \\(it holds main, v1, `))
    const layers = oneLine(await dlec(['config', 'layers', plan, '--model', 'org/tiny', '--revision', 'v2'], {env: {...baseEnv(), HF_HUB_OFFLINE: '1'}}), 11)
    assert.match(layers, /^Error: org\/tiny@v2: not in the Hugging Face cache/)
    // Not offline, the Hub unreachable: the download fails naming the URL.
    const down = oneLine(await dlec(['config', 'layers', plan, '--model', 'org/tiny@v2'], {env: baseEnv()}), 11)
    assert.match(down, new RegExp(`^Error: GET ${noNetwork}/api/models/org/tiny/revision/v2: ECONNREFUSED$`), down)
  })

  it('org/name@rev and --revision naming different revisions: one usage line', async () => {
    const line = oneLine(await profile(['org/tiny@v1', '--revision', 'main'], {HF_HUB_OFFLINE: '1'}, false), 2)
    assert.equal(line, 'Error: MODEL org/tiny@v1 names revision v1 but --revision says main: give one')
    const base = oneLine(await dlec(['config', 'validate', plan, '--model', 'org/tiny@'], {env: baseEnv()}), 2)
    assert.match(base, /--model org\/tiny@: expected org\/name or org\/name@revision/)
  })

  it('a gated model downloads with the token from --token, HF_TOKEN or $HF_HOME/token, shown with progress, never echoed', async () => {
    const gated = (extra: string[], env: NodeJS.ProcessEnv, where: string): Promise<CliResult> => {
      const h = join(tmp, where)
      mkdirSync(h, {recursive: true})
      return dlec(['config', 'layers', plan, '--model', 'org/gated', ...extra], {env: {...baseEnv(), HF_HOME: h, HF_ENDPOINT: hub.url, ...env}})
    }
    const denied = await gated(['--token', CANARY], {}, 'denied')
    assert.match(oneLine(denied, 11), new RegExp(`the Hub answered 401 to ${hub.url}/api/models/org/gated`))
    assert.ok(!denied.stderr.includes(CANARY) && !denied.stdout.includes(CANARY))
    const tokenHome = join(tmp, 'file')
    mkdirSync(tokenHome, {recursive: true})
    writeFileSync(join(tokenHome, 'token'), 'hf_writer\n')
    for (const [extra, env, where] of [[['--token', 'hf_writer'], {}, 'flag'], [[], {HF_TOKEN: 'hf_writer'}, 'env'], [[], {}, 'file']] as const) {
      const res = await gated([...extra], env, where)
      assert.equal(res.code, 0, `${where}: ${res.stderr}`)
      assert.match(res.stderr, /downloading org\/gated@main \([0-9a-f]{12}\): 8 files/)
      assert.match(res.stderr, /downloaded model\.safetensors \(1\.18 MB\)/)
      assert.ok(!res.stderr.includes('hf_writer') && !res.stdout.includes('hf_writer'), where)
      assert.match(res.stdout, /parameters 260\.0K -> 305\.5K/)
    }
  })
})
