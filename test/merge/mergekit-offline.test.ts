import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {promisify} from 'node:util'
import {findMergekit} from '../../src/merge/engines/run-mergekit.js'
import {dlec, python, ROOT, STORIES} from '../helpers/cli.js'
import {FakeHub} from '../helpers/fake-hub.js'

const run = promisify(execFile)
const yamlFor = (model: string): string =>
  `merge_method: passthrough\ndtype: float32\nslices:\n- sources:\n  - model: ${model}\n    layer_range: [0, 4]\n- sources:\n  - model: ${model}\n    layer_range: [3, 5]\n`

/** Every safetensors file of a folder, by name. */
function weights(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).filter((f) => f.endsWith('.safetensors')).map((f) => [f, readFileSync(join(dir, f))]))
}

describe('dlec merge --engine mergekit offline: Hub ids handed to mergekit as cached snapshot folders', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'dlec-mk-offline-'))
  const home = join(tmp, 'hf-home')
  const plan = join(tmp, 'hub.yaml')
  const env = (): NodeJS.ProcessEnv => ({HF_HOME: home, HF_HUB_CACHE: '', HF_HUB_OFFLINE: '1', HF_TOKEN: '', HF_TOKEN_PATH: '', HF_HUB_DISABLE_TELEMETRY: '1'})
  let hub: FakeHub
  let mergekit = ''
  let snapshot = ''
  before(async () => {
    const found = findMergekit({pathEnv: process.env.PATH})
    assert.ok(found, 'mergekit-yaml on PATH (scripts/test.sh puts the venv first)')
    mergekit = found
    hub = await new FakeHub('hf_writer').start()
    hub.seed('org/tiny', Object.fromEntries(readdirSync(STORIES).map((f) => [f, readFileSync(join(STORIES, f))])))
    const {stdout} = await run(python(), [join(ROOT, 'test/python/hub_snapshot.py'), hub.url, 'org/tiny', join(home, 'hub'), 'main'], {env: {...process.env, HF_TOKEN: ''}})
    snapshot = stdout.trim().split('\n').at(-1) ?? ''
    await hub.stop()
    writeFileSync(plan, yamlFor('org/tiny'))
  })
  after(() => rmSync(tmp, {recursive: true, force: true}))

  it('mergekit 0.1.5 alone fails offline on the Hub id, though it is cached (why dlec rewrites the YAML)', async () => {
    await assert.rejects(run(mergekit, [plan, join(tmp, 'alone')], {env: {...process.env, ...env()}}), (e: {code?: number; stderr?: string}) => {
      // mergekit 0.1.5 here: `IsADirectoryError: [Errno 21] Is a directory: '.'` after its offline lookup.
      assert.notEqual(e.code, 0)
      assert.match(e.stderr ?? '', /Error/)
      return true
    })
  })

  it('dlec merge gives mergekit the snapshot: the tensors mergekit writes from the local folder, the YAML and card naming org/tiny', async () => {
    const local = join(tmp, 'local.yaml')
    writeFileSync(local, yamlFor(STORIES))
    await run(mergekit, [local, join(tmp, 'reference')], {env: {...process.env, ...env()}})
    const out = join(tmp, 'merged')
    const res = await dlec(['merge', plan, out, '--engine', 'mergekit'], {env: env()})
    assert.equal(res.code, 0, res.stderr)
    const expected = weights(join(tmp, 'reference'))
    const got = weights(out)
    assert.deepEqual([...got.keys()], [...expected.keys()])
    for (const [name, bytes] of expected) {
      assert.ok(got.get(name)?.equals(bytes), name)
    }
    assert.equal(readFileSync(join(out, 'mergekit_config.yml'), 'utf8'), yamlFor('org/tiny'))
    const card = readFileSync(join(out, 'README.md'), 'utf8')
    assert.ok(!card.includes(snapshot) && !card.includes(home), card)
    assert.match(card, /org\/tiny/)
    assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).num_hidden_layers, 6)
  })

  it('a revision the cache lacks: one line naming it, before mergekit runs', async () => {
    const missing = join(tmp, 'missing.yaml')
    writeFileSync(missing, yamlFor('org/tiny@v9'))
    const res = await dlec(['merge', missing, join(tmp, 'never'), '--engine', 'mergekit'], {env: env()})
    assert.equal(res.code, 11, res.stderr)
    assert.match(res.stderr, /^Error: org\/tiny@v9: not in the Hugging Face cache .* and HF_HUB_OFFLINE is set \(it holds main, [0-9a-f]{40}\)\n$/)
  })
})
