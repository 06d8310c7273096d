import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {dlec, ROOT} from '../helpers/cli.js'
import {copyStories, treeSnapshot} from '../helpers/hostile.js'

const tmp = mkdtempSync(join(tmpdir(), 'dlec-hostile-cli-'))
after(() => rmSync(tmp, {recursive: true, force: true}))
const DATA = join(ROOT, 'fixtures/calibration/stories.txt')
const model = copyStories(join(tmp, 'model'))
const common = ['--db', join(tmp, 'store.duckdb'), '--cache-dir', join(tmp, 'cache')]

/** Exit code and the one stderr line of a refused command. */
async function refused(args: string[], code: number, message: RegExp): Promise<void> {
  const r = await dlec(args)
  assert.equal(r.code, code, r.stderr)
  const lines = r.stderr.trim().split('\n')
  assert.equal(lines.length, 1, r.stderr)
  assert.match(lines[0] ?? '', message)
}

describe('dlec commands: hostile sizes and outputs', () => {
  it('plan --out MODEL/config.json is refused and the model is untouched', async () => {
    const before = treeSnapshot(model)
    await refused(['plan', model, '--add-layers', '1', '--strategy', 'identity', '--out', join(model, 'config.json'), ...common], 2, /--out .*model\/config\.json is inside the model folder .*: the plan would overwrite the model's own files/)
    assert.deepEqual(treeSnapshot(model), before)
  })

  it('plan --add-layers 1000000000 and --target-params 1T are refused at once (no search is allocated)', async () => {
    await refused(['plan', model, '--add-layers', '1000000000', '--strategy', 'identity', '--out', join(tmp, 'p.yaml'), ...common], 2, /the target needs 1000000000 added layers: more than dlec's limit of 10000 layers in all \(the model has 5\)/)
    await refused(['plan', model, '--target-params', '1T', '--strategy', 'identity', '--out', join(tmp, 'p.yaml'), ...common], 2, /added layers: more than dlec's limit of 10000 layers/)
    assert.ok(!existsSync(join(tmp, 'p.yaml')))
  })

  it('curve --max-add 100000 is refused before measuring', async () => {
    await refused(['curve', model, '--data', DATA, '--max-add', '100000', ...common], 2, /--max-add must be a whole number from 1 to 9995 \(dlec's limit of 10000 layers; got 100000\)/)
  })

  it('expand --add-layers 1000000000 writes no OUT', async () => {
    const out = join(tmp, 'expanded')
    const r = await dlec(['expand', model, '--add-layers', '1000000000', '--strategy', 'identity', '--out', out, '--engine', 'native', ...common])
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr.trim().split('\n').at(-1) ?? '', /^Error: .*more than dlec's limit of 10000 layers/)
    assert.ok(!existsSync(out))
    assert.deepEqual(readdirSync(tmp).filter((f) => f.includes('dlec-partial')), [])
  })

  it('config validate --model with a null config.json exits 4; eval --probe given a FIFO exits 10 (no hang)', async () => {
    const broken = copyStories(join(tmp, 'null-config'))
    writeFileSync(join(broken, 'config.json'), 'null')
    const yaml = join(tmp, 'ok.yaml')
    writeFileSync(yaml, `merge_method: passthrough\nslices:\n- sources:\n  - model: ${broken}\n    layer_range: [0, 2]\n`)
    await refused(['config', 'validate', yaml, '--model', broken], 4, /null-config\/config\.json: not a JSON object/)
    const fifo = join(tmp, 'probe.jsonl')
    execFileSync('mkfifo', [fifo])
    await refused(['eval', model, '--data', DATA, '--max-tokens', '64', '--probe', fifo, '--cache-dir', join(tmp, 'cache')], 10, /probe\.jsonl: cannot read probe file \(not a regular file/)
  })
})
