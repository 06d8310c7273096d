import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {dlecOriginalPlacement} from '../../src/curve/dlec-original-strategy.js'
import {scoreCurvePlacement, weightsFromBlockInfluence} from '../../src/curve/score-curve-strategy.js'
import {listEvals} from '../../src/store/evals.js'
import {openStore} from '../../src/store/open-store.js'
import type {Db} from '../../src/store/db.js'
import {dlec, STORIES} from '../helpers/cli.js'

const DATA = join(import.meta.dirname, '..', 'curve', 'heldout.txt')
const TMP = mkdtempSync(join(tmpdir(), 'dlec-curve-cli-'))
const ENV = {DLEC_CACHE_DIR: join(TMP, 'cache')}
const DB = join(TMP, 'dlec.duckdb')

async function withStore<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openStore({path: DB, readOnly: true})
  try {
    return await fn(db)
  } finally {
    db.close()
  }
}

interface Point {
  strategy: string
  added: number
  params: number
  kl: number
  top1: number
  measured: boolean
  layers: number[]
}

describe('dlec curve', () => {
  it('one point per strategy and size, with parameter counts; the table for people', async () => {
    const plot = join(TMP, 'curve.svg')
    const heat = join(TMP, 'heat.png')
    const r = await dlec(['curve', STORIES, '--data', DATA, '--max-add', '2', '--strategy', 'greedy,curve,identity', '--db', DB, '--plot', plot, '--heatmap', heat, '--json'], {env: ENV})
    assert.equal(r.code, 0, r.stderr)
    const report = JSON.parse(r.stdout) as {points: Point[]; baseParams: number; evaluations: unknown[]}
    assert.equal(report.baseParams, 260_032)
    assert.deepEqual(
      report.points.map((p) => `${p.strategy}+${p.added}`),
      ['greedy+1', 'greedy+2', 'curve+1', 'curve+2', 'identity+1', 'identity+2'],
    )
    for (const p of report.points) {
      assert.equal(p.params, 260_032 + p.added * 45_440)
      assert.equal(p.layers.length, 5 + p.added)
      assert.equal(p.measured, p.strategy !== 'identity')
      assert.ok(p.kl >= 0 && p.top1 <= 1)
    }
    // middle band of 5 layers is 1..3: greedy only duplicates those
    assert.ok(report.points.filter((p) => p.strategy === 'greedy').every((p) => p.layers.filter((l, i) => p.layers.indexOf(l) !== i).every((l) => l >= 1 && l <= 3)))
    assert.match(readFileSync(plot, 'utf8'), /^<svg[\s\S]*greedy[\s\S]*<\/svg>\s*$/)
    assert.deepEqual([...readFileSync(heat).subarray(1, 4)], [0x50, 0x4e, 0x47])
    // every measured candidate and every point is in the evals table
    const rows = await withStore((db) => listEvals(db))
    assert.equal(rows.filter((e) => e.extra?.kind === 'candidate').length, report.evaluations.length)
    assert.equal(rows.filter((e) => e.extra?.kind === 'point').length, report.points.length)
    const g1 = report.points[0] as Point
    const stored = rows.find((e) => e.extra?.kind === 'point' && e.strategy === 'greedy' && e.extra.added === 1)
    assert.deepEqual(stored?.layers, g1.layers)
    assert.equal(stored?.kl, g1.kl)
    const humanHeat = join(TMP, 'heat-human.svg')
    const human = await dlec(['curve', STORIES, '--data', DATA, '--max-add', '1', '--strategy', 'greedy,identity', '--db', DB, '--heatmap', humanHeat], {env: ENV})
    assert.equal(human.code, 0, human.stderr)
    assert.equal(human.stdout.split('\n').filter((l) => l === `wrote heat-map ${humanHeat}`).length, 1, 'says once where the picture went')
    assert.match(readFileSync(humanHeat, 'utf8'), /Layer l run twice/, 'single layers only: the bar chart')
    assert.match(human.stdout, /original: 5 layers, 260,032 parameters/)
    assert.match(human.stdout, /greedy\s+\+1\s+305,472/)
    assert.match(human.stdout, /identity\s+\+1\s+305,472\s+0 \(identity\)/)
  })

  it('dlec-original and curve take their scores from a profile run in the store', async () => {
    const db = join(TMP, 'profiled.duckdb')
    const p = await dlec(['profile', STORIES, '--data', DATA, '--raw', 'first-token', '--db', db], {env: ENV})
    assert.equal(p.code, 0, p.stderr)
    const score = await dlec(['score', '--db', db, '--json'], {env: ENV})
    const scores = JSON.parse(score.stdout) as {dlecOriginal: {beneficial: number[]}; layers: {sourceLayer: number; blockInfluence: number}[]}
    const r = await dlec(['curve', STORIES, '--data', DATA, '--max-add', '2', '--strategy', 'dlec-original,curve', '--db', db], {env: ENV})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /scores from profile run run-1 \(Block Influence\) \(original DLEC rule\)/)
    const runIds = await (async () => {
      const store = await openStore({path: db, readOnly: true})
      try {
        return await store.all('SELECT run_id, count(*) AS n FROM evals GROUP BY run_id')
      } finally {
        store.close()
      }
    })()
    assert.equal(runIds.length, 1, `evals rows all carry the profile run's id: ${JSON.stringify(runIds, (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))}`)
    assert.equal(Number(runIds[0]?.run_id), 1)
    assert.ok(Number(runIds[0]?.n) > 0)
    const json = await dlec(['curve', STORIES, '--data', DATA, '--max-add', '2', '--strategy', 'dlec-original,curve', '--db', db, '--json'], {env: ENV})
    const points = (JSON.parse(json.stdout) as {points: (Point & {duplications: {start: number}[]})[]}).points
    const expected = dlecOriginalPlacement({flaggedLabels: scores.dlecOriginal.beneficial, numLayers: 5, k: 2}).map((d) => d.start)
    assert.deepEqual(points.find((q) => q.strategy === 'dlec-original' && q.added === 2)?.duplications.map((d) => d.start), expected)
    const bi = scores.layers.map((l) => l.blockInfluence)
    const curve2 = scoreCurvePlacement({weights: weightsFromBlockInfluence(bi), k: 2, band: {start: 1, end: 4}}).map((d) => d.start)
    assert.deepEqual(points.find((q) => q.strategy === 'curve' && q.added === 2)?.duplications.map((d) => d.start), curve2)
  })

  it('--cache-memory 0 gives the same curve with more layer runs', async () => {
    // one store each: a rerun into the same store would reuse the stored candidates
    const run = async (extra: string[]): Promise<{points: Point[]; layersRun: number}> => {
      const r = await dlec(['curve', STORIES, '--data', DATA, '--max-add', '2', '--strategy', 'greedy', '--db', join(TMP, `mem${extra.length}.duckdb`), '--json', ...extra], {env: ENV})
      assert.equal(r.code, 0, r.stderr)
      return JSON.parse(r.stdout) as {points: Point[]; layersRun: number}
    }
    const full = await run([])
    const none = await run(['--cache-memory', '0'])
    assert.deepEqual(none.points, full.points)
    assert.ok(none.layersRun > full.layersRun, `${none.layersRun} vs ${full.layersRun} layer runs`)
  })

  it('bad flags fail with one line and the usage exit code', async () => {
    for (const [args, re] of [
      [['--strategy', 'nope'], /unknown strategy "nope"/],
      [['--cache-memory', 'lots'], /--cache-memory lots: expected bytes with an optional suffix K, M, G, T/],
      [['--candidates', '3-9'], /layers 0\.\.4/],
      [['--block-sizes', '1,x'], /--block-sizes "1,x"/],
      [['--strategy', 'dlec-original'], /dlec-original needs the layers the original DLEC rule flags/],
    ] as const) {
      const r = await dlec(['curve', STORIES, '--data', DATA, '--max-add', '1', '--db', DB, ...args], {env: ENV})
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, re)
      assert.doesNotMatch(r.stderr, /\n\s+at /)
    }
  })
})
