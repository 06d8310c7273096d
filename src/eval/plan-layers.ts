import {ConfigError} from '../errors.js'
import type {WeightRole} from '../architectures/schema.js'
import {layerMap} from '../mergekit/layer-map.js'
import {readMergeConfig} from '../mergekit/read-merge-config.js'
import {resolveParameter} from '../mergekit/resolve-parameter.js'
import {modelOf, type ModelInput} from '../model/loaded-model.js'
import type {BranchScale} from '../onnx/decoder-graph.js'

export interface PlanLayers {
  /** Source layer of each output layer. */
  layers: number[]
  /** Per output layer: mergekit `scale` on its attention / MLP output projections (undefined: none). */
  scales: (BranchScale | undefined)[]
  model: string
  warnings: string[]
}

const BRANCH: Partial<Record<WeightRole, keyof BranchScale>> = {o_proj: 'attn', o_bias: 'attn', down_proj: 'mlp', down_bias: 'mlp'}

/**
 * The layer sequence a mergekit passthrough YAML builds from one model, for zero-copy evaluation,
 * with the `scale` each copy puts on its output projections (LLaMA-Pro identity copies: 0). Scaling
 * an output projection (weight and bias) scales that branch's output, which the graph does without
 * copying weights. Refuses what shared weights cannot express: other merge methods, several source
 * models, `scale` on any other tensor (merge those first, then evaluate the merged folder).
 */
export async function planLayers(params: {file: string} & ModelInput): Promise<PlanLayers> {
  const {file} = params
  const {config, warnings} = await readMergeConfig(file)
  if (config.merge_method !== 'passthrough') {
    throw new ConfigError(`${file}: merge_method ${config.merge_method} mixes weights; dlec eval --plan runs passthrough plans only (merge first, then eval the folder)`, 'DLEC_PLAN_UNSUPPORTED')
  }
  const map = layerMap(config)
  const models = new Set(map.map((e) => e.model))
  if (models.size !== 1) {
    throw new ConfigError(`${file}: the plan takes layers from ${models.size} models (${[...models].join(', ')}); --plan evaluates one model's layer sequence`, 'DLEC_PLAN_UNSUPPORTED')
  }
  const tensors = (await modelOf(params)).match.tensors
  const last = Math.max(0, ...map.map((e) => e.slice))
  const refuse = (tensor: string, value: number): never => {
    throw new ConfigError(
      `${file}: scale ${value} on ${tensor} cannot be evaluated zero-copy (only output projections of a copy can be scaled); merge the plan and evaluate the merged folder`,
      'DLEC_PLAN_UNSUPPORTED',
    )
  }
  for (const t of tensors.filter((x) => x.layer === undefined)) {
    const value = resolveParameter(config, 'scale', {slice: t.section === 'pre' ? 0 : last, model: [...models][0] ?? '', tensorName: t.name, t: 0})
    if (value !== undefined && value !== 1) {
      refuse(t.name, value)
    }
  }
  const scales = map.map((e) => {
    const found: BranchScale = {}
    for (const t of tensors.filter((x) => x.layer === e.source)) {
      const value = resolveParameter(config, 'scale', {slice: e.slice, model: e.model, tensorName: t.name, t: e.t})
      const branch = BRANCH[t.role]
      if (branch === undefined) {
        if (value !== undefined && value !== 1) {
          refuse(t.name, value)
        }
        continue
      }
      const v = value ?? 1
      if (found[branch] !== undefined && found[branch] !== v) {
        refuse(t.name, v)
      }
      found[branch] = v
    }
    return found.attn === 1 && found.mlp === 1 ? undefined : found
  })
  return {layers: map.map((e) => e.source), scales, model: [...models][0] ?? '', warnings}
}
