import {createHash} from 'node:crypto'
import {insertEvals, listEvals, type EvalRecord} from '../store/evals.js'
import {openStore} from '../store/open-store.js'
import type {CurvePoint, CurveReport, EvaluatedCandidate} from './expansion-curve.js'
import type {Duplication} from './layer-plan.js'
import type {StrategyName} from './strategies.js'
import type {HoldoutFigure} from './holdout-check.js'
import type {PlanQuality} from './plan-expansion.js'

/**
 * The curve and plans in the DuckDB `evals` table. Every measured candidate is one row
 * (extra.kind = `candidate`), every curve point one more (extra.kind = `point`, what `dlec plan
 * --from-db` reads back), every written plan one (extra.kind = `plan`). extra also keeps the model,
 * a hash of the evaluation tokens' source text, the blocks, the loss change and the token count,
 * and for soft copies the α their output projections are scaled by (extra.alpha; a point also keeps
 * its measured α grid, extra.alphaGrid), and a candidate's probe score (extra.probe) when probe
 * items were given.
 *
 * Held-out re-checks: each curve point re-measured on held-out texts is one more row (extra.kind =
 * `holdout`, extra.split = `holdout`, extra.added and extra.source say which point and which data),
 * its intervals in the kl_lo ... top1_hi columns. A plan row carries the plan's quality figure:
 * extra.split = `holdout` when that is the held-out one (the selection figure then in
 * extra.selection), else `selection`.
 */
export interface CurveContext {
  dbPath: string
  /** The model's canonical identity (LoadedModel.identity: `hub:org/name@commit`, or the folder's real path). */
  model: string
  /** Hash of the evaluation texts (see dataHash). */
  data: string
  runId?: number
}

export function dataHash(texts: readonly string[]): string {
  const h = createHash('sha256')
  for (const t of texts) {
    h.update(`${t.length}:`).update(t)
  }
  return h.digest('hex').slice(0, 16)
}

const addedOf = (d: readonly Duplication[]): number[] => d.flatMap((b) => Array.from({length: b.end - b.start}, (_, k) => b.start + k))

const newCurveId = (): string => `${Date.now().toString(36)}-${process.pid}`

function candidateRecord(params: CurveContext, base: Record<string, unknown>, e: EvaluatedCandidate): EvalRecord {
  return {
    runId: params.runId ?? null,
    strategy: e.strategy,
    layers: e.layers,
    addedLayers: addedOf(e.duplications),
    params: e.params,
    loss: e.measurement.loss,
    kl: e.measurement.kl,
    top1: e.measurement.top1,
    extra: {...base, kind: 'candidate', duplications: e.duplications, lossDelta: e.measurement.lossDelta, ...(e.alpha === undefined ? {} : {alpha: e.alpha}), ...(e.measurement.probe === undefined ? {} : {probe: e.measurement.probe})},
  }
}

async function insert(dbPath: string, records: EvalRecord[]): Promise<number> {
  const db = await openStore({path: dbPath})
  try {
    await insertEvals(db, records)
  } finally {
    db.close()
  }
  return records.length
}

/** Candidates of a curve that did not finish (a signal): kept as `candidate` rows of a curve with no points. */
export async function recordCandidates(params: CurveContext & {candidates: readonly EvaluatedCandidate[]}): Promise<number> {
  if (params.candidates.length === 0) {
    return 0
  }
  const base = {model: params.model, data: params.data, curve: newCurveId(), complete: false}
  return insert(params.dbPath, params.candidates.map((e) => candidateRecord(params, base, e)))
}

export async function recordCurve(params: CurveContext & {report: CurveReport}): Promise<number> {
  const {report} = params
  const base = {model: params.model, data: params.data, tokens: report.tokens, curve: newCurveId()}
  const records: EvalRecord[] = [
    ...report.evaluations.map((e) => candidateRecord(params, base, e)),
    ...report.points.map((p) => ({
      runId: params.runId ?? null,
      strategy: p.strategy,
      layers: p.layers,
      addedLayers: addedOf(p.duplications),
      params: p.params,
      loss: p.measured ? p.loss : null,
      kl: p.kl,
      top1: p.top1,
      extra: {...base, kind: 'point', added: p.added, duplications: p.duplications, lossDelta: p.lossDelta, measured: p.measured, ...(p.alpha === undefined ? {} : {alpha: p.alpha, alphaGrid: p.alphaGrid}), ...(p.probe === undefined ? {} : {probe: p.probe})},
    })),
    ...report.points.flatMap((p) => (p.holdout === undefined ? [] : [holdoutRecord(params, base, p, p.holdout)])),
  ]
  return insert(params.dbPath, records)
}

function holdoutRecord(params: CurveContext, base: Record<string, unknown>, p: CurvePoint, h: HoldoutFigure): EvalRecord {
  return {
    runId: params.runId ?? null,
    strategy: p.strategy,
    layers: p.layers,
    addedLayers: addedOf(p.duplications),
    params: p.params,
    loss: h.loss,
    kl: h.kl,
    top1: h.top1,
    tokens: h.tokens,
    klCi: h.klCi,
    lossDeltaCi: h.lossDeltaCi,
    top1Ci: h.top1Ci,
    extra: {...base, kind: 'holdout', split: 'holdout', source: h.source, added: p.added, duplications: p.duplications, lossDelta: h.lossDelta, tokens: h.tokens, texts: h.texts, rows: h.rows},
  }
}

/** The newest stored curve point of this model, strategy and size (and data, when given), if any. */
export async function findCurvePoint(params: Omit<CurveContext, 'data'> & {data?: string; strategy: StrategyName; added: number}): Promise<CurvePoint | undefined> {
  const db = await openStore({path: params.dbPath, readOnly: true})
  try {
    const rows = await listEvals(db, {strategy: params.strategy})
    const hit = rows
      .reverse()
      .find((r) => r.extra?.kind === 'point' && r.extra.model === params.model && (params.data === undefined || r.extra.data === params.data) && r.extra.added === params.added)
    if (!hit || !hit.extra) {
      return undefined
    }
    return {
      strategy: params.strategy,
      added: params.added,
      duplications: hit.extra.duplications as Duplication[],
      layers: hit.layers,
      params: hit.params ?? 0,
      measured: hit.extra.measured === true,
      kl: hit.kl ?? 0,
      loss: hit.loss ?? Number.NaN,
      lossDelta: Number(hit.extra.lossDelta ?? 0),
      top1: hit.top1 ?? 1,
      ...(typeof hit.extra.alpha === 'number' ? {alpha: hit.extra.alpha} : {}),
    }
  } finally {
    db.close()
  }
}

export async function recordPlan(params: CurveContext & {strategy: StrategyName; layers: number[]; duplications: Duplication[]; paramsAfter: number; kl: number; loss?: number; lossDelta: number; top1: number; out?: string; yaml: string; alpha?: number; quality?: PlanQuality; holdout?: HoldoutFigure}): Promise<void> {
  const q = params.quality
  const held = q?.split === 'holdout' ? params.holdout : undefined
  await insert(params.dbPath, [
    {
      runId: params.runId ?? null,
      strategy: params.strategy,
      layers: params.layers,
      addedLayers: addedOf(params.duplications),
      params: params.paramsAfter,
      loss: (q ?? params).loss ?? null,
      kl: (q ?? params).kl,
      top1: (q ?? params).top1,
      tokens: q?.tokens ?? null,
      klCi: q?.klCi ?? null,
      lossDeltaCi: q?.lossDeltaCi ?? null,
      top1Ci: q?.top1Ci ?? null,
      extra: {
        kind: 'plan',
        split: q?.split ?? 'selection',
        model: params.model,
        data: params.data,
        duplications: params.duplications,
        lossDelta: (q ?? params).lossDelta,
        ...(held === undefined ? {} : {source: held.source, selection: {kl: params.kl, loss: params.loss ?? null, lossDelta: params.lossDelta, top1: params.top1}}),
        out: params.out ?? null,
        yaml: params.yaml,
        ...(params.alpha === undefined ? {} : {alpha: params.alpha}),
      },
    },
  ])
}
