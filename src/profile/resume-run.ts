import {StoreError} from '../errors.js'
import type {Db} from '../store/db.js'
import {findRun, markRunRunning} from '../store/runs.js'
import type {RunRecord} from '../store/runs.js'
import type {NeuronAccumulator, NeuronStatRow} from './neuron-accumulator.js'

/**
 * Reopens a failed / interrupted run for --resume: checks it was profiled on the same tokens and
 * layers, restores the neuron accumulators from the stored snapshot and drops any rows past the
 * stored resume point (there are none unless the file was edited: batches commit with it).
 */
export async function prepareResume(
  db: Db,
  name: string,
  p: {dataHash: string; layers: number[]; neurons: NeuronAccumulator; quant: string; modelHash: string | null; options: Record<string, unknown>},
): Promise<RunRecord> {
  const run = await findRun(db, name)
  if (run.status === 'complete') {
    throw new StoreError(`${db.path}: run "${run.name}" is already complete; nothing to resume`, 'DLEC_RUN_COMPLETE')
  }
  if (run.dataHash !== p.dataHash || JSON.stringify(run.layers) !== JSON.stringify(p.layers)) {
    throw new StoreError(`${db.path}: run "${run.name}" was profiled with other data or layers (${run.dataSource}); resume it with the same --data, --samples, --max-tokens and layers`, 'DLEC_RUN_MISMATCH')
  }
  const storedQuant = typeof run.options.quant === 'string' ? run.options.quant : 'fp32'
  if (storedQuant !== p.quant) {
    throw new StoreError(`${db.path}: run "${run.name}" was profiled with --quant ${storedQuant}; resume it with --quant ${storedQuant} (not ${p.quant})`, 'DLEC_RUN_MISMATCH')
  }
  // Statistics of two models (or two raw modes) must never be mixed into one run.
  if (run.modelHash === null || p.modelHash === null || run.modelHash !== p.modelHash) {
    throw new StoreError(`${db.path}: run "${run.name}" was profiled on ${run.model}, whose weights or config differ from this model's; resume it with the same model`, 'DLEC_RUN_MISMATCH')
  }
  if (run.options.raw !== undefined && run.options.raw !== p.options.raw) {
    throw new StoreError(`${db.path}: run "${run.name}" was profiled with --raw ${String(run.options.raw)}; resume it with the same (not ${String(p.options.raw)})`, 'DLEC_RUN_MISMATCH')
  }
  const rows = await db.all('SELECT point, neuron, count, sum, sum_sq, sum_abs, max_abs FROM neuron_stats WHERE run_id = $1', [run.runId])
  p.neurons.load(rows as unknown as NeuronStatRow[])
  for (const table of ['layer_stats', 'block_stats', 'activations']) {
    await db.run(`DELETE FROM ${table} WHERE run_id = $1 AND sample >= $2`, [run.runId, run.nextSample])
  }
  await markRunRunning(db, run.runId)
  return run
}

