import assert from 'node:assert/strict'
import {cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {dlec, ROOT, STORIES} from '../helpers/cli.js'
import {splitParagraphs} from '../../src/data/load-texts.js'
import {splitTexts} from '../../src/data/split-texts.js'
import {listEvals} from '../../src/store/evals.js'
import {openStore} from '../../src/store/open-store.js'

/**
 * The held-out re-check (--holdout, --holdout-split) and probes as an objective (--objective probe,
 * --max-kl) on stories260K, judged against `dlec eval` of the natively merged plan: the merged
 * folder read back from its own files, compared with the original (--base) on the same texts.
 */
const TMP = mkdtempSync(join(tmpdir(), 'dlec-holdout-'))
const ENV = {DLEC_CACHE_DIR: join(TMP, 'cache')}
const CALIBRATION = join(ROOT, 'fixtures', 'calibration', 'stories.txt')
const paragraphs = splitParagraphs(readFileSync(CALIBRATION, 'utf8'))
// selection: the first 12 stories; held out: the other ones
const SELECTION = join(TMP, 'selection.txt')
const HELDOUT = join(TMP, 'heldout.txt')
writeFileSync(SELECTION, paragraphs.slice(0, 12).join('\n\n'))
writeFileSync(HELDOUT, paragraphs.slice(12).join('\n\n'))

// Two items the 5-layer original gets one of, and the copy of layer 3 both (it has the highest probe
// score of the single copies, but not the lowest KL: 0.173 against 0.139 for layer 0 and 0.141 for
// layer 2, on the whole calibration file), plus two every candidate gets right.
const PROBE_ITEMS = [
  {question: 'Once upon a time, there', choices: ['and', 'was'], answer: 'was'},
  {question: 'She loved to play in', choices: ['playing', 'the'], answer: 'the'},
  {question: 'Her dad helped her mix', choices: ['came', 'everything'], answer: 'everything'},
  {question: 'Jack and his sister', choices: ['the', 'Anna'], answer: 'Anna'},
]
const PROBE = join(TMP, 'probe.jsonl')
writeFileSync(PROBE, PROBE_ITEMS.map((i) => JSON.stringify(i)).join('\n'))

type Interval = [number, number]
interface Figure {
  split: string
  kl: number
  klCi: Interval
  loss: number
  lossDelta: number
  lossDeltaCi: Interval
  top1: number
  top1Ci: Interval
  tokens: number
}
interface Probe {
  accuracy: number
  correct: number
  items: number
  ci: Interval
}
interface PlanJson {
  layers: number[]
  duplications: {start: number; end: number}[]
  kl: number
  holdout?: Figure
  quality: Figure
  probe?: {plan: Probe; base: Probe; maxKl?: number}
  flagged?: {label: string; kl: number; accuracy: number}[]
}
interface EvalJson {
  meanKl: number
  loss: number
  lossDelta: number
  top1Agreement: number
  tokens: number
  probe?: {candidate: {accuracy: number; items: number}}
}

async function json<T>(args: string[]): Promise<T> {
  const r = await dlec([...args, '--json', '--threads', '1'], {env: ENV})
  assert.equal(r.code, 0, r.stderr + r.stdout)
  return JSON.parse(r.stdout) as T
}

/** Expects a failure with one message line matching `pattern` and no stack trace. */
async function fails(args: string[], code: number, pattern: RegExp): Promise<void> {
  const r = await dlec([...args, '--threads', '1'], {env: ENV})
  assert.equal(r.code, code, `exit code for ${args.join(' ')}: ${r.stderr}`)
  assert.match(r.stderr.replace(/\s*\n\s*(›\s*)?/g, ' '), pattern)
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
}

/** `dlec merge` native of the plan YAML, then `dlec eval MERGED --base ORIGINAL`. */
async function evalMerged(yaml: string, data: string, extra: string[] = []): Promise<EvalJson> {
  const merged = join(TMP, `merged-${Math.random().toString(36).slice(2)}`)
  const m = await dlec(['merge', yaml, merged, '--engine', 'native'], {env: ENV})
  assert.equal(m.code, 0, m.stderr)
  return json<EvalJson>(['eval', merged, '--base', STORIES, '--data', data, ...extra])
}

function assertFigureIs(figure: Figure, reference: EvalJson): void {
  assert.equal(figure.tokens, reference.tokens)
  assert.ok(Math.abs(figure.kl - reference.meanKl) < 1e-5, `KL ${figure.kl} vs ${reference.meanKl}`)
  assert.ok(Math.abs(figure.loss - reference.loss) < 1e-5, `loss ${figure.loss} vs ${reference.loss}`)
  assert.ok(Math.abs(figure.lossDelta - reference.lossDelta) < 1e-5, `Δloss ${figure.lossDelta} vs ${reference.lossDelta}`)
  assert.ok(Math.abs(figure.top1 - reference.top1Agreement) < 1e-5, `top-1 ${figure.top1} vs ${reference.top1Agreement}`)
  for (const [value, [lo, hi]] of [[figure.kl, figure.klCi], [figure.lossDelta, figure.lossDeltaCi], [figure.top1, figure.top1Ci]] as const) {
    assert.ok(lo <= value && value <= hi && lo < hi, `${value} in [${lo}, ${hi}]`)
  }
}

describe('held-out re-check and probes as an objective', () => {
  it('plan --holdout FILE: the plan\'s quality is its held-out figure, equal to dlec eval of the merged plan on the held-out data', async () => {
    const yaml = join(TMP, 'holdout.yaml')
    const db = join(TMP, 'holdout.duckdb')
    const plan = await json<PlanJson>(['plan', STORIES, '--add-layers', '2', '--candidates', 'all', '--data', SELECTION, '--holdout', HELDOUT, '--out', yaml, '--db', db])
    assert.ok(plan.holdout)
    assert.equal(plan.quality.split, 'holdout')
    assert.equal(plan.quality.kl, plan.holdout.kl)
    assert.notEqual(plan.holdout.kl, plan.kl, 'the held-out figure is not the selection one')
    assertFigureIs(plan.holdout, await evalMerged(yaml, HELDOUT))
    // chosen on the selection part: dlec eval of the merged plan there gives the selection figure
    const onSelection = await evalMerged(yaml, SELECTION)
    assert.ok(Math.abs(onSelection.meanKl - plan.kl) < 1e-5)

    const store = await openStore({path: db, readOnly: true})
    const rows = await listEvals(store).finally(() => store.close())
    const row = rows.find((r) => r.extra?.kind === 'plan')
    assert.equal(row?.extra?.split, 'holdout')
    assert.equal(row?.kl, plan.holdout.kl)
    assert.deepEqual(row?.klCi, plan.holdout.klCi)
    assert.equal(row?.tokens, plan.holdout.tokens)
    assert.equal((row?.extra?.selection as {kl: number}).kl, plan.kl)
  })

  it('curve --holdout-split: a seeded split by text; each point re-measured on the held-out part as dlec eval measures it', async () => {
    const db = join(TMP, 'split.duckdb')
    const args = ['curve', STORIES, '--max-add', '1', '--strategy', 'greedy', '--candidates', 'all', '--data', CALIBRATION, '--holdout-split', '0.4', '--seed', '7', '--db', db]
    const curve = await json<{points: {layers: number[]; holdout?: Figure}[]; holdout: {texts: number; source: string}}>(args)
    const again = await json<typeof curve>(args)
    assert.deepEqual(again.points, curve.points, 'the same seed, the same split and figures')
    const parts = splitTexts(paragraphs, 0.4, 7)
    assert.equal(curve.holdout.texts, parts.holdout.length)
    assert.equal(parts.holdout.length + parts.selection.length, paragraphs.length)
    const heldFile = join(TMP, 'split-heldout.txt')
    writeFileSync(heldFile, parts.holdout.join('\n\n'))
    const point = curve.points[0]
    assert.ok(point?.holdout)
    assertFigureIs(point.holdout, await json<EvalJson>(['eval', STORIES, '--layers', point.layers.join(','), '--data', heldFile]))
    const store = await openStore({path: db, readOnly: true})
    const rows = await listEvals(store).finally(() => store.close())
    assert.equal(rows.filter((r) => r.extra?.kind === 'holdout' && r.extra.split === 'holdout').length, 2)
  })

  it('expand --holdout-split: the card reports the held-out figure', async () => {
    const out = join(TMP, 'expanded')
    const r = await json<{plan: PlanJson}>(['expand', STORIES, '--add-layers', '1', '--candidates', 'all', '--data', CALIBRATION, '--holdout-split', '0.3', '--out', out, '--db', join(TMP, 'expand.duckdb')])
    assert.equal(r.plan.quality.split, 'holdout')
    const card = readFileSync(join(out, 'README.md'), 'utf8')
    assert.match(card, /held-out figures/)
    assert.ok(card.includes(`| ${(r.plan.holdout as Figure).kl.toExponential(4)} |`), 'the card shows the held-out KL')
  })

  it('--objective probe: the plan\'s probe accuracy is dlec eval --probe of the merged plan; --max-kl excluding the best-probe candidate changes the pick and flags it', async () => {
    const common = ['--add-layers', '1', '--candidates', 'all', '--data', CALIBRATION, '--probe', PROBE, '--objective', 'probe', '--db', join(TMP, 'probe.duckdb')]
    const yaml = join(TMP, 'probe.yaml')
    const best = await json<PlanJson>(['plan', STORIES, ...common, '--out', yaml])
    assert.deepEqual(best.duplications, [{start: 3, end: 4}])
    assert.equal(best.probe?.plan.items, 4)
    assert.equal(best.probe?.plan.correct, 4)
    assert.equal(best.probe?.base.correct, 3)
    const [lo, hi] = best.probe?.plan.ci ?? [0, 0]
    assert.ok(lo < 0.6 && hi === 1, `Wilson interval of 4/4: [${lo}, ${hi}]`)
    const merged = await evalMerged(yaml, CALIBRATION, ['--probe', PROBE])
    assert.equal(merged.probe?.candidate.accuracy, best.probe?.plan.accuracy)
    assert.ok(Math.abs(merged.meanKl - best.kl) < 1e-5)

    const guarded = await json<PlanJson>(['plan', STORIES, ...common, '--max-kl', String((best.kl - 0.01).toFixed(3)), '--out', join(TMP, 'guarded.yaml')])
    assert.notDeepEqual(guarded.duplications, best.duplications)
    assert.ok(guarded.kl < best.kl - 0.01)
    assert.deepEqual(
      guarded.flagged?.map((f) => f.label),
      ['3'],
      'the copy of layer 3 beats the original on the probe while over the guard',
    )
    const text = await dlec(['plan', STORIES, ...common, '--max-kl', String((best.kl - 0.01).toFixed(3)), '--out', join(TMP, 'guarded.yaml'), '--threads', '1'], {env: ENV})
    assert.equal(text.code, 0, text.stderr)
    assert.equal(text.stdout.split('\n').filter((l) => l.startsWith('flagged')).length, 1)

    const curve = await json<{points: {probe?: Probe}[]}>(['curve', STORIES, '--max-add', '1', '--strategy', 'greedy', '--candidates', 'all', '--data', CALIBRATION, '--probe', PROBE, '--objective', 'probe', '--db', join(TMP, 'probe.duckdb'), '--probe-plot', join(TMP, 'probe.svg')])
    assert.equal(curve.points[0]?.probe?.accuracy, merged.probe?.candidate.accuracy)
    assert.match(readFileSync(join(TMP, 'probe.svg'), 'utf8'), /--max-kl|probe accuracy/)
  })

  it('bad input: one-line errors', async () => {
    await fails(['plan', STORIES, '--add-layers', '1', '--data', CALIBRATION, '--objective', 'probe', '--out', join(TMP, 'x.yaml')], 2, /--objective probe needs --probe FILE/)
    const bad = join(TMP, 'bad-probe.jsonl')
    writeFileSync(bad, '{"question": "q", "choices": ["a"], "answer": 0}\n')
    await fails(['curve', STORIES, '--max-add', '1', '--data', CALIBRATION, '--probe', bad], 10, /bad-probe\.jsonl:1: needs "question" \(string\) and "choices" \(2 or more strings\)/)
    await fails(['plan', STORIES, '--add-layers', '1', '--data', CALIBRATION, '--holdout-split', '0.99', '--out', join(TMP, 'x.yaml')], 2, /--holdout-split 0\.99 of 20 text\(s\) leaves the selection part empty/)
    await fails(['plan', STORIES, '--add-layers', '1', '--data', CALIBRATION, '--holdout-split', 'half', '--out', join(TMP, 'x.yaml')], 2, /--holdout-split must be a fraction strictly between 0 and 1/)
    await fails(['plan', STORIES, '--add-layers', '1', '--data', CALIBRATION, '--max-kl', '-1', '--out', join(TMP, 'x.yaml')], 2, /--max-kl -1: expected a non-negative number/)
    await fails(['curve', STORIES, '--max-add', '1', '--data', CALIBRATION, '--probe-plot', join(TMP, 'p.svg')], 2, /--probe-plot draws probe accuracy: give --probe FILE/)
    // a tokenizer without BOS: one-token texts predict nothing, so a held-out part of them is refused
    const noBos = join(TMP, 'no-bos')
    cpSync(STORIES, noBos, {recursive: true})
    const tokenizer = JSON.parse(readFileSync(join(noBos, 'tokenizer.json'), 'utf8')) as {post_processor: unknown}
    tokenizer.post_processor = null
    writeFileSync(join(noBos, 'tokenizer.json'), JSON.stringify(tokenizer))
    const tiny = join(TMP, 'tiny.txt')
    writeFileSync(tiny, 'a\n\nb\n')
    await fails(['plan', noBos, '--add-layers', '1', '--data', CALIBRATION, '--holdout', tiny, '--out', join(TMP, 'x.yaml')], 10, /--holdout .*tiny\.txt: the held-out part has no text of 2 or more tokens \(2 texts\)/)
    assert.ok(!existsSync(join(TMP, 'x.yaml')), 'nothing written')
  })
})
