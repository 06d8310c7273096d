import {InterruptedError, UsageError} from '../errors.js'
import type {BranchScale} from '../onnx/decoder-graph.js'
import {openDecoderIter, type Decoder, type KvState, type OpenDecoderEvent} from '../onnx/open-decoder.js'
import {modelOf, type ModelInput} from '../model/loaded-model.js'
import {decoderOptions, type DecoderOptions} from '../onnx/devices.js'
import {loadTokenizer} from '../tokenizer/load-tokenizer.js'
import {checkSampling, pickToken, seededRandom} from './pick-token.js'
import {stopTokens} from './stop-tokens.js'
import {drain} from '../drain.js'

export interface GenerateParams extends ModelInput, DecoderOptions {
  /** Layer sequence to run (default: the model's own layers); repeats share weights, zero-copy. */
  layers?: number[]
  /** Per position of `layers`: output scales of that copy (identity copies: 0). */
  scales?: (BranchScale | undefined)[]
  /** Prompt text, encoded with the model's tokenizer (with the BOS its post-processor adds). */
  prompt?: string
  /** Prompt token ids, instead of `prompt`. */
  promptIds?: number[]
  /** Tokens to generate at most (default 64). */
  maxNewTokens?: number
  /** 0 (default): greedy. Otherwise sampled from softmax(logits / temperature). */
  temperature?: number
  /** Sample among the k most likely tokens only. */
  topK?: number
  /** Seed of the sampler (default: drawn, and reported). */
  seed?: number
  /** Ids that end generation (default: the model's EOS ids, as transformers finds them); [] never stops early. */
  stopIds?: number[]
  /** false: run the whole sequence again for every token (no KV cache; the speed baseline). Default true. */
  kvCache?: boolean
  /**
   * Pre-pack the fp32 weights (default true): single-token steps run about 1.5-2x faster, but each
   * position of the layer sequence holds its own packed copy of its weights (as a merged model would).
   */
  prepack?: boolean
  /** Stops between tokens (an InterruptedError). */
  signal?: AbortSignal
}

export type GenerateEvent =
  | OpenDecoderEvent
  /** One generated token; `text` is what it adds to the decoded text (empty while a character is incomplete). */
  | {type: 'token'; index: number; id: number; text: string}

export interface GenerateReport {
  modelDir: string
  layers: number[]
  /** Output scales of scaled copies, by position in `layers` (absent when none). */
  scales?: (BranchScale | undefined)[]
  numLayers: number
  promptIds: number[]
  /** Generated ids, a final stop id included. */
  tokens: number[]
  /** The decoded prompt and generated tokens together (special tokens skipped). */
  text: string
  /** The part of `text` the generated tokens added. */
  completion: string
  stopReason: 'eos' | 'max-new-tokens' | 'max-positions'
  sampling: {temperature: number; topK?: number; seed?: number}
  kvCache: boolean
  /** Time to the first generated token (the prompt's pass), and for all tokens (the session is opened before). */
  promptSeconds: number
  seconds: number
  /** Generated tokens per second over the whole generation (prompt pass included). */
  tokensPerSecond: number
}

/** Ids before the new ones that token texts are decoded with (spaces and merged characters depend on them). */
const DECODE_CONTEXT = 8

/**
 * Greedy or sampled text from a model, or from a layer sequence of it run zero-copy, before anything
 * is merged. With the KV cache (default) the prompt runs once and every later token runs alone
 * through the layers, each copy of a repeated layer keeping its own keys and values.
 */
export async function* generateIter(params: GenerateParams): AsyncGenerator<GenerateEvent, GenerateReport> {
  const sampling = {temperature: params.temperature ?? 0, topK: params.topK}
  checkSampling(sampling)
  const maxNewTokens = params.maxNewTokens ?? 64
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) {
    throw new UsageError(`max new tokens ${maxNewTokens}: expected a whole number >= 1`)
  }
  const model = await modelOf(params)
  const modelDir = model.location.dir
  const tokenizer = loadTokenizer(modelDir)
  const promptIds = params.promptIds ?? tokenizer.encode(params.prompt ?? '')
  if (promptIds.length === 0) {
    throw new UsageError('the prompt has no tokens (give some text; this tokenizer adds no BOS)')
  }
  const decoder: Decoder = yield* openDecoderIter({...decoderOptions(params), model, prepack: params.prepack ?? true})
  try {
    const {spec} = decoder
    if (promptIds.length >= spec.maxPositions) {
      throw new UsageError(`the prompt has ${promptIds.length} tokens; the model has ${spec.maxPositions} positions, so no token can follow`)
    }
    const layers = params.layers ?? Array.from({length: spec.numLayers}, (_, i) => i)
    const scales = params.scales?.some((x) => x !== undefined) === true ? params.scales : undefined
    const stops = new Set(params.stopIds ?? stopTokens(modelDir, decoder.config, tokenizer.eosId))
    const seed = sampling.temperature === 0 ? undefined : (params.seed ?? Math.floor(Math.random() * 2 ** 32))
    const random = seededRandom(seed ?? 0)
    const kvCache = params.kvCache ?? true
    const promptText = tokenizer.decode(promptIds)
    const all = [...promptIds]
    const tokens: number[] = []
    // Token texts come from decoding a short window of the latest ids (not the whole text again
    // every token): the ids from `from` decode to `shown`, and what a new id adds to it is the next
    // text, once it is no longer an incomplete character.
    let from = Math.max(0, all.length - DECODE_CONTEXT)
    let shown = tokenizer.decode(all.slice(from))
    let past: KvState | undefined
    let stopReason: GenerateReport['stopReason'] = 'max-new-tokens'
    await decoder.prepare(kvCache ? {layers, scales, kvCache} : {layers, scales, outputs: {logits: 'last'}})
    let promptSeconds = 0
    const t0 = performance.now()
    for (let index = 0; index < maxNewTokens; index++) {
      if (params.signal?.aborted === true) {
        throw new InterruptedError(`generation stopped after ${index} token(s)`)
      }
      let logits: Float32Array
      if (kvCache) {
        const step = await decoder.decodeStep({layers, scales, inputIds: [past === undefined ? promptIds : [all.at(-1) as number]], past})
        logits = step.logits
        past = step.present
      } else {
        const r = await decoder.run({layers, scales, inputIds: [all], outputs: {logits: 'last'}})
        logits = r.outputs.logits?.data as Float32Array
      }
      if (index === 0) {
        promptSeconds = (performance.now() - t0) / 1000
      }
      const id = pickToken(logits, sampling, random)
      all.push(id)
      tokens.push(id)
      const decoded = tokenizer.decode(all.slice(from))
      let text = ''
      if (!decoded.endsWith('\uFFFD') && decoded.startsWith(shown)) {
        text = decoded.slice(shown.length)
        if (all.length - from > 2 * DECODE_CONTEXT) {
          from = all.length - DECODE_CONTEXT
          shown = tokenizer.decode(all.slice(from))
        } else {
          shown = decoded
        }
      }
      yield {type: 'token', index, id, text}
      if (stops.has(id)) {
        stopReason = 'eos'
        break
      }
      if (all.length >= spec.maxPositions) {
        stopReason = index + 1 < maxNewTokens ? 'max-positions' : 'max-new-tokens'
        break
      }
    }
    const seconds = (performance.now() - t0) / 1000
    const text = tokenizer.decode(all)
    return {
      modelDir: modelDir,
      layers,
      ...(scales === undefined ? {} : {scales}),
      numLayers: spec.numLayers,
      promptIds,
      tokens,
      text,
      completion: text.startsWith(promptText) ? text.slice(promptText.length) : tokenizer.decode(tokens),
      stopReason,
      sampling: {temperature: sampling.temperature, ...(sampling.topK === undefined ? {} : {topK: sampling.topK}), ...(seed === undefined ? {} : {seed})},
      kvCache,
      promptSeconds,
      seconds,
      tokensPerSecond: tokens.length / seconds,
    }
  } finally {
    await decoder.release()
  }
}

/** generateIter without events. */
export async function generate(params: GenerateParams): Promise<GenerateReport> {
  return drain(generateIter(params))
}
