import type {BlockContext, BranchFactor, BranchFactors} from './block-context.js'
import {attention} from './attention.js'
import {mlp} from './mlp.js'
import {norm} from './norm.js'
import {BLOCK_KINDS} from '../../architectures/block-kinds.js'

/**
 * One decoder layer on the residual stream x[N, H], by block kind:
 * - llama / gemma / phi3 / gpt2: x + attn(norm(x)), then + mlp(norm(.)) (pre-norm);
 * - gemma2: the same with a post-norm on each branch output;
 * - phi: x + attn(ln(x)) + mlp(ln(x)) (parallel branches, one LayerNorm).
 * `scale` multiplies a branch output, as mergekit's `scale` on the output projection does (a constant,
 * or a graph input so that one session serves every value); `slot` is the layer's position in the
 * sequence (its KV-cache slot).
 */
export function decoderBlock(ctx: BlockContext, x: string, layer: number, scale: BranchFactors | undefined, slot: number): string {
  const {g, spec} = ctx
  const p = `l${layer}`
  // A scaled output projection (weight and bias) scales its branch output, before any post-norm.
  const scaled = (value: string, factor: BranchFactor | undefined, name: string): string =>
    factor === undefined || factor === 1 ? value : g.op('Mul', [value, typeof factor === 'number' ? g.scalar(factor) : factor.input], {}, {name})
  const attnNorm = norm(ctx, x, ctx.need('attn_norm', layer), ctx.weight('attn_norm_bias', layer), `${p}_ln1`)
  const kind = BLOCK_KINDS[spec.blockKind]
  if (kind.parallel) {
    const a = scaled(attention(ctx, attnNorm, layer, slot), scale?.attn, `${p}_attn_scaled`)
    const m = scaled(mlp(ctx, attnNorm, layer), scale?.mlp, `${p}_mlp_scaled`)
    return g.op('Add', [g.op('Add', [a, m]), x], {}, {name: `${p}_out`})
  }
  let a = scaled(attention(ctx, attnNorm, layer, slot), scale?.attn, `${p}_attn_scaled`)
  if (kind.postBranchNorms) {
    a = norm(ctx, a, ctx.need('post_attn_norm', layer), undefined, `${p}_post_attn`)
  }
  const mid = g.op('Add', [x, a], {}, {name: `${p}_mid`})
  const mlpNorm = norm(ctx, mid, ctx.need('mlp_norm', layer), ctx.weight('mlp_norm_bias', layer), `${p}_ln2`)
  let m = scaled(mlp(ctx, mlpNorm, layer), scale?.mlp, `${p}_mlp_scaled`)
  if (kind.postBranchNorms) {
    m = norm(ctx, m, ctx.need('post_mlp_norm', layer), undefined, `${p}_post_mlp`)
  }
  return g.op('Add', [mid, m], {}, {name: `${p}_out`})
}
