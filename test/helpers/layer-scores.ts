import assert from 'node:assert/strict'
import type {LayerScore} from '../../src/scoring/layer-score.js'

/** Per-layer scores from test/python/layer_scores_reference.py (numpy over transformers hidden states). */
export interface LayerScoresReference {
  bi: number[]
  growth: number[]
  angular: (number | null)[][]
}

/** Block Influence, norm growth and block angular distances of every layer equal the reference to 1e-6. */
export function assertScoresMatch(scores: readonly LayerScore[], ref: LayerScoresReference): void {
  for (const s of scores) {
    assert.ok(Math.abs(s.blockInfluence - (ref.bi[s.layer] as number)) < 1e-6, `BI layer ${s.layer}: ${s.blockInfluence} vs ${ref.bi[s.layer]}`)
    assert.ok(Math.abs(s.normGrowth - (ref.growth[s.layer] as number)) < 1e-6, `growth layer ${s.layer}`)
    for (let n = 0; n < 8; n++) {
      const want = ref.angular[s.layer]?.[n] ?? null
      const got = s.angular[n] ?? null
      assert.equal(got === null, want === null, `angular ${s.layer}+${n + 1} presence`)
      if (got !== null && want !== null) {
        assert.ok(Math.abs(got - want) < 1e-6, `angular ${s.layer}+${n + 1}: ${got} vs ${want}`)
      }
    }
  }
}
