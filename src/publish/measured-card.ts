import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {dump} from 'js-yaml'
import type {PlanReport} from '../curve/plan-expansion.js'
import {formatDuplications, formatLayerSequence} from '../curve/layer-plan.js'
import {fmt} from '../curve/target-size.js'

/** The template of the card `dlec expand` writes. */
export const MEASURED_CARD_TEMPLATE = fileURLToPath(new URL('../../templates/measured-card.md', import.meta.url))

export const CARD_TAGS = ['mergekit', 'merge', 'dlec', 'layer-duplication']

export interface MeasuredCardParams {
  /** Card title and model-index name (the repo name or output folder). */
  name: string
  plan: Pick<PlanReport, 'strategy' | 'duplications' | 'layers' | 'identityCopies' | 'paramsBefore' | 'paramsAfter' | 'kl' | 'lossDelta' | 'top1' | 'tokens' | 'yaml' | 'source' | 'curve' | 'holdout'> & {
    model: string
  }
  /** The base model's Hub id; absent for a local folder (never written as base_model). */
  baseModel?: string
  /** The license the base model's card states. */
  license?: string
  /** The merged folder measured on the data (dlec expand's check). */
  check?: {loss: number; perplexity: number; tokens: number; planLossError?: number}
  /** The evaluation data: its file name and content hash. */
  data?: {name: string; hash: string}
  /** How candidates were searched (shown and used in the reproduce line). */
  search?: {candidates?: string; blockSizes?: number[]; objective?: string}
  engine: 'native' | 'mergekit'
  /** Images committed beside the card, by repo path. */
  images?: Array<{path: string; alt: string}>
  template?: string
}

/**
 * README.md for an expanded model that carries its measurements: front matter (`base_model` when
 * the base is a Hub id, `library_name`, tags, the base's license, `pipeline_tag`, and a
 * `model-index` with perplexity, mean KL against the base, Δloss and top-1 agreement on the named
 * data with its hash), then how the layers were chosen (strategy, candidates, the curve table),
 * the images, the layer map, parameter counts, the merge YAML and the dlec command that
 * reproduces it. Identity copies are labelled as needing fine-tuning. Pure apart from reading the
 * template.
 */
export function renderMeasuredCard(params: MeasuredCardParams): string {
  const template = params.template ?? readFileSync(MEASURED_CARD_TEMPLATE, 'utf8')
  const {plan, data} = params
  const before = plan.layers.length - plan.duplications.reduce((a, d) => a + (d.end - d.start), 0)
  const metrics = data === undefined ? undefined : metricList(params)
  const front: Record<string, unknown> = {
    ...(params.baseModel === undefined ? {} : {base_model: [params.baseModel]}),
    library_name: 'transformers',
    ...(params.license === undefined ? {} : {license: params.license}),
    pipeline_tag: 'text-generation',
    tags: CARD_TAGS,
    ...(metrics === undefined
      ? {}
      : {
          'model-index': [
            {
              name: params.name,
              results: [
                {
                  task: {type: 'text-generation', name: 'Text Generation'},
                  dataset: {name: data?.name, type: 'text', revision: data?.hash},
                  metrics,
                  source: {name: 'dlec (measured against the base model on the same tokens)', url: 'https://www.npmjs.com/package/dlec'},
                },
              ],
            },
          ],
        }),
  }
  const metadata = dump(front, {noRefs: true, lineWidth: -1}).trimEnd()
  const values: Record<string, string> = {
    metadata,
    name: params.name,
    baseText: params.baseModel === undefined ? `a copy of the local model \`${localName(plan.model)}\`` : `[${params.baseModel}](https://huggingface.co/${params.baseModel})`,
    layersBefore: String(before),
    layersAfter: String(plan.layers.length),
    engine: params.engine,
    identityNote: plan.identityCopies
      ? `\n> **Needs fine-tuning.** The ${plan.layers.length - before} added layers are identity copies (LLaMA-Pro style: their attention and MLP output projections are scaled to 0), so this model computes exactly what the base model does. They are a starting point for training the new layers, not an improvement by themselves.\n`
      : '',
    resultsText: resultsText(params),
    choiceText: choiceText(params),
    curveTable: curveTable(params),
    images: (params.images ?? []).map((i) => `![${i.alt}](${i.path})`).join('\n\n'),
    paramsBefore: fmt(plan.paramsBefore),
    paramsAfter: fmt(plan.paramsAfter),
    growth: `+${((100 * (plan.paramsAfter - plan.paramsBefore)) / plan.paramsBefore).toFixed(1)}%`,
    layerTable: layerTable(plan.layers, plan.identityCopies),
    // A local base is named by its folder name, never by its path on this machine.
    yaml: (params.baseModel === undefined ? plan.yaml.split(plan.model).join(`./${localName(plan.model)}`) : plan.yaml).replace(/\n$/, ''),
    reproduce: reproduceLine(params),
  }
  return template.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole)
}

/** The plan's figures the card reports: the held-out re-check when there is one (dlec expand --holdout), else the selection data's. */
function qualityOf(plan: MeasuredCardParams['plan']): {kl: number; lossDelta: number; top1: number} {
  return plan.holdout ?? plan
}

function metricList(params: MeasuredCardParams): Array<Record<string, unknown>> {
  const {check} = params
  const plan = qualityOf(params.plan)
  return [
    ...(check === undefined ? [] : [{type: 'perplexity', value: round(check.perplexity), name: 'Perplexity'}]),
    {type: 'kl_divergence', value: round(plan.kl), name: 'Mean KL(base || expanded) per token'},
    {type: 'loss_delta', value: round(plan.lossDelta), name: 'Loss change vs base (nats per token)'},
    {type: 'top1_agreement', value: round(plan.top1), name: 'Top-1 agreement with base'},
  ]
}

function resultsText(params: MeasuredCardParams): string {
  const {check, data} = params
  const plan = {...params.plan, ...(params.plan.holdout === undefined ? {} : {kl: params.plan.holdout.kl, lossDelta: params.plan.holdout.lossDelta, top1: params.plan.holdout.top1})}
  if (data === undefined) {
    return plan.identityCopies
      ? 'No evaluation data was given: identity copies leave the outputs unchanged by construction (mean KL 0, top-1 agreement 100%).'
      : 'No evaluation data was given.'
  }
  const rows = [
    '| metric | value |',
    '|---|---|',
    ...(check === undefined ? [] : [`| perplexity of this model | ${check.perplexity.toFixed(4)} |`]),
    ...(plan.curve === undefined ? [] : [`| perplexity of the base model | ${Math.exp(plan.curve.baseLoss).toFixed(4)} |`]),
    `| mean KL(base ‖ expanded) per token | ${plan.kl.toExponential(4)} |`,
    `| Δloss (nats per token) | ${plan.lossDelta >= 0 ? '+' : ''}${plan.lossDelta.toFixed(6)} |`,
    `| top-1 agreement with the base | ${(100 * plan.top1).toFixed(2)}% |`,
  ]
  const held = params.plan.holdout
  const tokens = held?.tokens ?? check?.tokens ?? plan.tokens
  const heldText =
    held === undefined
      ? ''
      : ` These are held-out figures (${held.source.replace(/^--holdout(-split)? /, '')}): the layers were chosen on other texts, then re-measured on these ${held.texts}; 95% bootstrap intervals: mean KL [${held.klCi[0].toExponential(3)}, ${held.klCi[1].toExponential(3)}], Δloss [${held.lossDeltaCi[0].toFixed(5)}, ${held.lossDeltaCi[1].toFixed(5)}], top-1 [${(100 * held.top1Ci[0]).toFixed(2)}%, ${(100 * held.top1Ci[1]).toFixed(2)}%].`
  const how =
    plan.source === 'construction'
      ? 'KL, Δloss and top-1 are exact by construction (identity copies).'
      : 'KL, Δloss and top-1 compare the expanded model with the base model token by token on the same windows, computed before merging with a zero-copy ONNX graph of the planned layer sequence.'
  const checked =
    check?.planLossError === undefined ? '' : ` The merged folder was evaluated again after the merge: its loss differs from the planned one by ${check.planLossError.toExponential(1)}.`
  return `On \`${data.name}\` (sha256 prefix \`${data.hash}\`${tokens === undefined ? '' : `, ${tokens} tokens`}):\n\n${rows.join('\n')}\n\n${how}${heldText}${checked}`
}

function choiceText(params: MeasuredCardParams): string {
  const {plan, search} = params
  const lines = [
    `- strategy: \`${plan.strategy}\`${plan.source === 'store' ? ' (a curve point stored by `dlec curve`)' : ''}`,
    ...(search?.candidates === undefined ? [] : [`- candidates: \`${search.candidates}\``]),
    ...(search?.blockSizes === undefined ? [] : [`- block sizes: ${search.blockSizes.join(', ')}`]),
    ...(search?.objective === undefined || plan.strategy === 'identity' ? [] : [`- objective: ${search.objective}`]),
    `- duplicated: ${formatDuplications(plan.duplications)}`,
    `- layer sequence: ${formatLayerSequence(plan.layers)}`,
  ]
  return lines.join('\n')
}

function curveTable(params: MeasuredCardParams): string {
  const curve = params.plan.curve
  if (curve === undefined) {
    return ''
  }
  const points = curve.points.filter((p) => p.strategy === params.plan.strategy).sort((a, b) => a.added - b.added)
  const rows = points.map(
    (p) => `| ${p.added} | ${fmt(p.params)} | ${p.kl.toExponential(3)} | ${p.lossDelta >= 0 ? '+' : ''}${p.lossDelta.toFixed(5)} | ${(100 * p.top1).toFixed(2)}% | ${formatDuplications(p.duplications)} |`,
  )
  return [
    'The expansion curve: the measured quality as layers are added one at a time (the last row is this model).',
    '',
    '| added layers | parameters | mean KL | Δloss | top-1 | duplicated |',
    '|---|---|---|---|---|---|',
    `| 0 | ${fmt(curve.baseParams)} | 0 | 0 | 100.00% | (base) |`,
    ...rows,
  ].join('\n')
}

function layerTable(layers: readonly number[], identity: boolean): string {
  const seen = new Set<number>()
  const rows = layers.map((source, i) => {
    const copy = seen.has(source)
    seen.add(source)
    return `| ${i} | ${source} | ${copy ? (identity ? 'identity copy (needs fine-tuning)' : 'copy') : 'original'} |`
  })
  return ['| layer | from base layer | kind |', '|---|---|---|', ...rows].join('\n')
}

function reproduceLine(params: MeasuredCardParams): string {
  const {plan, search, data} = params
  const added = plan.layers.length - (plan.layers.length - plan.duplications.reduce((a, d) => a + (d.end - d.start), 0))
  const parts = [
    'dlec expand',
    params.baseModel ?? localName(plan.model),
    `--add-layers ${added}`,
    `--strategy ${plan.strategy}`,
    ...(search?.candidates === undefined || plan.strategy === 'identity' ? [] : [`--candidates ${search.candidates}`]),
    ...(search?.blockSizes === undefined || plan.strategy === 'identity' ? [] : [`--block-sizes ${search.blockSizes.join(',')}`]),
    ...(search?.objective === undefined || plan.strategy === 'identity' ? [] : [`--objective ${search.objective}`]),
    ...(data === undefined ? [] : [`--data ${data.name}`]),
    `--out ${params.name}`,
  ]
  return parts.join(' ')
}

/** A local model's folder name: the card never carries a local path. */
function localName(model: string): string {
  return model.replace(/\/+$/, '').split('/').at(-1) ?? model
}

function round(x: number): number {
  return Number(x.toPrecision(6))
}
