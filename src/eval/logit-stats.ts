/**
 * Per-token statistics of next-token logits, in float64. Logits are [B, T, V] row-major with rows
 * right-padded to T; position t of a row predicts token t + 1, so a row of length n has n - 1
 * predictions. Pure.
 */
export interface LogitTotals {
  tokens: number
  /** Sum of -log p(next token). */
  nll: number
}

export interface ComparisonTotals extends LogitTotals {
  /** Sum over predictions of KL(reference || candidate). */
  kl: number
  /** Predictions where both argmaxes agree. */
  agree: number
  /** The reference's own -log p(next token) sum. */
  referenceNll: number
}

/** log(sum(exp(logits[at .. at + vocab)))), computed stably. */
export function logSumExp(logits: Float32Array, at: number, vocab: number): number {
  let max = Number.NEGATIVE_INFINITY
  for (let v = 0; v < vocab; v++) {
    max = Math.max(max, logits[at + v] as number)
  }
  let sum = 0
  for (let v = 0; v < vocab; v++) {
    sum += Math.exp((logits[at + v] as number) - max)
  }
  return max + Math.log(sum)
}

function logSoftmax(logits: Float32Array, at: number, vocab: number, out: Float64Array): void {
  const lse = logSumExp(logits, at, vocab)
  for (let v = 0; v < vocab; v++) {
    out[v] = (logits[at + v] as number) - lse
  }
}

function argmax(a: Float64Array): number {
  let best = 0
  for (let v = 1; v < a.length; v++) {
    if ((a[v] as number) > (a[best] as number)) {
      best = v
    }
  }
  return best
}

/** Negative log-likelihood of each row's tokens under `logits`. */
export function nllTotals(logits: Float32Array, rows: number[][], seqLen: number, vocab: number): LogitTotals {
  const lp = new Float64Array(vocab)
  let nll = 0
  let tokens = 0
  rows.forEach((row, b) => {
    for (let t = 0; t + 1 < row.length; t++) {
      logSoftmax(logits, (b * seqLen + t) * vocab, vocab, lp)
      nll -= lp[row[t + 1] as number] as number
      tokens++
    }
  })
  return {tokens, nll}
}

/** NLL of the candidate, plus KL(reference || candidate) and top-1 agreement per prediction. */
export function compareTotals(candidate: Float32Array, reference: Float32Array, rows: number[][], seqLen: number, vocab: number): ComparisonTotals {
  const totals: ComparisonTotals = {tokens: 0, nll: 0, kl: 0, agree: 0, referenceNll: 0}
  for (const r of compareRows(candidate, reference, rows, seqLen, vocab)) {
    totals.tokens += r.tokens
    totals.nll += r.nll
    totals.kl += r.kl
    totals.agree += r.agree
    totals.referenceNll += r.referenceNll
  }
  return totals
}

/** compareTotals of each row on its own (the unit the bootstrap resamples). */
export function compareRows(candidate: Float32Array, reference: Float32Array, rows: number[][], seqLen: number, vocab: number): ComparisonTotals[] {
  const lc = new Float64Array(vocab)
  const lr = new Float64Array(vocab)
  return rows.map((row, b) => {
    const totals: ComparisonTotals = {tokens: 0, nll: 0, kl: 0, agree: 0, referenceNll: 0}
    for (let t = 0; t + 1 < row.length; t++) {
      const at = (b * seqLen + t) * vocab
      logSoftmax(candidate, at, vocab, lc)
      logSoftmax(reference, at, vocab, lr)
      const next = row[t + 1] as number
      totals.nll -= lc[next] as number
      totals.referenceNll -= lr[next] as number
      let kl = 0
      for (let v = 0; v < vocab; v++) {
        const r = lr[v] as number
        kl += Math.exp(r) * (r - (lc[v] as number))
      }
      totals.kl += kl
      totals.agree += argmax(lc) === argmax(lr) ? 1 : 0
      totals.tokens++
    }
    return totals
  })
}
