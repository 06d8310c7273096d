import {createHash} from 'node:crypto'
import {DataError, DlecError} from '../errors.js'
import {openDecoder} from '../onnx/open-decoder.js'
import type {WeightFormat} from '../onnx/weight-store.js'
import {loadTokenizer} from '../tokenizer/load-tokenizer.js'
import {openStore} from '../store/open-store.js'
import {createRun, markRunComplete, markRunFailed} from '../store/runs.js'
import type {RunRecord} from '../store/runs.js'
import {MAX_BLOCK, collectBatchStats, emptyBlockColumns, emptyLayerColumns} from './batch-stats.js'
import type {BlockStatColumns, LayerStatColumns} from './batch-stats.js'
import {modelHash} from './model-hash.js'
import {NeuronAccumulator} from './neuron-accumulator.js'
import {floatOutputs, outputOf, rawColumns} from './raw-columns.js'
import type {RawMode} from './raw-positions.js'
import {prepareResume} from './resume-run.js'
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
  /** Weight format: fp32 (default), or int8 / int4 block-quantized projections (as `dlec eval --quant`). */
  quant?: WeightFormat
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
  const quant = params.quant ?? 'fp32'
  const tokenizer = loadTokenizer(params.modelDir)
  const rows = params.texts.map((text) => tokenizer.encode(text).slice(0, maxTokens)).filter((ids) => ids.length >= 2)
  if (rows.length === 0) {
    throw new DataError(`${params.dataSource}: no sample has 2 or more tokens`)
  }
  const dataHash = createHash('sha256').update(JSON.stringify(rows)).digest('hex').slice(0, 16)
  const db = await openStore({path: params.dbPath})
  let run: RunRecord | undefined
  try {
    const decoder = await openDecoder({modelDir: params.modelDir, cacheDir: params.cacheDir, threads: params.threads, quant})
    try {
      const layers = params.layers ?? Array.from({length: decoder.spec.numLayers}, (_, i) => i)
      const hidden = decoder.spec.hidden
      const neurons = new NeuronAccumulator(layers.length + 1, hidden)
      const resumed = params.resume !== undefined
      run = resumed ? await prepareResume(db, String(params.resume), {dataHash, layers, neurons, quant}) : undefined
      run ??= await createRun(db, {
        name: params.name,
        model: params.modelDir,
        modelHash: modelHash(params.modelDir),
        layers,
        hiddenSize: hidden,
        dataSource: params.dataSource,
        dataHash,
        samples: rows.length,
        options: {maxTokens, batchSize, raw: raw.kind === 'sample' ? `sample:${raw.k}` : raw.kind, positions: '>= 1', cosineGaps: MAX_BLOCK, quant},
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
