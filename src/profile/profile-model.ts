import {createHash} from 'node:crypto'
import {DataError, DlecError} from '../errors.js'
import {drain} from '../drain.js'
import {modelOf, type ModelInput} from '../model/loaded-model.js'
import {decoderOptions, type DecoderOptions} from '../onnx/devices.js'
import {openDecoderIter, type OpenDecoderEvent} from '../onnx/open-decoder.js'
import {encodePrefix} from '../tokenizer/encode-prefix.js'
import type {FormatDecision} from '../onnx/weight-format.js'
import {REDUCED_OUTPUT, unpackReduced} from '../onnx/profile-reductions.js'
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

export interface ProfileParams extends ModelInput, DecoderOptions {
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
  /** Stops between batches; the run is then marked failed (resumable). */
  signal?: AbortSignal
}

export type ProfileEvent =
  | OpenDecoderEvent
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
  /** The weight format the graphs ran, and why. */
  weightFormat: FormatDecision
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
  const model = await modelOf(params)
  const modelDir = model.location.dir
  const tokenizer = loadTokenizer(modelDir)
  const rows = params.texts.map((text) => encodePrefix(tokenizer, text, maxTokens)).filter((ids) => ids.length >= 2)
  if (rows.length === 0) {
    throw new DataError(`${params.dataSource}: no sample has 2 or more tokens`)
  }
  const dataHash = createHash('sha256').update(JSON.stringify(rows)).digest('hex').slice(0, 16)
  const db = await openStore({path: params.dbPath})
  let run: RunRecord | undefined
  let completed = false
  let failed = false
  try {
    const decoder = yield* openDecoderIter({...decoderOptions(params), model, signal: params.signal})
    try {
      const quant = decoder.weightFormat.format
      const layers = params.layers ?? Array.from({length: decoder.spec.numLayers}, (_, i) => i)
      const hidden = decoder.spec.hidden
      const neurons = new NeuronAccumulator(layers.length + 1, hidden)
      const resumed = params.resume !== undefined
      const options = {maxTokens, batchSize, raw: raw.kind === 'sample' ? `sample:${raw.k}` : raw.kind, positions: '>= 1', cosineGaps: MAX_BLOCK, quant}
      const hash = modelHash(modelDir)
      run = resumed ? await prepareResume(db, String(params.resume), {dataHash, layers, neurons, quant, modelHash: hash, options}) : undefined
      run ??= await createRun(db, {
        name: params.name,
        model: model.identity,
        modelHash: hash,
        layers,
        hiddenSize: hidden,
        dataSource: params.dataSource,
        dataHash,
        samples: rows.length,
        options,
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
          // Only reduced tensors come back, except the hidden states --raw stores.
          outputs: raw.kind === 'none' ? {logits: 'none', reduced: {gaps: MAX_BLOCK}} : {logits: 'none', reduced: {gaps: MAX_BLOCK}, hidden: 'all', finalHidden: true},
        })
        const outputs = floatOutputs(result.outputs)
        const stats = unpackReduced(outputOf(outputs, REDUCED_OUTPUT).data, {batch: batch.length, numLayers: layers.length, hidden, gaps: MAX_BLOCK})
        collectBatchStats({stats, lengths: result.lengths, numLayers: layers.length, firstSample: first, layers: pending.layers, blocks: pending.blocks})
        const batchTokens = result.lengths.reduce((s, n) => s + Math.max(0, n - 1), 0)
        neurons.addBatch(stats, batchTokens)
        if (raw.kind !== 'none') {
          const activations = rawColumns({outputs, lengths: result.lengths, raw, numLayers: layers.length, hidden, firstSample: first})
          pending.activations.push(activations)
          pending.activationRows += activations[0].length
        }
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
        try {
          yield {type: 'batch', done, total: rows.length, tokens, tokensPerSecond, etaSeconds: left / Math.max(tokensPerSecond, 1e-9)}
        } catch (error) {
          // Stopped by the caller at this event (a signal): keep the batches computed, then stop resumable.
          await flush()
          throw error instanceof DlecError && error.kind === 'interrupted'
            ? new DlecError('interrupted', 'DLEC_INTERRUPTED', `profile run "${run.name}" interrupted after ${done}/${rows.length} samples; continue it with --resume ${run.name}`)
            : error
        }
      }
      const seconds = (performance.now() - started) / 1000
      await markRunComplete(db, runId, seconds)
      completed = true
      const total = counts.layerStats + counts.blockStats + counts.neuronStats + counts.activations
      return {
        runId,
        name: run.name,
        dbPath: params.dbPath,
        model: model.identity,
        layers,
        samples: rows.length,
        tokens,
        seconds,
        tokensPerSecond: newTokens / Math.max(seconds, 1e-9),
        rows: counts,
        storeRowsPerSecond: total / Math.max(storeSeconds, 1e-9),
        resumed,
        weightFormat: decoder.weightFormat,
      }
    } finally {
      await decoder.release()
    }
  } catch (error) {
    if (run !== undefined && !completed) {
      const reason = error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error)
      failed = true
      // A store that cannot record the failure (disk full) must not hide the first error.
      await markRunFailed(db, run.runId, reason).catch(() => undefined)
    }
    throw error
  } finally {
    // A consumer that stops iterating (return()) skips the catch: the run is still marked failed,
    // so it is resumable and never left 'running'.
    if (run !== undefined && !completed && !failed) {
      await markRunFailed(db, run.runId, 'interrupted').catch(() => undefined)
    }
    db.close()
  }
}

/** Runs a profile to the end without progress events. */
export async function profileModel(params: ProfileParams): Promise<ProfileResult> {
  return drain(profileModelIter(params))
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
