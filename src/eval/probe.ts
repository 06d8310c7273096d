import {readFile} from 'node:fs/promises'
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
  /** Share of items whose highest total log-likelihood choice is the answer (lm-eval `acc`). */
  accuracy: number
  /** The same with log-likelihood per character of the choice (lm-eval `acc_norm`). */
  accuracyNorm: number
}

/**
 * Reads a probe file: JSONL, one `{"question", "choices": [...], "answer"}` per line; `answer` is
 * the choice's index, its text, or its letter (A, B, ...).
 */
export async function readProbeItems(file: string): Promise<ProbeItem[]> {
  let raw: string
  try {
    raw = await readFile(file, 'utf8')
  } catch (error) {
    throw new DataError(`${file}: cannot read probe file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
  }
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
  return {items: items.length, accuracy: correct / items.length, accuracyNorm: correctNorm / items.length}
}

function argmax(a: number[]): number {
  return a.reduce((best, x, i) => (x > (a[best] as number) ? i : best), 0)
}
