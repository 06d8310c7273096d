import {decodeUtf8, readInputFile} from '../util/read-input-file.js'
import {DataError} from '../errors.js'
import type {Decoder} from '../onnx/open-decoder.js'
import type {BranchScale} from '../onnx/decoder-graph.js'
import type {TextTokenizer} from '../tokenizer/load-tokenizer.js'
import {logSumExp} from './logit-stats.js'

/** A multiple-choice item: the answer is an index into `choices`. */
export interface ProbeItem {
  question: string
  choices: string[]
  answer: number
}

export interface ProbeResult {
  items: number
  /** Items whose highest total log-likelihood choice is the answer. */
  correct?: number
  /** Share of items whose highest total log-likelihood choice is the answer (lm-eval `acc`). */
  accuracy: number
  /** The same with log-likelihood per character of the choice (lm-eval `acc_norm`). */
  accuracyNorm: number
}

/**
 * Reads a probe file: JSONL, one `{"question", "choices": [...], "answer"}` per line; `answer` is
 * the choice's index, its text, or its letter (A, B, ...).
 */
/** The largest probe file read (benchmark item files are a few MB). */
const MAX_PROBE_BYTES = 512 * 1024 * 1024

export async function readProbeItems(file: string): Promise<ProbeItem[]> {
  const fail = (why: string): never => {
    throw new DataError(`${file}: cannot read probe file (${why})`)
  }
  const raw = decodeUtf8(await readInputFile(file, {maxBytes: MAX_PROBE_BYTES, fail}), fail)
  const items: ProbeItem[] = []
  for (const [i, line] of raw.split('\n').entries()) {
    if (line.trim().length === 0) {
      continue
    }
    const at = `${file}:${i + 1}`
    let row: Record<string, unknown>
    try {
      row = JSON.parse(line) as Record<string, unknown>
    } catch {
      throw new DataError(`${at}: not valid JSON`)
    }
    const {question, choices, answer} = row
    if (typeof question !== 'string' || !Array.isArray(choices) || choices.length < 2 || !choices.every((c) => typeof c === 'string')) {
      throw new DataError(`${at}: needs "question" (string) and "choices" (2 or more strings)`)
    }
    const list = choices as string[]
    const index =
      typeof answer === 'number' ? answer : typeof answer === 'string' ? (list.includes(answer) ? list.indexOf(answer) : /^[A-Z]$/.test(answer) ? answer.charCodeAt(0) - 65 : -1) : -1
    if (!Number.isInteger(index) || index < 0 || index >= list.length) {
      throw new DataError(`${at}: "answer" must be a choice index, a choice's text or its letter`)
    }
    items.push({question, choices: list, answer: index})
  }
  if (items.length === 0) {
    throw new DataError(`${file}: the probe file has no items`)
  }
  return items
}

/**
 * Scores each choice by the log-likelihood of its tokens after the question (context + " " +
 * choice, tokenized together; the choice's tokens are those past the context's own tokens), as
 * lm-eval scores ARC / HellaSwag.
 */
export async function probeAccuracy(params: {
  decoder: Decoder
  tokenizer: TextTokenizer
  items: ProbeItem[]
  layers: number[]
  scales?: (BranchScale | undefined)[]
  batchSize: number
}): Promise<ProbeResult> {
  const {decoder, tokenizer, items, layers} = params
  const V = decoder.spec.vocab
  const rows: {ids: number[]; from: number}[] = []
  for (const item of items) {
    const context = tokenizer.encode(item.question)
    for (const choice of item.choices) {
      const sep = /\s$/.test(item.question) ? '' : ' '
      const ids = tokenizer.encode(item.question + sep + choice).slice(0, decoder.spec.maxPositions)
      rows.push({ids, from: Math.min(context.length, ids.length - 1)})
    }
  }
  const scores: number[] = []
  for (let at = 0; at < rows.length; at += params.batchSize) {
    const batch = rows.slice(at, at + params.batchSize)
    const r = await decoder.run({inputIds: batch.map((b) => b.ids), layers, scales: params.scales, outputs: {logits: 'all'}})
    const logits = r.outputs.logits?.data as Float32Array
    batch.forEach((row, b) => {
      let ll = 0
      for (let t = row.from; t < row.ids.length; t++) {
        const base = (b * r.seqLen + t - 1) * V
        ll += (logits[base + (row.ids[t] as number)] as number) - logSumExp(logits, base, V)
      }
      scores.push(ll)
    })
  }
  let correct = 0
  let correctNorm = 0
  let k = 0
  for (const item of items) {
    const s = item.choices.map(() => scores[k++] as number)
    const norm = s.map((x, j) => x / Math.max(1, (item.choices[j] as string).length))
    correct += argmax(s) === item.answer ? 1 : 0
    correctNorm += argmax(norm) === item.answer ? 1 : 0
  }
  return {items: items.length, correct, accuracy: correct / items.length, accuracyNorm: correctNorm / items.length}
}

/** A probe score as the curve objective uses it: accuracy with its 95% Wilson interval. */
export interface ProbeScore {
  /** Share of items whose highest log-likelihood choice is the answer. */
  accuracy: number
  correct: number
  items: number
  /** 95% Wilson interval of the accuracy. */
  ci: [number, number]
}

export function probeScoreOf(correct: number, items: number): ProbeScore {
  return {accuracy: correct / items, correct, items, ci: wilsonInterval(correct, items)}
}

/** The Wilson score interval of a proportion (95% by default): sound at 0 / n and n / n, unlike the normal one. */
export function wilsonInterval(successes: number, n: number, z = 1.959963984540054): [number, number] {
  if (n === 0) {
    return [0, 1]
  }
  const p = successes / n
  const z2 = z * z
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n)
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))
  // exact at the edges (rounding would otherwise leave 1 - ε above n / n)
  return [successes === 0 ? 0 : Math.max(0, centre - half), successes === n ? 1 : Math.min(1, centre + half)]
}

/** Newcombe's interval (method 10, from the two Wilson intervals) of the difference of two proportions a - b. */
export function proportionDifferenceInterval(a: {successes: number; n: number}, b: {successes: number; n: number}): [number, number] {
  const pa = a.successes / a.n
  const pb = b.successes / b.n
  const [la, ua] = wilsonInterval(a.successes, a.n)
  const [lb, ub] = wilsonInterval(b.successes, b.n)
  const d = pa - pb
  return [d - Math.sqrt((pa - la) ** 2 + (ub - pb) ** 2), d + Math.sqrt((ua - pa) ** 2 + (pb - lb) ** 2)]
}

function argmax(a: number[]): number {
  return a.reduce((best, x, i) => (x > (a[best] as number) ? i : best), 0)
}
