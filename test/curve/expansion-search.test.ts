import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {candidateBlocks} from '../../src/curve/candidate-blocks.js'
import {searchExpansions, type Measurement, type SearchState} from '../../src/curve/expansion-search.js'
import {addedLayers, expandLayers, type Duplication} from '../../src/curve/layer-plan.js'

/** A deterministic, non-additive stand-in for a measurement: a hash of the layer sequence. */
function fakeMeasure(layers: number[]): Measurement {
  let h = 2166136261
  for (const l of layers) {
    h = Math.imul(h ^ (l + 7), 16777619) >>> 0
  }
  const kl = (h % 10007) / 10007 + layers.length * 0.01
  return {kl, loss: 1 + kl, lossDelta: kl / 2, top1: 1 - kl / 4}
}

async function run(params: {numLayers: number; candidates: Duplication[]; maxAdd: number; beamWidth: number}) {
  const measured: string[] = []
  const it = searchExpansions({
    ...params,
    measure: async (_d, layers) => {
      measured.push(layers.join(','))
      return fakeMeasure(layers)
    },
  })
  for (;;) {
    const r = await it.next()
    if (r.done === true) {
      return {best: r.value, measured}
    }
  }
}

/** Every multiset of candidate blocks adding exactly `added` layers (brute force, independent of the search). */
function allExpansions(candidates: Duplication[], added: number): Duplication[][] {
  const out: Duplication[][] = []
  const rec = (from: number, acc: Duplication[]): void => {
    const a = addedLayers(acc)
    if (a === added) {
      out.push([...acc])
      return
    }
    for (let i = from; i < candidates.length; i++) {
      const c = candidates[i] as Duplication
      if (a + c.end - c.start <= added) {
        rec(i, [...acc, c])
      }
    }
  }
  rec(0, [])
  return out
}

const klOf = (s: SearchState | undefined): number => s?.measurement.kl ?? Number.NaN

describe('greedy and beam search', () => {
  it("greedy's first pick is the lowest-KL single candidate; each sequence is measured once", async () => {
    const candidates = candidateBlocks({numLayers: 8, spec: 'all', blockSizes: [1]})
    const {best, measured} = await run({numLayers: 8, candidates, maxAdd: 3, beamWidth: 1})
    const singles = candidates.map((c) => fakeMeasure(expandLayers(8, [c])).kl)
    assert.equal(klOf(best[0]), Math.min(...singles))
    assert.equal(new Set(measured).size, measured.length)
    assert.equal(best.length, 3)
    // greedy extends its level-1 pick
    const first = best[0]?.duplications[0]
    assert.ok(best[1]?.duplications.some((d) => d.start === first?.start && d.end === first?.end))
  })

  it('a beam as wide as the space finds the brute-force optimum at every size (blocks of 1 and 2)', async () => {
    const candidates = candidateBlocks({numLayers: 5, spec: 'all', blockSizes: [1, 2]})
    const {best} = await run({numLayers: 5, candidates, maxAdd: 3, beamWidth: 10_000})
    for (let added = 1; added <= 3; added++) {
      const brute = Math.min(...allExpansions(candidates, added).map((d) => fakeMeasure(expandLayers(5, d)).kl))
      assert.equal(klOf(best[added - 1]), brute, `added ${added}`)
    }
  })

  it("a beam keeps greedy's pick, so its best 1- and 2-layer expansions are never worse", async () => {
    const candidates = candidateBlocks({numLayers: 12, spec: 'middle', blockSizes: [1, 2]})
    const greedy = await run({numLayers: 12, candidates, maxAdd: 4, beamWidth: 1})
    const beam = await run({numLayers: 12, candidates, maxAdd: 4, beamWidth: 3})
    for (let i = 0; i < 2; i++) {
      assert.ok(klOf(beam.best[i]) <= klOf(greedy.best[i]), `level ${i + 1}`)
    }
    assert.ok(beam.measured.length > greedy.measured.length)
  })

  it('rejects a non-positive beam or budget', async () => {
    await assert.rejects(run({numLayers: 5, candidates: [{start: 1, end: 2}], maxAdd: 0, beamWidth: 1}), /--max-add/)
    await assert.rejects(run({numLayers: 5, candidates: [{start: 1, end: 2}], maxAdd: 1, beamWidth: 0}), /--beam/)
  })
})
