import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {dlec, python, STORIES} from '../helpers/cli.js'

const DATA = join(import.meta.dirname, '..', 'curve', 'heldout.txt')
const TMP = mkdtempSync(join(tmpdir(), 'dlec-plan-'))
const ENV = {DLEC_CACHE_DIR: join(TMP, 'cache')}
const DB = join(TMP, 'dlec.duckdb')

interface PlanJson {
  layers: number[]
  paramsBefore: number
  paramsAfter: number
  kl: number
  loss?: number
  lossDelta: number
  top1: number
  identityCopies: boolean
  alpha?: number
  curve?: {points: {alpha?: number; alphaGrid?: {alpha: number; lossDelta: number}[]}[]}
  target: {addLayers: number; exact: boolean; note: string}
}

async function json<T>(args: string[], env = ENV): Promise<T> {
  const r = await dlec([...args, ...(args[0] === 'eval' ? [] : ['--db', DB]), '--json'], {env})
  assert.equal(r.code, 0, r.stderr + r.stdout)
  return JSON.parse(r.stdout) as T
}

/** Merges with the real mergekit-yaml (the reference engine). */
function mergekit(yaml: string, out: string): void {
  execFileSync(join(python(), '..', 'mergekit-yaml'), [yaml, out], {stdio: 'ignore'})
}

function transformersParams(dir: string): number {
  const out = execFileSync(python(), ['test/python/count_parameters.py', dir], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']})
  return (JSON.parse(out) as Record<string, number>)[dir] as number
}

describe('dlec plan', () => {
  it('the YAML merged and evaluated gives the KL / loss dlec curve reported, and the plan parameter count', async () => {
    const yaml = join(TMP, 'greedy.yaml')
    const common = ['--data', DATA, '--candidates', 'all']
    const plan = await json<PlanJson>(['plan', STORIES, '--add-layers', '2', '--strategy', 'greedy', '--out', yaml, ...common])
    const curve = await json<{points: {strategy: string; added: number; kl: number; loss: number; lossDelta: number; layers: number[]}[]}>(['curve', STORIES, '--max-add', '2', '--strategy', 'greedy', ...common])
    const point = curve.points.find((p) => p.added === 2)
    assert.deepEqual(point?.layers, plan.layers)
    assert.equal(point?.kl, plan.kl)
    // --from-db takes the stored point instead of measuring again
    const stored = await json<PlanJson & {source: string}>(['plan', STORIES, '--add-layers', '2', '--strategy', 'greedy', '--from-db', '--out', join(TMP, 'stored.yaml'), '--data', DATA])
    assert.equal(stored.source, 'store')
    assert.deepEqual(stored.layers, plan.layers)
    assert.equal(stored.kl, plan.kl)
    assert.equal(stored.loss, plan.loss)
    assert.equal(readFileSync(join(TMP, 'stored.yaml'), 'utf8'), readFileSync(yaml, 'utf8'))
    // the same plan through dlec eval (zero-copy) ...
    const zeroCopy = await json<{meanKl: number; lossDelta: number; loss: number}>(['eval', STORIES, '--plan', yaml, '--data', DATA])
    assert.ok(Math.abs(zeroCopy.meanKl - plan.kl) < 1e-5, `${zeroCopy.meanKl} vs ${plan.kl}`)
    assert.ok(Math.abs(zeroCopy.lossDelta - plan.lossDelta) < 1e-5)
    // ... and merged with dlec merge (native engine), then evaluated as a folder of its own
    const merged = join(TMP, 'merged')
    const m = await dlec(['merge', yaml, merged, '--engine', 'native'], {env: ENV})
    assert.equal(m.code, 0, m.stderr)
    // (a cache folder of its own: ONNX weight caches are keyed by safetensors headers, and both merged
    // folders of this file have the same headers)
    const folder = await json<{loss: number; numLayers: number}>(['eval', merged, '--data', DATA], {DLEC_CACHE_DIR: join(TMP, 'cache-greedy')})
    assert.equal(folder.numLayers, plan.layers.length)
    assert.ok(Math.abs(folder.loss - (plan.loss ?? NaN)) < 1e-5, `${folder.loss} vs ${plan.loss}`)
    assert.equal(transformersParams(merged), plan.paramsAfter)
    assert.equal(plan.paramsAfter, 260_032 + 2 * 45_440)
  })

  it('identity copies: scale 0 on the output projections, the merged model keeps the original loss', async () => {
    const yaml = join(TMP, 'identity.yaml')
    const plan = await json<PlanJson>(['plan', STORIES, '--add-layers', '2', '--strategy', 'identity', '--out', yaml])
    assert.equal(plan.identityCopies, true)
    assert.equal(plan.kl, 0)
    const text = readFileSync(yaml, 'utf8')
    assert.match(text, /filter: self_attn\.o_proj/)
    assert.match(text, /filter: mlp\.down_proj/)
    const merged = join(TMP, 'identity-merged')
    mergekit(yaml, merged)
    const folder = await json<{loss: number; numLayers: number}>(['eval', merged, '--data', DATA], {DLEC_CACHE_DIR: join(TMP, 'cache-identity')})
    const original = await json<{loss: number}>(['eval', STORIES, '--data', DATA])
    assert.equal(folder.numLayers, 7)
    assert.ok(Math.abs(folder.loss - original.loss) < 1e-5, `${folder.loss} vs ${original.loss}`)
    assert.equal(transformersParams(merged), plan.paramsAfter)
  })

  it('soft copies: the chosen α is in --json, in the printed plan and on the copies\' output projections in the YAML, and the merged model has the measured loss', async () => {
    const yaml = join(TMP, 'soft.yaml')
    const args = ['plan', STORIES, '--add-layers', '2', '--strategy', 'soft', '--objective', 'loss', '--alphas', '0,0.5,1', '--data', DATA, '--out', yaml]
    const plan = await json<PlanJson>(args)
    const grid = plan.curve?.points.at(-1)?.alphaGrid ?? []
    assert.deepEqual(grid.map((g) => g.alpha), [0, 0.5, 1])
    const best = grid.reduce((a, b) => (b.lossDelta < a.lossDelta ? b : a))
    assert.equal(plan.alpha, best.alpha)
    assert.equal(plan.lossDelta, best.lossDelta)
    assert.equal(plan.identityCopies, plan.alpha === 0)
    const text = readFileSync(yaml, 'utf8')
    assert.equal(text.match(new RegExp(`value: ${plan.alpha}\n`, 'g'))?.length, 4, text)
    const merged = join(TMP, 'soft-merged')
    mergekit(yaml, merged)
    const folder = await json<{loss: number; numLayers: number}>(['eval', merged, '--data', DATA], {DLEC_CACHE_DIR: join(TMP, 'cache-soft')})
    assert.equal(folder.numLayers, 7)
    assert.ok(Math.abs(folder.loss - (plan.loss ?? NaN)) < 1e-5, `${folder.loss} vs ${plan.loss}`)
    const r = await dlec([...args, '--db', DB], {env: ENV})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, new RegExp(`^strategy +soft: duplicates .*\\(${plan.alpha === 0 ? 'identity copies' : `soft copies: output projections scaled by α ${plan.alpha}`}`, 'm'))
  })

  it('a target between two layer counts is rounded to the nearest achievable size, and the command says so', async () => {
    const yaml = join(TMP, 'rounded.yaml')
    const r = await dlec(['plan', STORIES, '--target-params', '300K', '--strategy', 'identity', '--out', yaml, '--db', DB], {env: ENV})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^target +target 300,000 \(300K\) parameters is not reachable exactly: rounded to the nearest achievable size, 1 added layers = 305,472/m)
    assert.equal((r.stderr + r.stdout).match(/is not reachable exactly/g)?.length, 1, `the rounding note is printed once:\n${r.stderr}${r.stdout}`)
    assert.match(r.stdout, /260,032 \(260K\) -> 305,472 \(305\.5K\)/)
    const exact = await json<PlanJson>(['plan', STORIES, '--target-params', String(260_032 + 2 * 45_440), '--strategy', 'identity', '--out', yaml])
    assert.equal(exact.target.exact, true)
    assert.equal(exact.target.addLayers, 2)
  })

  it('bad input: one line, usage exit code, nothing written', async () => {
    const out = join(TMP, 'never.yaml')
    for (const [args, re] of [
      [['--target-params', '100K', '--strategy', 'identity'], /not larger than the model/],
      [['--add-layers', '1', '--strategy', 'greedy'], /--data is required/],
      [['--add-layers', '1', '--strategy', 'magic'], /unknown strategy "magic"/],
      [['--growth', 'lots', '--strategy', 'identity'], /--growth "lots"/],
      [['--add-layers', '3', '--strategy', 'beam', '--from-db'], /no beam curve point with 3 added layers/],
      [['--add-layers', '1', '--strategy', 'soft', '--data', DATA, '--alphas', '0,2'], /--alphas: "2" is not an α from 0/],
    ] as const) {
      const r = await dlec(['plan', STORIES, ...args, '--out', out, '--db', DB], {env: ENV})
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, re)
      assert.doesNotMatch(r.stderr, /\n\s+at /)
    }
    assert.throws(() => readFileSync(out))
  })
})
