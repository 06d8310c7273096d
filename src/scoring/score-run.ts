import {openStore} from '../store/open-store.js'
import {findRun, requireComplete} from '../store/runs.js'
import {DEFAULT_BINS, dlecCorrectedRule, dlecOriginalRule} from './dlec-rule.js'
import type {DlecRuleResult} from './dlec-rule.js'
import {layerScores} from './layer-score.js'
import type {LayerScore} from './layer-score.js'

export interface ScoreReport {
  db: string
  run: {runId: number; name: string; model: string; layers: number[]; samples: number; tokens: number; dataSource: string; raw: string}
  /** One row per layer of the profiled sequence; the DLEC columns are null without raw activations. */
  layers: Array<LayerScore & {dlecOriginal: boolean | null; dlecCorrected: boolean | null}>
  /** Original rule (labels are transformers hidden_states ids; its verdict for label l sits on layer row l, as its config writer used it). */
  dlecOriginal: DlecRuleResult | null
  dlecCorrected: DlecRuleResult | null
}

/**
 * All per-layer scores of a complete profile run (the newest one by default), computed as SQL over
 * the stored statistics. The DLEC rules need raw activations (`--raw first-token` for the original
 * rule as it ran; `--raw sample:K` for the corrected one, which uses positions >= 1).
 */
export async function scoreRun(params: {dbPath: string; run?: string; bins?: number}): Promise<ScoreReport> {
  const db = await openStore({path: params.dbPath, readOnly: true})
  try {
    const run = await findRun(db, params.run)
    requireComplete(db, run)
    const scores = await layerScores(db, run)
    const original = await dlecOriginalRule(db, run, params.bins ?? DEFAULT_BINS)
    const corrected = await dlecCorrectedRule(db, run)
    const verdict = (rule: DlecRuleResult, label: number): boolean | null => rule.rows.find((r) => r.label === label)?.beneficial ?? null
    return {
      db: params.dbPath,
      run: {
        runId: run.runId,
        name: run.name,
        model: run.model,
        layers: run.layers,
        samples: run.samples,
        tokens: run.tokens,
        dataSource: run.dataSource,
        raw: String(run.options.raw ?? 'none'),
      },
      layers: scores.map((s) => ({...s, dlecOriginal: verdict(original, s.layer), dlecCorrected: verdict(corrected, s.layer)})),
      dlecOriginal: original.rows.length === 0 ? null : original,
      dlecCorrected: corrected.rows.length === 0 ? null : corrected,
    }
  } finally {
    db.close()
  }
}
