import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {searchExpansions, type Measurement, type SearchState} from '../../src/curve/expansion-search.js'
import {guardFlags, probeScoreOf} from '../../src/curve/probe-objective.js'
import {splitTexts} from '../../src/data/split-texts.js'
import type {Duplication} from '../../src/curve/layer-plan.js'

/** Single-layer candidates of a 6-layer model with hand-set KL and probe scores (out of 10 items). */
const TABLE: Record<number, {kl: number; correct: number}> = {0: {kl: 0.1, correct: 6}, 1: {kl: 0.3, correct: 9}, 2: {kl: 0.2, correct: 8}, 3: {kl: 0.15, correct: 8}, 4: {kl: 0.5, correct: 9}, 5: {kl: 0.12, correct: 5}}

async function firstPick(params: {objective: 'kl' | 'probe'; maxKl?: number}): Promise<SearchState | undefined> {
  const candidates: Duplication[] = [0, 1, 2, 3, 4, 5].map((i) => ({start: i, end: i + 1}))
  const search = searchExpansions({
    numLayers: 6,
    candidates,
    maxAdd: 1,
    beamWidth: 1,
    ...params,
    measure: async (d): Promise<Measurement> => {
      const t = TABLE[(d[0] as Duplication).start] as {kl: number; correct: number}
      return {kl: t.kl, loss: 1, lossDelta: t.kl, top1: 1 - t.kl, probe: probeScoreOf(t.correct, 10)}
    },
  })
  for (;;) {
    const r = await search.next()
    if (r.done === true) {
      return r.value[0]
    }
  }
}

describe('probes as an objective, the --max-kl guard and the held-out split', () => {
  it('objective probe picks the highest accuracy, ties to the lower KL; --max-kl excludes candidates over it', async () => {
    assert.equal((await firstPick({objective: 'kl'}))?.duplications[0]?.start, 0)
    // 9/10 for layers 1 (KL 0.3) and 4 (KL 0.5): the lower KL wins the tie
    assert.equal((await firstPick({objective: 'probe'}))?.duplications[0]?.start, 1)
    // layer 1 over the guard: the best within it is 8/10, layers 2 and 3, and 3 has the lower KL
    assert.equal((await firstPick({objective: 'probe', maxKl: 0.25}))?.duplications[0]?.start, 3)
    assert.equal(await firstPick({objective: 'probe', maxKl: 0.05}), undefined, 'nothing within the guard')
  })

  it('flags the candidates that beat the original on the probe while over the guard', () => {
    const base = probeScoreOf(7, 10)
    const candidates = Object.entries(TABLE).map(([i, t]) => ({label: i, layers: [Number(i)], measurement: {kl: t.kl, loss: 1, lossDelta: 0, top1: 1, probe: probeScoreOf(t.correct, 10)}}))
    assert.deepEqual(
      guardFlags(candidates, base, 0.25).map((f) => f.label),
      ['1', '4'],
    )
    assert.deepEqual(guardFlags(candidates, base, undefined), [])
  })

  it('the Wilson interval of a probe score: 8/10 as scipy gives it', () => {
    const s = probeScoreOf(8, 10)
    // scipy: binomtest(8, 10).proportion_ci(method='wilson') = (0.49016247, 0.94331785)
    assert.ok(Math.abs(s.ci[0] - 0.4901624) < 1e-6 && Math.abs(s.ci[1] - 0.9433178) < 1e-6, `${s.ci}`)
  })

  it('a seeded split by text: deterministic, disjoint, complete, and refused when a side would be empty', () => {
    const texts = Array.from({length: 20}, (_, i) => `text ${i}`)
    const a = splitTexts(texts, 0.3, 5)
    assert.deepEqual(splitTexts(texts, 0.3, 5), a)
    assert.equal(a.holdout.length, 6)
    assert.deepEqual([...a.selection, ...a.holdout].sort(), [...texts].sort())
    assert.notDeepEqual(splitTexts(texts, 0.3, 6).holdout, a.holdout, 'another seed, another split')
    assert.deepEqual(a.holdout, texts.filter((t) => a.holdout.includes(t)), 'file order kept')
    assert.throws(() => splitTexts(texts, 0.01, 0), /--holdout-split 0\.01 of 20 text\(s\) leaves the held-out part empty/)
    assert.throws(() => splitTexts(texts, 1, 0), /strictly between 0 and 1/)
  })
})
