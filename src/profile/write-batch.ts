import type {Db} from '../store/db.js'
import type {BlockStatColumns, LayerStatColumns} from './batch-stats.js'
import type {NeuronAccumulator} from './neuron-accumulator.js'

/** Raw activation columns after run_id: sample, position, point, neuron, value. */
export type RawColumns = [Int32Array, Int32Array, Int32Array, Int32Array, Float32Array]

/**
 * Stores profiled batches in a single transaction: its layer and block rows, raw activations, the
 * running neuron statistics so far (replacing the previous snapshot) and the run's resume point.
 * Either all of it lands or none does, so a run stopped at any moment holds whole batches only.
 */
export async function writeBatch(
  db: Db,
  p: {
    runId: number
    layers: LayerStatColumns
    blocks: BlockStatColumns
    neurons: NeuronAccumulator
    activations: RawColumns[]
    nextSample: number
    tokens: number
  },
): Promise<{layerStats: number; blockStats: number; neuronStats: number; activations: number}> {
  const run = {repeat: p.runId}
  await db.run('BEGIN TRANSACTION')
  try {
    const l = p.layers
    await db.appendColumns('layer_stats', [run, l.sample, l.layer, l.tokens, l.normIn, l.normOut, l.cos, l.angular])
    const b = p.blocks
    await db.appendColumns('block_stats', [run, b.sample, b.start, b.n, b.tokens, b.cos, b.angular])
    const activations = concatRaw(p.activations)
    if (activations !== undefined) {
      await db.appendColumns('activations', [run, ...activations])
    }
    await db.run('DELETE FROM neuron_stats WHERE run_id = $1', [p.runId])
    const neuronColumns = p.neurons.columns()
    await db.appendColumns('neuron_stats', [run, ...neuronColumns])
    await db.run('UPDATE runs SET next_sample = $2, tokens = $3 WHERE run_id = $1', [p.runId, p.nextSample, p.tokens])
    await db.run('COMMIT')
    return {layerStats: l.sample.length, blockStats: b.sample.length, neuronStats: neuronColumns[0].length, activations: activations?.[0].length ?? 0}
  } catch (error) {
    // DuckDB may already have rolled back (a failed COMMIT, a full disk): that second error must
    // not replace the first, which says what went wrong.
    await db.run('ROLLBACK').catch(() => undefined)
    throw error
  }
}

function concatRaw(parts: RawColumns[]): RawColumns | undefined {
  if (parts.length <= 1) {
    return parts[0]
  }
  const n = parts.reduce((s, p) => s + p[0].length, 0)
  const out: RawColumns = [new Int32Array(n), new Int32Array(n), new Int32Array(n), new Int32Array(n), new Float32Array(n)]
  let at = 0
  for (const part of parts) {
    out[0].set(part[0], at)
    out[1].set(part[1], at)
    out[2].set(part[2], at)
    out[3].set(part[3], at)
    out[4].set(part[4], at)
    at += part[0].length
  }
  return out
}
