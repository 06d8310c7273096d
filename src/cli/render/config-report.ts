import type {ConfigReport, LayersReport} from '../../merge/describe-layers.js'

/** Human form of `dlec config validate`. */
export function renderConfigReport(r: ConfigReport): string[] {
  const shape =
    r.slices === 0
      ? `${r.models.length} model${r.models.length === 1 ? '' : 's'}, no slices`
      : `${r.slices} slice${r.slices === 1 ? '' : 's'}, ${r.outputLayers} output layer${r.outputLayers === 1 ? '' : 's'}`
  const lines = [`${r.file}: valid mergekit config (${r.mergeMethod}, ${shape})`]
  if (r.model) {
    lines.push(...renderModelSummary(r))
  }
  return lines
}

/** Human form of `dlec config layers`: one row per output layer, then the model summary. */
export function renderLayersTable(r: LayersReport): string[] {
  if (r.slices === 0) {
    const depth = r.model ? `: ${r.model.depthAfter} layers` : ' (pass --model for the depth)'
    return [`${r.file}: a models merge (${r.mergeMethod}, no slices): output layer k merges layer k of ${r.models.length} model${r.models.length === 1 ? '' : 's'}${depth}`, ...renderModelSummary(r)]
  }
  const rows = r.layers.map((l) => ({
    out: String(l.output),
    src: `${l.model}:${l.source}`,
    slice: String(l.slice),
    params: Object.entries(l.parameters)
      .map(([k, v]) => `${k}: ${v}`)
      .join('; '),
  }))
  const wOut = Math.max(3, ...rows.map((x) => x.out.length))
  const wSrc = Math.max('source (model:layer)'.length, ...rows.map((x) => x.src.length))
  const wSlice = Math.max(5, ...rows.map((x) => x.slice.length))
  const line = (out: string, arrow: string, src: string, slice: string, params: string): string =>
    `${out.padStart(wOut)} ${arrow} ${src.padEnd(wSrc)}  ${slice.padStart(wSlice)}  ${params}`.trimEnd()
  const lines = [line('out', ' ', 'source (model:layer)', 'slice', 'parameters')]
  for (const x of rows) {
    lines.push(line(x.out, '←', x.src, x.slice, x.params))
  }
  lines.push('', `${r.outputLayers} output layers from ${r.slices} slice${r.slices === 1 ? '' : 's'} (${r.mergeMethod})`)
  if (r.model) {
    lines.push(...renderModelSummary(r))
  }
  return lines
}

function renderModelSummary(r: ConfigReport): string[] {
  const m = r.model
  if (!m) {
    return []
  }
  const ratio = m.paramsBefore > 0 ? ` (${(m.paramsAfter / m.paramsBefore).toFixed(3)}x)` : ''
  return [
    `model ${m.dir} (${m.architecture}): depth ${m.depthBefore} -> ${m.depthAfter} (${m.numLayersKey}), parameters ${count(m.paramsBefore)} -> ${count(m.paramsAfter)}${ratio}`,
  ]
}

function count(n: number): string {
  if (n >= 1e9) {
    return `${(n / 1e9).toFixed(2)}B`
  }
  if (n >= 1e6) {
    return `${(n / 1e6).toFixed(2)}M`
  }
  if (n >= 1e3) {
    return `${(n / 1e3).toFixed(1)}K`
  }
  return String(n)
}
