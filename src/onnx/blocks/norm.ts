import type {BlockContext} from './block-context.js'

/** RMSNorm (with Gemma's `1 + w` offset where the spec says) or LayerNorm over the last axis. */
export function norm(ctx: BlockContext, x: string, weight: string, bias: string | undefined, name: string): string {
  const {g, spec} = ctx
  const epsilon = {float: spec.normEps}
  if (spec.norm === 'layer') {
    return g.op('LayerNormalization', bias === undefined ? [x, weight] : [x, weight, bias], {axis: -1, epsilon}, {name})
  }
  const scale = spec.normOffset === 0 ? weight : g.op('Add', [weight, g.scalar(spec.normOffset)], {}, {name: `${name}_w`})
  return g.op('RMSNormalization', [x, scale], {axis: -1, epsilon}, {name})
}
