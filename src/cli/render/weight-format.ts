import type {FormatDecision} from '../../onnx/weight-format.js'

/** The line curve / plan / expand print about the measurement's weight format. */
export function measuredWith(w: FormatDecision): string {
  const exact = w.format === 'fp32' ? '' : '; only the measurement is quantized: the YAML names the original weights, exactly'
  return `measured with ${w.format} weights (${w.reason})${exact}`
}
