import {UsageError} from '../errors.js'
import {seededRandom} from '../util/seeded-random.js'

export {seededRandom}

/** How the next token is chosen: greedy (temperature 0), or sampled from softmax(logits / T) over the top k. */
export interface Sampling {
  /** 0 (default): greedy, the highest logit (the first one on ties, as torch.argmax). */
  temperature?: number
  /** Sample among the k highest logits only (default: the whole vocabulary). */
  topK?: number
}


export function checkSampling(s: Sampling): void {
  if (s.temperature !== undefined && !(Number.isFinite(s.temperature) && s.temperature >= 0)) {
    throw new UsageError(`temperature ${s.temperature}: expected a number >= 0 (0 = greedy)`)
  }
  if (s.topK !== undefined && !(Number.isInteger(s.topK) && s.topK >= 1)) {
    throw new UsageError(`top-k ${s.topK}: expected a whole number >= 1`)
  }
}

/** Index of the highest value (the first on ties). */
export function argmax(logits: Float32Array): number {
  let best = 0
  for (let v = 1; v < logits.length; v++) {
    if ((logits[v] as number) > (logits[best] as number)) {
      best = v
    }
  }
  return best
}

/**
 * The probabilities the sampler draws from: softmax(logits / temperature) over the top-k logits
 * (ties at the k-th value are kept), 0 elsewhere; computed in float64. Pure.
 */
export function samplingProbabilities(logits: Float32Array, temperature: number, topK?: number): Float64Array {
  const n = logits.length
  let floor = -Infinity
  if (topK !== undefined && topK < n) {
    floor = Float32Array.from(logits).sort().reverse()[topK - 1] as number
  }
  let max = -Infinity
  for (let v = 0; v < n; v++) {
    const x = logits[v] as number
    if (x >= floor && x > max) {
      max = x
    }
  }
  const p = new Float64Array(n)
  let sum = 0
  for (let v = 0; v < n; v++) {
    const x = logits[v] as number
    if (x >= floor) {
      p[v] = Math.exp((x - max) / temperature)
      sum += p[v] as number
    }
  }
  for (let v = 0; v < n; v++) {
    p[v] = (p[v] as number) / sum
  }
  return p
}

/** The next token of one row's logits [V]: greedy when temperature is 0, else drawn with `random`. */
export function pickToken(logits: Float32Array, sampling: Sampling, random: () => number): number {
  const temperature = sampling.temperature ?? 0
  if (temperature === 0) {
    return argmax(logits)
  }
  const p = samplingProbabilities(logits, temperature, sampling.topK)
  const u = random()
  let acc = 0
  let last = 0
  for (let v = 0; v < p.length; v++) {
    const pv = p[v] as number
    if (pv > 0) {
      acc += pv
      last = v
      if (u < acc) {
        return v
      }
    }
  }
  return last
}
