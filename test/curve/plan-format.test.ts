import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {promisify} from 'node:util'
import {layerRanges} from '../../src/curve/plan-format.js'
import {dlec, python, ROOT, STORIES} from '../helpers/cli.js'

const run = promisify(execFile)
const tmp = mkdtempSync(join(tmpdir(), 'dlec-plan-format-'))
after(() => rmSync(tmp, {recursive: true, force: true}))
const DATA = join(ROOT, 'fixtures', 'calibration', 'stories.txt')

describe('dlec plan --format', () => {
  it('layerRanges: consecutive runs as half-open ranges', () => {
    assert.deepEqual(layerRanges([0, 1, 2, 2, 3, 4]), [[0, 3], [2, 5]])
    assert.deepEqual(layerRanges([0, 1, 2, 2, 3, 3, 4]), [[0, 3], [2, 4], [3, 5]])
    assert.deepEqual(layerRanges([0, 0, 0]), [[0, 1], [0, 1], [0, 1]])
    assert.deepEqual(layerRanges([3, 4, 0, 1]), [[3, 5], [0, 2]])
    assert.deepEqual(layerRanges([]), [])
  })

  it("peft: peft's LoraConfig with layer_replication builds the expanded model, its layer order is the plan's; layers: the plain list", async () => {
    const adapter = join(tmp, 'adapter')
    mkdirSync(adapter)
    const common = [STORIES, '--add-layers', '2', '--data', DATA, '--max-tokens', '300', '--db', join(tmp, 'p.duckdb'), '--json']
    const r = await dlec(['plan', ...common, '--format', 'peft', '--out', join(adapter, 'adapter_config.json')])
    assert.equal(r.code, 0, r.stderr)
    const plan = JSON.parse(r.stdout) as {layers: number[]; format: string}
    assert.equal(plan.format, 'peft')
    assert.notDeepEqual(plan.layers, [0, 1, 2, 3, 4])
    const {stdout} = await run(python(), [join(ROOT, 'test/python/peft_replication.py'), adapter, STORIES])
    const built = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as {order: number[]; num_hidden_layers: number; lora: number}
    assert.deepEqual(built.order, plan.layers)
    assert.equal(built.num_hidden_layers, plan.layers.length)
    assert.ok(built.lora >= plan.layers.length, 'a LoRA on every copy')
    const list = join(tmp, 'layers.txt')
    const l = await dlec(['plan', ...common, '--format', 'layers', '--out', list])
    assert.equal(l.code, 0, l.stderr)
    assert.equal(readFileSync(list, 'utf8'), `${plan.layers.join(',')}\n`)
  })

  it('peft refuses identity copies (PEFT cannot zero a copy), writing nothing', async () => {
    const out = join(tmp, 'identity.json')
    const r = await dlec(['plan', STORIES, '--add-layers', '1', '--strategy', 'identity', '--format', 'peft', '--out', out, '--db', join(tmp, 'i.duckdb')])
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /--format peft: PEFT layer_replication shares the copies' weights/)
    assert.throws(() => readFileSync(out))
  })
})
