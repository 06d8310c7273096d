import {createHash} from 'node:crypto'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {DataError, DlecError, OnnxError, StoreError} from '../errors.js'
import {openDecoder} from '../onnx/open-decoder.js'
import type {HostTensor} from '../onnx/session.js'
import {loadTokenizer} from '../tokenizer/load-tokenizer.js'
import type {Db} from '../store/db.js'
import {openStore} from '../store/open-store.js'
import {createRun, findRun, markRunComplete, markRunFailed, markRunRunning} from '../store/runs.js'
import type {RunRecord} from '../store/runs.js'
import {MAX_BLOCK, collectBatchStats, emptyBlockColumns, emptyLayerColumns} from './batch-stats.js'
import type {BlockStatColumns, LayerStatColumns, StatTensor} from './batch-stats.js'
import {NeuronAccumulator} from './neuron-accumulator.js'
import type {NeuronStatRow} from './neuron-accumulator.js'
import {rawPositions} from './raw-positions.js'
import type {RawMode} from './raw-positions.js'
import {writeBatch} from './write-batch.js'
import type {RawColumns} from './write-batch.js'

/** Batches are written together at most this often (and at the end, and before stopping on SIGINT). */
const FLUSH_MS = 2000
/** ... or when this many rows are waiting. */
const FLUSH_ROWS = 4_000_000

export interface ProfileParams {
  modelDir: string
  cacheDir: string
  /** The DuckDB file (created when missing). */
  dbPath: string
  texts: string[]
  /** Where the texts came from (stored with the run). */
  dataSource: string
  /** Layer sequence to profile (default: all layers in order). */
  layers?: number[]
  /** Tokens per sample; longer samples are truncated (default 256). */
  maxTokens?: number
  batchSize?: number
  raw?: RawMode
  name?: string
  /** Continue this failed / interrupted run instead of starting a new one. */
  resume?: string
  threads?: number
  /** Stops between batches; the run is then marked failed (resumable). */
  signal?: AbortSignal
}

export type ProfileEvent =
  | {type: 'start'; runId: number; name: string; samples: number; done: number; resumed: boolean}
  | {type: 'batch'; done: number; total: number; tokens: number; tokensPerSecond: number; etaSeconds: number}

export interface ProfileResult {
  runId: number
  name: string
  dbPath: string
  model: string
  layers: number[]
  samples: number
  tokens: number
  seconds: number
  tokensPerSecond: number
  rows: {layerStats: number; blockStats: number; neuronStats: number; activations: number}
  /** Rows appended per second of store time (all tables). */
  storeRowsPerSecond: number
  resumed: boolean
}

/**
 * Runs the texts through the decoder graph (onnx/) and stores per-layer per-sample statistics over
 * positions >= 1, per-neuron running statistics and optional raw activations (see store/schema.ts).
 * Whole batches are written together (every ~2 s) in one transaction that also records the resume
 * point, so an interrupted or failed run is marked failed holding whole batches only, and `resume`
 * continues it to the same result. SIGINT (params.signal) first writes the batches already computed.
 */
export async function* profileModelIter(params: ProfileParams): AsyncGenerator<ProfileEvent, ProfileResult> {
  const maxTokens = params.maxTokens ?? 256
  const batchSize = params.batchSize ?? 4
  const raw = params.raw ?? {kind: 'none'}
  const tokenizer = loadTokenizer(params.modelDir)
  const rows = params.texts.map((text) => tokenizer.encode(text).slice(0, maxTokens)).filter((ids) => ids.length >= 2)
  if (rows.length === 0) {
    throw new DataError(`${params.dataSource}: no sample has 2 or more tokens`)
  }
  const dataHash = createHash('sha256').update(JSON.stringify(rows)).digest('hex').slice(0, 16)
  const db = await openStore({path: params.dbPath})
  let run: RunRecord | undefined
  try {
    const decoder = await openDecoder({modelDir: params.modelDir, cacheDir: params.cacheDir, threads: params.threads})
    try {
      const layers = params.layers ?? Array.from({length: decoder.spec.numLayers}, (_, i) => i)
      const hidden = decoder.spec.hidden
      const neurons = new NeuronAccumulator(layers.length + 1, hidden)
      const resumed = params.resume !== undefined
      run = resumed ? await prepareResume(db, String(params.resume), {dataHash, layers, neurons}) : undefined
      run ??= await createRun(db, {
        name: params.name,
        model: params.modelDir,
        modelHash: modelHash(params.modelDir),
        layers,
        hiddenSize: hidden,
        dataSource: params.dataSource,
        dataHash,
        samples: rows.length,
        options: {maxTokens, batchSize, raw: raw.kind === 'sample' ? `sample:${raw.k}` : raw.kind, positions: '>= 1', cosineGaps: MAX_BLOCK},
      })
      const {runId} = run
      yield {type: 'start', runId, name: run.name, samples: rows.length, done: run.nextSample, resumed}
      const started = performance.now()
      let tokens = run.tokens
      let newTokens = 0
      let storeSeconds = 0
      const counts = {layerStats: 0, blockStats: 0, neuronStats: 0, activations: 0}
      let pending = emptyPending(run.nextSample, tokens)
      let lastFlush = performance.now()
      const flush = async (): Promise<void> => {
        if (pending.batches === 0) {
          return
        }
        const t0 = performance.now()
        const written = await writeBatch(db, {runId, layers: pending.layers, blocks: pending.blocks, neurons, activations: pending.activations, nextSample: pending.nextSample, tokens: pending.tokens})
        storeSeconds += (performance.now() - t0) / 1000
        counts.layerStats += written.layerStats
        counts.blockStats += written.blockStats
        counts.neuronStats = written.neuronStats
        counts.activations += written.activations
        pending = emptyPending(pending.nextSample, pending.tokens)
        lastFlush = performance.now()
      }
      for (let first = run.nextSample; first < rows.length; first += batchSize) {
        if (params.signal?.aborted === true) {
          await flush()
          throw new DlecError('interrupted', 'DLEC_INTERRUPTED', `profile run "${run.name}" interrupted after ${first}/${rows.length} samples; continue it with --resume ${run.name}`)
        }
        const batch = rows.slice(first, first + batchSize)
        const result = await decoder.run({
          inputIds: batch,
          layers,
          outputs: {logits: 'none', norms: true, cosineGaps: MAX_BLOCK, hidden: 'all', finalHidden: raw.kind !== 'none'},
        })
        const outputs = floatOutputs(result.outputs)
        collectBatchStats({outputs, lengths: result.lengths, numLayers: layers.length, firstSample: first, layers: pending.layers, blocks: pending.blocks})
        for (let k = 0; k <= layers.length; k++) {
          neurons.add(k, outputOf(outputs, `hidden_${k}`), result.lengths)
        }
        if (raw.kind !== 'none') {
          const activations = rawColumns({outputs, lengths: result.lengths, raw, numLayers: layers.length, hidden, firstSample: first})
          pending.activations.push(activations)
          pending.activationRows += activations[0].length
        }
        const batchTokens = result.lengths.reduce((s, n) => s + Math.max(0, n - 1), 0)
        tokens += batchTokens
        newTokens += batchTokens
        const done = first + batch.length
        pending.batches++
        pending.nextSample = done
        pending.tokens = tokens
        if (done >= rows.length || performance.now() - lastFlush > FLUSH_MS || pending.activationRows + pending.layers.sample.length * (MAX_BLOCK + 1) > FLUSH_ROWS) {
          await flush()
        }
        const seconds = (performance.now() - started) / 1000
        const tokensPerSecond = newTokens / Math.max(seconds, 1e-9)
        const left = rows.slice(done).reduce((s, r) => s + r.length - 1, 0)
        yield {type: 'batch', done, total: rows.length, tokens, tokensPerSecond, etaSeconds: left / Math.max(tokensPerSecond, 1e-9)}
      }
      const seconds = (performance.now() - started) / 1000
      await markRunComplete(db, runId, seconds)
      const total = counts.layerStats + counts.blockStats + counts.neuronStats + counts.activations
      return {
        runId,
        name: run.name,
        dbPath: params.dbPath,
        model: params.modelDir,
        layers,
        samples: rows.length,
        tokens,
        seconds,
        tokensPerSecond: newTokens / Math.max(seconds, 1e-9),
        rows: counts,
        storeRowsPerSecond: total / Math.max(storeSeconds, 1e-9),
        resumed,
      }
    } finally {
      await decoder.release()
    }
  } catch (error) {
    if (run !== undefined) {
      const reason = error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error)
      await markRunFailed(db, run.runId, reason)
    }
    throw error
  } finally {
    db.close()
  }
}

/** Runs a profile to the end without progress events. */
export async function profileModel(params: ProfileParams): Promise<ProfileResult> {
  const it = profileModelIter(params)
  let next = await it.next()
  while (next.done !== true) {
    next = await it.next()
  }
  return next.value
}

/** Batches computed but not yet written: they go to the store together, in one transaction. */
interface Pending {
  layers: LayerStatColumns
  blocks: BlockStatColumns
  activations: RawColumns[]
  activationRows: number
  batches: number
  nextSample: number
  tokens: number
}

function emptyPending(nextSample: number, tokens: number): Pending {
  return {layers: emptyLayerColumns(), blocks: emptyBlockColumns(), activations: [], activationRows: 0, batches: 0, nextSample, tokens}
}

async function prepareResume(db: Db, name: string, p: {dataHash: string; layers: number[]; neurons: NeuronAccumulator}): Promise<RunRecord> {
  const run = await findRun(db, name)
  if (run.status === 'complete') {
    throw new StoreError(`${db.path}: run "${run.name}" is already complete; nothing to resume`, 'DLEC_RUN_COMPLETE')
  }
  if (run.dataHash !== p.dataHash || JSON.stringify(run.layers) !== JSON.stringify(p.layers)) {
    throw new StoreError(`${db.path}: run "${run.name}" was profiled with other data or layers (${run.dataSource}); resume it with the same --data, --samples, --max-tokens and layers`, 'DLEC_RUN_MISMATCH')
  }
  const rows = await db.all('SELECT point, neuron, count, sum, sum_sq, sum_abs, max_abs FROM neuron_stats WHERE run_id = $1', [run.runId])
  p.neurons.load(rows as unknown as NeuronStatRow[])
  for (const table of ['layer_stats', 'block_stats', 'activations']) {
    await db.run(`DELETE FROM ${table} WHERE run_id = $1 AND sample >= $2`, [run.runId, run.nextSample])
  }
  await markRunRunning(db, run.runId)
  return run
}

function floatOutputs(outputs: Record<string, HostTensor>): Record<string, StatTensor> {
  const out: Record<string, StatTensor> = {}
  for (const [name, t] of Object.entries(outputs)) {
    if (t.data instanceof Float32Array) {
      out[name] = {dims: t.dims, data: t.data}
    }
  }
  return out
}

function outputOf(outputs: Record<string, StatTensor>, name: string): StatTensor {
  const t = outputs[name]
  if (t === undefined) {
    throw new OnnxError(`the decoder returned no ${name} output`)
  }
  return t
}

/** Raw activation rows: points 0..L are h_k (before the final norm), point L+1 is the final-norm output (transformers' last hidden_states entry). */
function rawColumns(p: {outputs: Record<string, StatTensor>; lengths: readonly number[]; raw: RawMode; numLayers: number; hidden: number; firstSample: number}): RawColumns {
  const picks = p.lengths.map((len) => rawPositions(p.raw, len))
  const n = picks.reduce((s, pos) => s + pos.length, 0) * (p.numLayers + 2) * p.hidden
  const cols: RawColumns = [new Int32Array(n), new Int32Array(n), new Int32Array(n), new Int32Array(n), new Float32Array(n)]
  let r = 0
  for (let k = 0; k <= p.numLayers + 1; k++) {
    const h = outputOf(p.outputs, k === p.numLayers + 1 ? 'final_hidden' : `hidden_${k}`)
    const seq = h.dims[1] ?? 0
    for (const [b, positions] of picks.entries()) {
      for (const t of positions) {
        const base = (b * seq + t) * p.hidden
        cols[0].fill(p.firstSample + b, r, r + p.hidden)
        cols[1].fill(t, r, r + p.hidden)
        cols[2].fill(k, r, r + p.hidden)
        for (let j = 0; j < p.hidden; j++) {
          cols[3][r + j] = j
        }
        cols[4].set(h.data.subarray(base, base + p.hidden), r)
        r += p.hidden
      }
    }
  }
  return cols
}

/** A cheap identity of the weights: config.json and the names and sizes of the safetensors files. */
function modelHash(modelDir: string): string | null {
  try {
    const hash = createHash('sha256').update(readFileSync(join(modelDir, 'config.json')))
    for (const file of readdirSync(modelDir).filter((f) => f.endsWith('.safetensors')).sort()) {
      hash.update(`${file}:${statSync(join(modelDir, file)).size}`)
    }
    return hash.digest('hex').slice(0, 16)
  } catch {
    return null
  }
}
