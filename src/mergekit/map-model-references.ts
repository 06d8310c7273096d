import type {InputModel, MergeConfig, ModelRef, OutputModule, OutputSlice} from './merge-config.js'

/**
 * Every model reference of a config (slices' sources and base models, `models`, modules,
 * `base_model`, `tokenizer_source` / `tokenizer.source` when they name a model), once each.
 */
export function modelReferencesOf(config: MergeConfig): ModelRef[] {
  const refs = new Set<ModelRef>()
  mapModelReferences(config, (ref) => {
    refs.add(ref)
    return ref
  })
  return [...refs]
}

/** The config with every model reference replaced by `f(ref)` (a new object; `config` is unchanged). */
export function mapModelReferences(config: MergeConfig, f: (ref: ModelRef) => ModelRef): MergeConfig {
  const tokenizer = (ref: ModelRef | 'union' | 'base' | undefined): ModelRef | undefined => (ref === undefined || ref === 'union' || ref === 'base' ? ref : f(ref))
  const slices = (list: OutputSlice[] | undefined): OutputSlice[] | undefined =>
    list?.map((s) => ({...s, sources: s.sources.map((x) => ({...x, model: f(x.model)})), ...(s.base_model === undefined ? {} : {base_model: f(s.base_model)})}))
  const models = (list: InputModel[] | undefined): InputModel[] | undefined => list?.map((m) => ({...m, model: f(m.model)}))
  const module = (m: OutputModule): OutputModule => ({...m, ...(m.slices ? {slices: slices(m.slices)} : {}), ...(m.models ? {models: models(m.models)} : {})})
  const out: MergeConfig = {...config}
  if (config.slices) {
    out.slices = slices(config.slices)
  }
  if (config.models) {
    out.models = models(config.models)
  }
  if (config.modules) {
    out.modules = Object.fromEntries(Object.entries(config.modules).map(([name, m]) => [name, module(m)]))
  }
  if (config.base_model !== undefined) {
    out.base_model = f(config.base_model)
  }
  if (config.tokenizer_source !== undefined) {
    out.tokenizer_source = tokenizer(config.tokenizer_source)
  }
  if (config.tokenizer?.source !== undefined) {
    out.tokenizer = {...config.tokenizer, source: tokenizer(config.tokenizer.source)}
  }
  return out
}
