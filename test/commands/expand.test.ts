import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {listEvals} from '../../src/store/evals.js'
import {openStore} from '../../src/store/open-store.js'
import {ROOT, STORIES, dlec, python} from '../helpers/cli.js'

const tmp = mkdtempSync(join(tmpdir(), 'dlec-cmd-expand-'))
after(() => rmSync(tmp, {recursive: true, force: true}))
const DATA = join(ROOT, 'fixtures', 'calibration', 'stories.txt')

interface Report {
  plan: {layers: number[]; loss: number; kl: number; paramsAfter: number; target: {addLayers: number}}
  merge: {engine: string; layers: number; out: string}
  check: {loss: number; planLossError: number; tokens: number}
}

describe('dlec expand', () => {
  it('plans, merges and checks stories260K: the merged folder is the planned layer sequence and has the planned loss', async () => {
    const out = join(tmp, 'stories-7L')
    const dbPath = join(tmp, 'expand.duckdb')
    const r = await dlec(['expand', STORIES, '--add-layers', '2', '--data', DATA, '--max-tokens', '600', '--engine', 'native', '--out', out, '--db', dbPath, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const report = JSON.parse(r.stdout) as Report
    assert.equal(report.plan.layers.length, 7)
    assert.equal(report.merge.layers, 7)
    assert.ok(report.check.tokens > 0)
    // The merged model run from its own files gives the loss the zero-copy plan measured.
    assert.ok(report.check.planLossError < 1e-5, `merged loss differs from the plan's by ${report.check.planLossError}`)
    // Independently (safetensors in Python): output layer k holds exactly the bytes of source layer plan.layers[k].
    const script = `
import json, sys
from safetensors.numpy import load_file
out, src, layers = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
a, b = load_file(out + '/model.safetensors'), load_file(src + '/model.safetensors')
cfg = json.load(open(out + '/config.json'))
assert cfg['num_hidden_layers'] == len(layers), cfg['num_hidden_layers']
n = 0
for k, s in enumerate(layers):
    for name in [x for x in b if x.startswith('model.layers.%d.' % s)]:
        o = name.replace('model.layers.%d.' % s, 'model.layers.%d.' % k, 1)
        assert a[o].tobytes() == b[name].tobytes(), o
        n += 1
print(n)
`
    const checked = Number(execFileSync(python(), ['-c', script, out, STORIES, JSON.stringify(report.plan.layers)], {encoding: 'utf8'}).trim())
    assert.equal(checked, 7 * 9)
    // The plan is recorded in the store, as `dlec plan` records it.
    const db = await openStore({path: dbPath, readOnly: true})
    try {
      const plans = (await listEvals(db)).filter((e) => e.extra?.kind === 'plan')
      assert.equal(plans.length, 1)
      assert.deepEqual(plans[0]?.layers, report.plan.layers)
      assert.equal(plans[0]?.kl, report.plan.kl)
    } finally {
      db.close()
    }
  })

  it('refuses an existing output folder up front, without --force, and leaves it as it was', async () => {
    const out = join(tmp, 'existing')
    mkdirSync(out)
    writeFileSync(join(out, 'keep.txt'), 'mine')
    const r = await dlec(['expand', STORIES, '--add-layers', '1', '--data', DATA, '--engine', 'native', '--out', out, '--db', join(tmp, 'refused.duckdb')])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /^Error: .*exists/m)
    assert.doesNotMatch(r.stderr, /\n\s+at /)
    assert.deepEqual(readdirSync(out), ['keep.txt'])
  })
})
