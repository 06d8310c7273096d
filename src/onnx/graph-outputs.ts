import {OnnxError} from '../errors.js'
import type {GraphBuilder} from './graph-builder.js'
import type {DecoderSpec} from './decoder-spec.js'

/**
 * What a decoder graph returns. Hidden-state points are numbered k = 0..L for a sequence of L
 * layers: k = 0 enters the first layer, k = i leaves the i-th layer of the sequence (before the final
 * norm). Output names:
 * - `logits`: [B, T, V] (`all`) or [B, V] at each row's last token (`last`);
 * - `hidden_<k>`: [B, T, H] (`hiddenTokens: all`) or [B, H] (`last`);
 * - `final_hidden`: after the final norm, [B, T, H] or [B, H];
 * - `norm_<k>`: L2 norm of h_k per token, [B, T];
 * - `cos_<k>_<n>`: cosine between h_k and h_(k+n) per token, [B, T], for n = 1..cosineGaps.
 *   A layer's input/output cosine is `cos_<k>_1`; its input and output norms are norm_k, norm_(k+1).
 * - `reduced: {gaps}`: the profile reductions over positions >= 1, per row and per neuron, computed in
 *   the graph so that no hidden state leaves it: one 1-D output `profile_stats` (see
 *   profile-reductions.ts, `unpackReduced`).
 */
export interface GraphOutputRequest {
  logits?: 'all' | 'last' | 'none'
  hidden?: number[] | 'all'
  hiddenTokens?: 'all' | 'last'
  finalHidden?: boolean
  norms?: boolean
  cosineGaps?: number
  reduced?: {gaps: number}
}

interface EmitParams {
  g: GraphBuilder
  spec: DecoderSpec
  mask: string
  shapes: {bt: string; bth: string}
  /** h_0 .. h_runLayers, each [N, H]. */
  states: string[]
  head: () => {final: string; logits: string}
  request: GraphOutputRequest
}

function hiddenPoints(request: GraphOutputRequest, numLayers: number): number[] {
  if (request.hidden === 'all') {
    return Array.from({length: numLayers + 1}, (_, k) => k)
  }
  const points = request.hidden ?? []
  for (const k of points) {
    if (!Number.isInteger(k) || k < 0 || k > numLayers) {
      throw new OnnxError(`hidden state ${k} does not exist: a sequence of ${numLayers} layers has states 0..${numLayers}`, 'DLEC_OUTPUT_RANGE')
    }
  }
  return points
}

export const graphOutputs = {
  /** How many layers of the sequence the request needs to run. */
  plan(request: GraphOutputRequest, numLayers: number): {runLayers: number} {
    const head = (request.logits ?? 'all') !== 'none' || request.finalHidden === true
    const stats = request.norms === true || (request.cosineGaps ?? 0) > 0 || request.reduced !== undefined
    if (head || stats) {
      return {runLayers: numLayers}
    }
    const points = hiddenPoints(request, numLayers)
    if (points.length === 0) {
      throw new OnnxError('the graph was asked for no outputs', 'DLEC_OUTPUT_NONE')
    }
    return {runLayers: Math.max(...points)}
  },

  /** Outputs names in the order they were added. */
  emit(p: EmitParams): string[] {
    const {g, spec, shapes, states, request} = p
    const numLayers = states.length - 1
    const names: string[] = []
    const lastIndex = (): string => {
      const len = g.op('ReduceSum', [p.mask, g.constInt64([1])], {keepdims: 0}, {name: 'lengths'})
      return g.op('Unsqueeze', [g.op('Sub', [len, g.constInt64([1], [])]), g.constInt64([1])], {}, {name: 'last_index'})
    }
    let last: string | undefined
    const perToken = (value: string, width: number, tokens: 'all' | 'last', name: string): void => {
      const shape = width === spec.hidden ? shapes.bth : g.op('Concat', [shapes.bt, g.constInt64([width])], {axis: 0})
      const full = g.shaped(g.op('Reshape', [value, shape], {}, {name: `${name}_3d`}), 'float', ['batch', 'seq', width])
      if (tokens === 'all') {
        g.output(full, name, 'float', ['batch', 'seq', width])
      } else {
        last ??= lastIndex()
        g.output(g.op('GatherND', [full, last], {batch_dims: 1}), name, 'float', ['batch', width])
      }
      names.push(name)
    }
    const tokens = request.hiddenTokens ?? 'all'
    for (const k of hiddenPoints(request, numLayers)) {
      perToken(states[k] as string, spec.hidden, tokens, `hidden_${k}`)
    }
    const logitsMode = request.logits ?? 'all'
    if (logitsMode !== 'none' || request.finalHidden === true) {
      const {final, logits} = p.head()
      if (request.finalHidden === true) {
        perToken(final, spec.hidden, tokens, 'final_hidden')
      }
      if (logitsMode !== 'none') {
        perToken(logits, spec.vocab, logitsMode, 'logits')
      }
    }
    const norms: string[] = []
    const normOf = (k: number): string => {
      norms[k] ??= g.op('ReduceL2', [states[k] as string, g.constInt64([-1])], {keepdims: 0}, {name: `l2_${k}`})
      return norms[k] as string
    }
    const byToken = (value: string, name: string): void => {
      g.output(g.shaped(g.op('Reshape', [value, shapes.bt]), 'float', ['batch', 'seq']), name, 'float', ['batch', 'seq'])
      names.push(name)
    }
    if (request.norms === true) {
      for (let k = 0; k <= numLayers; k++) {
        byToken(normOf(k), `norm_${k}`)
      }
    }
    const gaps = request.cosineGaps ?? 0
    const tiny = g.scalar(1e-30)
    for (let k = 0; k < numLayers; k++) {
      for (let n = 1; n <= gaps && k + n <= numLayers; n++) {
        const dot = g.op('ReduceSum', [g.op('Mul', [states[k] as string, states[k + n] as string]), g.constInt64([-1])], {keepdims: 0})
        const denom = g.op('Max', [g.op('Mul', [normOf(k), normOf(k + n)]), tiny])
        byToken(g.op('Div', [dot, denom]), `cos_${k}_${n}`)
      }
    }
    return names
  },
}
