import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {dlecCorrectedRule, dlecOriginalRule} from '../../src/scoring/dlec-rule.js'
import {openStore} from '../../src/store/open-store.js'
import {createRun} from '../../src/store/runs.js'
import {ROOT, python} from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'dlec-rule-'))

/** A seeded generator (mulberry32) so the synthetic activations are the same on every run. */
function rng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Ref = Array<{label: number; q: number; fraction: number; beneficial: boolean}>

function reference(values: Float32Array, labels: Int32Array, bins: number, variant?: 'corrected'): Ref {
  const v = join(dir, `v${variant ?? ''}.f32`)
  const l = join(dir, `l${variant ?? ''}.i32`)
  writeFileSync(v, values)
  writeFileSync(l, labels)
  const args = [join(ROOT, 'test/python/dlec_rule_reference.py'), v, l, String(bins), ...(variant === undefined ? [] : [variant])]
  return JSON.parse(execFileSync(python(), args).toString()) as Ref
}

describe('DLEC rules on synthetic activations (discriminating cases)', () => {
  it('flag the same labels as the Python re-implementations, including labels they reject', async () => {
    const rand = rng(7)
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
    // 3 layers: points 0..3 are h_0..h_3, point 4 the final-norm output (the original's label 3).
    const shapes: Record<number, () => number> = {
      0: gauss,
      1: () => (rand() < 0.99 ? 1 : 100), // one massive activation per 100: the original rejects it
      2: () => rand(),
      3: () => (rand() < 0.8 ? 0.1 * gauss() : 8 * gauss()), // heavy tail: the corrected rule accepts it
      4: () => (rand() < 0.995 ? gauss() : 400),
    }
    const samples = 6
    const positions = 8
    const hidden = 64
    const cols = {sample: [] as number[], position: [] as number[], point: [] as number[], neuron: [] as number[], value: [] as number[]}
    for (let s = 0; s < samples; s++) {
      for (let t = 0; t < positions; t++) {
        for (let k = 0; k <= 4; k++) {
          for (let j = 0; j < hidden; j++) {
            cols.sample.push(s)
            cols.position.push(t)
            cols.point.push(k)
            cols.neuron.push(j)
            cols.value.push(Math.fround((shapes[k] as () => number)()))
          }
        }
      }
    }
    const db = await openStore({path: join(dir, 'rule.duckdb')})
    try {
      const run = await createRun(db, {model: 'synthetic', modelHash: null, layers: [0, 1, 2], hiddenSize: hidden, dataSource: 'synthetic', dataHash: 'x', samples, options: {raw: `sample:${positions}`}})
      await db.appendColumns('activations', [{repeat: run.runId}, cols.sample, cols.position, cols.point, cols.neuron, cols.value])
      for (const bins of [100, 20]) {
        const original = await dlecOriginalRule(db, run, bins)
        const keep = cols.point.map((k) => k !== 3)
        const ref = reference(
          new Float32Array(cols.value.filter((_, i) => keep[i])),
          new Int32Array(cols.point.filter((_, i) => keep[i]).map((k) => (k === 4 ? 3 : k))),
          bins,
        )
        assert.deepEqual(original.rows.map((r) => r.label), [0, 1, 2, 3])
        assert.deepEqual(original.beneficial, ref.filter((r) => r.beneficial).map((r) => r.label), `bins ${bins}`)
        for (const [i, r] of ref.entries()) {
          assert.ok(Math.abs((original.rows[i]?.threshold ?? -1) - r.q) < 1e-12, `q of label ${r.label}, bins ${bins}`)
          assert.ok(Math.abs((original.rows[i]?.fraction ?? -1) - r.fraction) < 1e-6, `fraction of label ${r.label}, bins ${bins}`)
        }
        assert.ok(original.beneficial.length > 0 && original.beneficial.length < 4, `a discriminating case: ${original.beneficial.join(',')}`)
      }
      const corrected = await dlecCorrectedRule(db, run)
      const sel = cols.point.map((k, i) => k >= 1 && k <= 3 && (cols.position[i] as number) >= 1)
      const refC = reference(
        new Float32Array(cols.value.filter((_, i) => sel[i])),
        new Int32Array(cols.point.filter((_, i) => sel[i]).map((k) => k - 1)),
        1,
        'corrected',
      )
      assert.deepEqual(corrected.rows.map((r) => r.label), [0, 1, 2])
      assert.deepEqual(corrected.beneficial, refC.filter((r) => r.beneficial).map((r) => r.label))
      assert.ok(corrected.beneficial.includes(2) && !corrected.beneficial.includes(1), `corrected: ${corrected.beneficial.join(',')}`)
    } finally {
      db.close()
    }
  })
})
