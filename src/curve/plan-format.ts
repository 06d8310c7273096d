import {UsageError} from '../errors.js'

/** What `dlec plan --format` writes: mergekit passthrough YAML, a PEFT LoRA config with `layer_replication`, or the plain layer list. */
export const PLAN_FORMATS = ['mergekit', 'peft', 'layers'] as const
export type PlanFormat = (typeof PLAN_FORMATS)[number]

/**
 * A layer sequence as half-open `[start, end)` ranges of consecutive layers, in order: what PEFT's
 * `layer_replication` takes (and the `layer_range`s of mergekit slices). `[0,1,2,2,3,4]` ->
 * `[[0,3],[2,5]]`. Pure.
 */
export function layerRanges(layers: readonly number[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = []
  for (const layer of layers) {
    const last = ranges.at(-1)
    if (last !== undefined && last[1] === layer) {
      last[1] = layer + 1
    } else {
      ranges.push([layer, layer + 1])
    }
  }
  return ranges
}

/**
 * The text of a plan in `format`. `peft` is the healing route: an adapter_config.json for a LoRA
 * on every linear layer whose `layer_replication` builds the expanded model from the base with
 * shared weights (a LoRA per copy trains the copies apart). PEFT cannot scale a copy's output, so
 * identity and soft copies (scale α below 1) are refused for it. `layers` is the comma-separated layer list (llama.cpp /
 * RYS-style tools). Pure.
 */
export function renderPlanFormat(params: {format: PlanFormat; layers: readonly number[]; yaml: string; model: string; identityCopies: boolean; copyScale?: number}): string {
  switch (params.format) {
    case 'mergekit':
      return params.yaml
    case 'layers':
      return `${params.layers.join(',')}\n`
    case 'peft': {
      if (params.identityCopies) {
        throw new UsageError('--format peft: PEFT layer_replication shares the copies\' weights and cannot zero their output projections; identity copies need --format mergekit')
      }
      if (params.copyScale !== undefined && params.copyScale !== 1) {
        throw new UsageError(`--format peft: PEFT layer_replication shares the copies' weights and cannot scale their output projections by α ${params.copyScale}; soft copies need --format mergekit`)
      }
      const config = {
        base_model_name_or_path: params.model,
        peft_type: 'LORA',
        task_type: 'CAUSAL_LM',
        r: 8,
        lora_alpha: 16,
        lora_dropout: 0,
        bias: 'none',
        target_modules: 'all-linear',
        layer_replication: layerRanges(params.layers),
      }
      return `${JSON.stringify(config, null, 2)}\n`
    }
  }
}
