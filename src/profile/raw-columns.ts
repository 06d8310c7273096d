import {OnnxError} from '../errors.js'
import type {HostTensor} from '../onnx/session.js'
import type {StatTensor} from './batch-stats.js'
import {rawPositions} from './raw-positions.js'
import type {RawMode} from './raw-positions.js'
import type {RawColumns} from './write-batch.js'

/** Raw activation rows: points 0..L are h_k (before the final norm), point L+1 is the final-norm output (transformers' last hidden_states entry). */
export function rawColumns(p: {outputs: Record<string, StatTensor>; lengths: readonly number[]; raw: RawMode; numLayers: number; hidden: number; firstSample: number}): RawColumns {
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

export function floatOutputs(outputs: Record<string, HostTensor>): Record<string, StatTensor> {
  const out: Record<string, StatTensor> = {}
  for (const [name, t] of Object.entries(outputs)) {
    if (t.data instanceof Float32Array) {
      out[name] = {dims: t.dims, data: t.data}
    }
  }
  return out
}

export function outputOf(outputs: Record<string, StatTensor>, name: string): StatTensor {
  const t = outputs[name]
  if (t === undefined) {
    throw new OnnxError(`the decoder returned no ${name} output`)
  }
  return t
}
