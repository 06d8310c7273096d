import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {dump} from 'js-yaml'

/** The model card template shipped with dlec. */
export const MODEL_CARD_TEMPLATE = fileURLToPath(new URL('../../templates/model-card.md', import.meta.url))

export interface ModelCardParams {
  /** Card title: the output folder's name. */
  name: string
  /** Every model the YAML references, in first-use order. */
  models: string[]
  /** Those of `models` that are Hub repos (listed as `base_model` and linked). */
  hubModels: string[]
  baseModel?: string
  /** The merge YAML, verbatim. */
  yaml: string
  engine: 'native' | 'mergekit'
  template?: string
}

/**
 * README.md for a merged model, laid out like mergekit's card: YAML front matter (`base_model`:
 * the Hub models, `library_name: transformers`, tags `mergekit`, `merge`, `dlec`), the method,
 * the models and the YAML. Pure apart from reading the template.
 */
export function renderModelCard(params: ModelCardParams): string {
  const template = params.template ?? readFileSync(MODEL_CARD_TEMPLATE, 'utf8')
  const hub = new Set(params.hubModels)
  const metadata = dump(
    {base_model: params.models.filter((m) => hub.has(m)), library_name: 'transformers', tags: ['mergekit', 'merge', 'dlec']},
    {sortKeys: true, seqNoIndent: true, lineWidth: -1},
  ).trimEnd()
  const link = (m: string): string => (hub.has(m) ? `[${m}](https://huggingface.co/${m})` : m)
  const values: Record<string, string> = {
    metadata,
    name: params.name,
    engine: params.engine,
    baseText: params.baseModel === undefined ? '' : ` using ${link(params.baseModel)} as a base`,
    modelList: params.models.filter((m) => m !== params.baseModel).map((m) => `* ${link(m)}`).join('\n'),
    yaml: params.yaml.replace(/\n$/, ''),
  }
  return template.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole)
}
