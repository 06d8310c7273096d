import type {Db} from '../store/db.js'
import type {BlockStatColumns, LayerStatColumns} from './batch-stats.js'
import type {NeuronAccumulator} from './neuron-accumulator.js'

/**
 * Stores one profiled batch in a single transaction: its layer and block rows, raw activations, the
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
    activations?: [Int32Array, Int32Array, Int32Array, Int32Array, Float32Array]
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
    if (p.activations !== undefined) {
      await db.appendColumns('activations', [run, ...p.activations])
    }
    await db.run('DELETE FROM neuron_stats WHERE run_id = $1', [p.runId])
    const neuronColumns = p.neurons.columns()
    await db.appendColumns('neuron_stats', [run, ...neuronColumns])
    await db.run('UPDATE runs SET next_sample = $2, tokens = $3 WHERE run_id = $1', [p.runId, p.nextSample, p.tokens])
    await db.run('COMMIT')
    return {layerStats: l.sample.length, blockStats: b.sample.length, neuronStats: neuronColumns[0].length, activations: p.activations?.[0].length ?? 0}
  } catch (error) {
    await db.run('ROLLBACK')
    throw error
  }
}
