import {createHash} from 'node:crypto'
import {insertEvals, listEvals, type EvalRecord, type StoredEval} from '../store/evals.js'
import {openStore} from '../store/open-store.js'
import type {RowSums} from '../eval/bootstrap.js'
import {intervalsOf, type Measurement} from './expansion-search.js'
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
  /** What else the measurements depend on (see measurementOptions): candidates are reused only under equal options. */
  options?: string
}

/** The key of the options a measurement depends on besides the model and the data (window, token cap, batching, weight format). */
export function measurementOptions(o: {windowSize?: number; maxTokens?: number; batchSize?: number; quant?: string}): string {
  return JSON.stringify({window: o.windowSize ?? null, maxTokens: o.maxTokens ?? null, batchSize: o.batchSize ?? 4, quant: o.quant ?? 'auto'})
}

/** A measurement without its per-row sums (an α grid entry of a soft point: the point's own rows suffice). */
function withoutRows<T extends {rows?: unknown}>(m: T): Omit<T, 'rows'> {
  const copy = {...m}
  delete copy.rows
  return copy
}

const ciOf = (m: Pick<Measurement, 'klCi' | 'lossDeltaCi' | 'top1Ci'>): Pick<EvalRecord, 'klCi' | 'lossDeltaCi' | 'top1Ci'> => ({klCi: m.klCi ?? null, lossDeltaCi: m.lossDeltaCi ?? null, top1Ci: m.top1Ci ?? null})

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
    tokens: e.measurement.tokens ?? null,
    ...ciOf(e.measurement),
    // the per-row sums: a rerun reuses (or extends) the candidate, its intervals recomputed from them
    extra: {...base, kind: 'candidate', duplications: e.duplications, lossDelta: e.measurement.lossDelta, ...(e.measurement.rows ? {rows: e.measurement.rows} : {}), ...(e.alpha === undefined ? {} : {alpha: e.alpha}), ...(e.measurement.probe === undefined ? {} : {probe: e.measurement.probe})},
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
  const base = {model: params.model, data: params.data, options: params.options ?? null, curve: newCurveId(), complete: false}
  return insert(params.dbPath, params.candidates.map((e) => candidateRecord(params, base, e)))
}

export async function recordCurve(params: CurveContext & {report: CurveReport}): Promise<number> {
  const {report} = params
  const base = {model: params.model, data: params.data, options: params.options ?? null, tokens: report.tokens, curve: newCurveId()}
  // what `dlec curve --from-db` needs to redraw the table: the original's figures, the ties, racing
  const summary: StoredCurveSummary = {
    numLayers: report.numLayers,
    tokens: report.tokens,
    baseLoss: report.baseLoss,
    baseParams: report.baseParams,
    blockInfluence: report.blockInfluence,
    layersRun: report.layersRun,
    rowCount: report.rowCount,
    bootstrap: report.bootstrap,
    ties: report.ties,
    racing: report.racing,
    reused: report.reused,
  }
  const records: EvalRecord[] = [
    ...report.evaluations.map((e) => candidateRecord(params, base, e)),
    ...report.points.map((p, i) => ({
      runId: params.runId ?? null,
      strategy: p.strategy,
      layers: p.layers,
      addedLayers: addedOf(p.duplications),
      params: p.params,
      loss: p.measured ? p.loss : null,
      kl: p.kl,
      top1: p.top1,
      tokens: p.measured ? report.tokens : null,
      ...ciOf(p),
      extra: {...base, kind: 'point', added: p.added, duplications: p.duplications, lossDelta: p.lossDelta, measured: p.measured, order: i, ...(i === 0 ? {summary} : {}), ...(p.alpha === undefined ? {} : {alpha: p.alpha, alphaGrid: p.alphaGrid?.map(withoutRows)}), ...(p.probe === undefined ? {} : {probe: p.probe})},
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
      ...pointCi(hit),
    }
  } finally {
    db.close()
  }
}

export async function recordPlan(params: CurveContext & {strategy: StrategyName; layers: number[]; duplications: Duplication[]; paramsAfter: number; kl: number; loss?: number; lossDelta: number; top1: number; out?: string; yaml: string; alpha?: number; quality?: PlanQuality; holdout?: HoldoutFigure; tokens?: number; klCi?: [number, number]; lossDeltaCi?: [number, number]; top1Ci?: [number, number]}): Promise<void> {
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
      tokens: (q === undefined ? params.tokens : q.tokens) ?? null,
      ...ciOf(q ?? params),
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

function pointCi(r: StoredEval): Pick<CurvePoint, 'klCi' | 'lossDeltaCi' | 'top1Ci'> {
  return intervalsOf(r)
}

/** The curve-wide figures stored with a curve's first point. */
export type StoredCurveSummary = Omit<CurveReport, 'points' | 'evaluations' | 'blocks'>

/** A curve read back from the store (`dlec curve --from-db`): its points, candidates and figures. */
export type StoredCurve = CurveReport

const candidateOf = (r: StoredEval): EvaluatedCandidate => {
  const extra = r.extra ?? {}
  const duplications = extra.duplications as Duplication[]
  const rows = extra.rows as RowSums | undefined
  const measurement: Measurement = {
    kl: r.kl ?? Number.NaN,
    loss: r.loss ?? Number.NaN,
    lossDelta: Number(extra.lossDelta ?? 0),
    top1: r.top1 ?? Number.NaN,
    ...(r.tokens === null ? {} : {tokens: r.tokens}),
    ...pointCi(r),
    ...(rows === undefined ? {} : {rows}),
  }
  return {strategy: r.strategy as EvaluatedCandidate['strategy'], duplications, layers: r.layers, added: r.addedLayers.length, params: r.params ?? 0, measurement}
}

/** The newest complete curve of this model (and data, when given) in the store, if any. */
export async function loadStoredCurve(params: {dbPath: string; model: string; data?: string}): Promise<StoredCurve | undefined> {
  const db = await openStore({path: params.dbPath, readOnly: true})
  try {
    const rows = await listEvals(db)
    const mine = rows.filter((r) => r.extra?.model === params.model && (params.data === undefined || r.extra.data === params.data))
    const last = [...mine].reverse().find((r) => r.extra?.kind === 'point' && r.extra.summary !== undefined)
    if (last === undefined) {
      return undefined
    }
    const curve = last.extra?.curve
    const own = mine.filter((r) => r.extra?.curve === curve)
    const summary = last.extra?.summary as StoredCurveSummary
    const points: CurvePoint[] = own
      .filter((r) => r.extra?.kind === 'point')
      .sort((a, b) => Number(a.extra?.order ?? 0) - Number(b.extra?.order ?? 0))
      .map((r) => {
        const extra = r.extra ?? {}
        const measured = extra.measured === true
        return {
          strategy: r.strategy as StrategyName,
          added: Number(extra.added),
          duplications: extra.duplications as Duplication[],
          layers: r.layers,
          params: r.params ?? 0,
          measured,
          kl: r.kl ?? 0,
          loss: r.loss ?? summary.baseLoss,
          lossDelta: Number(extra.lossDelta ?? 0),
          top1: r.top1 ?? 1,
          ...pointCi(r),
        }
      })
    const evaluations = own.filter((r) => r.extra?.kind === 'candidate').map(candidateOf)
    const blocks = evaluations
      .filter((e) => e.duplications.length === 1)
      .map((e) => {
        const d = e.duplications[0] as Duplication
        return {start: d.start, end: d.end, kl: e.measurement.kl, lossDelta: e.measurement.lossDelta, top1: e.measurement.top1}
      })
    return {...summary, points, evaluations, blocks}
  } finally {
    db.close()
  }
}

/**
 * Candidates measured earlier on this model, data and options (complete curves and interrupted
 * ones), newest first wins, keyed by layer sequence: what a rerun reuses instead of re-measuring.
 * Only candidates stored with their per-row sums qualify.
 */
export async function loadReusable(params: {dbPath: string; model: string; data: string; options: string}): Promise<Map<string, Measurement>> {
  const found = new Map<string, Measurement>()
  const db = await openStore({path: params.dbPath, readOnly: true}).catch(() => undefined)
  if (db === undefined) {
    return found
  }
  try {
    const rows = await listEvals(db)
    for (const r of rows) {
      const extra = r.extra
      if (extra?.kind === 'candidate' && extra.model === params.model && extra.data === params.data && extra.options === params.options && extra.rows !== undefined) {
        const c = candidateOf(r)
        const key = c.layers.join(',')
        const known = found.get(key)
        // keep the one measured on the most rows (the newest of equals)
        if (known === undefined || (c.measurement.rows?.tokens.length ?? 0) >= (known.rows?.tokens.length ?? 0)) {
          found.set(key, c.measurement)
        }
      }
    }
  } finally {
    db.close()
  }
  return found
}
