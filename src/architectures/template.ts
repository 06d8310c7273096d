/**
 * mergekit's tensor-name templates: `${layer_index}`, `${layer_index+1}`, `${layer_index-1}`,
 * `${num_layers}`, `${num_layers+1}`, `${num_layers-1}`. Pure.
 */
export interface TemplateVars {
  layerIndex?: number
  numLayers?: number
}

const PATTERN = /\$\{(layer_index|num_layers)([+-]1)?\}/g

export function substituteTemplate(template: string, vars: TemplateVars): string {
  return template.replace(PATTERN, (_whole, key: string, offset: string | undefined) => {
    const base = key === 'layer_index' ? vars.layerIndex : vars.numLayers
    if (base === undefined) {
      throw new TypeError(`template ${template} needs ${key}`)
    }
    return String(base + (offset ? Number(offset) : 0))
  })
}

/** The regular expression matching names produced by `template` for any layer; group 1 is the index. */
export function templateMatcher(template: string): RegExp {
  const parts = template.split(/\$\{layer_index\}/)
  const escaped = parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  return new RegExp(`^${escaped.join('(\\d+)')}$`)
}
