import type {Db} from '../store/db.js'
import type {RunRecord} from '../store/runs.js'

/** Per-layer scores of one run, all computed in SQL over positions >= 1 of every stored sample. */
export interface LayerScore {
  /** Position in the profiled layer sequence (0-based). */
  layer: number
  /** The model layer at that position. */
  sourceLayer: number
  /** Block Influence (ShortGPT): 1 - mean over tokens of cos(h_in, h_out). */
  blockInfluence: number
  /** Angular distance arccos(cos(h_l, h_(l+n)))/pi averaged over tokens, n = 1..8 (null past the end). */
  angular: Array<number | null>
  /** Mean ||h_out|| / mean ||h_in||. */
  normGrowth: number
  tokens: number
}

/** Block Influence, block angular distances and norm growth per layer. */
export async function layerScores(db: Db, run: RunRecord): Promise<LayerScore[]> {
  const layerRows = await db.all(
    `SELECT layer, sum(tokens) AS tokens, 1 - sum(cos_sum) / sum(tokens) AS bi, sum(norm_out_sum) / sum(norm_in_sum) AS growth
     FROM layer_stats WHERE run_id = $1 GROUP BY layer ORDER BY layer`,
    [run.runId],
  )
  const blockRows = await db.all(
    `SELECT start, n, sum(angular_sum) / sum(tokens) AS angular FROM block_stats WHERE run_id = $1 GROUP BY start, n ORDER BY start, n`,
    [run.runId],
  )
  const angular = new Map<string, number>()
  for (const r of blockRows) {
    angular.set(`${Number(r.start)}:${Number(r.n)}`, Number(r.angular))
  }
  return layerRows.map((r) => {
    const layer = Number(r.layer)
    return {
      layer,
      sourceLayer: run.layers[layer] ?? layer,
      blockInfluence: Number(r.bi),
      angular: Array.from({length: 8}, (_, i) => angular.get(`${layer}:${i + 1}`) ?? null),
      normGrowth: Number(r.growth),
      tokens: Number(r.tokens),
    }
  })
}
