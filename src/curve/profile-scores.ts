import {existsSync} from 'node:fs'
import {UsageError} from '../errors.js'
import {scoreRun} from '../scoring/score-run.js'

/**
 * What the curve's score-based strategies take from a `dlec profile` run in the store: Block
 * Influence per model layer (for `curve`) and the layers the original DLEC rule flags (for
 * `dlec-original`, when the run kept raw first-token activations). Absent store or run: nothing.
 */
export interface ProfileScores {
  run: string
  /** The run's id (stored as evals.run_id with what the scores produced). */
  runId: number
  model: string
  blockInfluence?: number[]
  dlecFlagged?: number[]
}

export async function profileScores(params: {dbPath: string; run?: string; numLayers: number}): Promise<ProfileScores | undefined> {
  if (!existsSync(params.dbPath)) {
    if (params.run !== undefined) {
      throw new UsageError(`--run ${params.run}: no store at ${params.dbPath}`)
    }
    return undefined
  }
  let report
  try {
    report = await scoreRun({dbPath: params.dbPath, run: params.run})
  } catch (error) {
    if (params.run !== undefined) {
      throw error
    }
    return undefined
  }
  const bi = new Array<number | undefined>(params.numLayers).fill(undefined)
  for (const l of report.layers) {
    if (l.sourceLayer < params.numLayers && bi[l.sourceLayer] === undefined) {
      bi[l.sourceLayer] = l.blockInfluence
    }
  }
  const complete = bi.every((v) => v !== undefined && Number.isFinite(v))
  return {
    run: report.run.name,
    runId: report.run.runId,
    model: report.run.model,
    blockInfluence: complete ? (bi as number[]) : undefined,
    dlecFlagged: report.dlecOriginal?.beneficial,
  }
}
