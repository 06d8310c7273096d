import {ModelError} from '../../errors.js'

export interface RopeParams {
  theta: number
  /** `default`, `linear` or `llama3` (rope_parameters.rope_type / rope_scaling.type). */
  type: string
  factor?: number
  lowFreqFactor?: number
  highFreqFactor?: number
  originalMaxPositions?: number
  partialRotaryFactor: number
}

const f = Math.fround

/**
 * Inverse rotary frequencies, computed in float32 step by step as transformers does
 * (`1 / base ** (arange(0, dim, 2) / dim)`, then the scaling rule), so cos/sin match it bit for bit
 * in most positions. Pure.
 */
export function ropeInvFreq(p: RopeParams, dim: number, source = 'config.json'): number[] {
  const base: number[] = []
  for (let i = 0; i < dim; i += 2) {
    base.push(f(1 / f(Math.pow(p.theta, f(i / dim)))))
  }
  switch (p.type) {
    case 'default': {
      return base
    }
    case 'linear': {
      const factor = need(p.factor, 'factor', source)
      return base.map((x) => f(x / factor))
    }
    case 'llama3': {
      const factor = need(p.factor, 'factor', source)
      const low = need(p.lowFreqFactor, 'low_freq_factor', source)
      const high = need(p.highFreqFactor, 'high_freq_factor', source)
      const oldLen = need(p.originalMaxPositions, 'original_max_position_embeddings', source)
      const lowWavelen = oldLen / low
      const highWavelen = oldLen / high
      return base.map((inv) => {
        const wavelen = f((2 * Math.PI) / inv)
        const scaled = wavelen > lowWavelen ? f(inv / factor) : inv
        const medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen)
        if (!medium) {
          return scaled
        }
        const smooth = f(f(f(oldLen / wavelen) - low) / (high - low))
        return f(f(f(1 - smooth) * f(scaled / factor)) + f(smooth * scaled))
      })
    }
    default: {
      throw new ModelError(
        `${source}: rope scaling type ${p.type} is not supported by dlec's graph builder (supported: default, linear, llama3)`,
        'DLEC_ARCH_UNSUPPORTED',
      )
    }
  }
}

function need(v: number | undefined, key: string, source: string): number {
  if (v === undefined) {
    throw new ModelError(`${source}: rope scaling needs ${key}`, 'DLEC_CONFIG_MISSING')
  }
  return v
}
