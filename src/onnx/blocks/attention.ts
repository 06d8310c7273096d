import type {BlockContext} from './block-context.js'
import {fusedAttention} from './fused-attention.js'
import {applyRope} from './rope.js'

/**
 * Causal self-attention with grouped KV heads, from a normed residual x[N, H] to [N, H].
 * Queries are laid out [B, nKv, group, T, d] and keys/values [B, nKv, 1, T, d], so MatMul
 * broadcasting shares each KV head with its query group without copying (transformers' repeat_kv).
 * Optional pieces come from the weights present (q/k/v biases, fused qkv, q/k norms) and the spec
 * (scale, soft-capping, sliding window, rotary). With a KV cache, keys (after the rotary embedding)
 * and values are joined to cache slot `slot` before attending.
 */
export function attention(ctx: BlockContext, x: string, layer: number, slot: number): string {
  const {g, spec} = ctx
  const p = `l${layer}_attn`
  const qDim = spec.heads * spec.headDim
  const kvDim = spec.kvHeads * spec.headDim
  const fused = ctx.weight('qkv_proj', layer)
  if (ctx.fused !== undefined && (ctx.weight('q_norm', layer) === undefined || ctx.weight('k_norm', layer) === undefined)) {
    // GroupQueryAttention takes the queries, keys and values packed [N, (heads + 2 kvHeads) d]:
    // one projection where the checkpoint stores them fused or the weights can be joined.
    const qkv =
      fused === undefined
        ? ctx.joinedLinear?.(x, (['q_proj', 'k_proj', 'v_proj'] as const).map((r) => ctx.need(r, layer)), [ctx.weight('q_bias', layer), ctx.weight('k_bias', layer), ctx.weight('v_bias', layer)], `${p}_qkv`)
        : ctx.linear(x, fused, ctx.weight('qkv_bias', layer), `${p}_qkv`)
    if (qkv !== undefined) {
      return ctx.linear(fusedAttention(ctx, ctx.fused, {qkv}, layer, slot), ctx.need('o_proj', layer), ctx.weight('o_bias', layer), `${p}_o`)
    }
  }
  let q: string
  let k: string
  let v: string
  if (fused === undefined) {
    q = ctx.linear(x, ctx.need('q_proj', layer), ctx.weight('q_bias', layer), `${p}_q`)
    k = ctx.linear(x, ctx.need('k_proj', layer), ctx.weight('k_bias', layer), `${p}_k`)
    v = ctx.linear(x, ctx.need('v_proj', layer), ctx.weight('v_bias', layer), `${p}_v`)
  } else {
    const qkv = ctx.linear(x, fused, ctx.weight('qkv_bias', layer), `${p}_qkv`)
    ;[q, k, v] = g.opMulti('Split', [qkv, g.constInt64([qDim, kvDim, kvDim])], {axis: -1}, {name: `${p}_split`, outputs: 3}) as [string, string, string]
  }
  if (ctx.fused !== undefined) {
    return ctx.linear(fusedAttention(ctx, ctx.fused, {q, k, v}, layer, slot), ctx.need('o_proj', layer), ctx.weight('o_bias', layer), `${p}_o`)
  }
  // [N, heads*d] -> [B, T, nKv, group, d] -> [B, nKv, group, T, d]
  const heads5 = (t: string, shape: string, group: number, name: string): string =>
    g.op('Transpose', [g.shaped(g.op('Reshape', [t, shape], {}, {name: `${name}_r`}), 'float', ['batch', 'seq', spec.kvHeads, group, spec.headDim])], {perm: [0, 2, 3, 1, 4]}, {name})
  let q5 = heads5(q, ctx.shapes.q5, spec.heads / spec.kvHeads, `${p}_qh`)
  let k5 = heads5(k, ctx.shapes.kv5, 1, `${p}_kh`)
  let v5 = heads5(v, ctx.shapes.kv5, 1, `${p}_vh`)
  const qNorm = ctx.weight('q_norm', layer)
  const kNorm = ctx.weight('k_norm', layer)
  if (qNorm !== undefined && kNorm !== undefined) {
    const epsilon = {float: spec.normEps}
    q5 = g.op('RMSNormalization', [q5, qNorm], {axis: -1, epsilon}, {name: `${p}_qn`})
    k5 = g.op('RMSNormalization', [k5, kNorm], {axis: -1, epsilon}, {name: `${p}_kn`})
  }
  q5 = applyRope(ctx, q5, `${p}_qrope`)
  k5 = applyRope(ctx, k5, `${p}_krope`)
  if (ctx.cache !== undefined) {
    ;({k5, v5} = ctx.cache(slot, k5, v5))
  }
  const kT = g.op('Transpose', [k5], {perm: [0, 1, 2, 4, 3]}, {name: `${p}_kt`})
  let scores = g.op('Mul', [g.op('MatMul', [q5, kT], {}, {name: `${p}_qk`}), g.scalar(spec.attnScale)], {}, {name: `${p}_scores`})
  if (spec.attnSoftcap !== undefined) {
    const cap = g.scalar(spec.attnSoftcap)
    scores = g.op('Mul', [g.op('Tanh', [g.op('Div', [scores, cap])]), cap], {}, {name: `${p}_capped`})
  }
  const masked = g.op('Add', [scores, ctx.mask(spec.slidingWindow[layer])], {}, {name: `${p}_masked`})
  const probs = g.op('Softmax', [masked], {axis: -1}, {name: `${p}_probs`})
  const ctx5 = g.op('MatMul', [probs, v5], {}, {name: `${p}_ctx`})
  // [B, nKv, group, T, d] -> [B, T, nKv, group, d] -> [N, heads*d]
  const merged = g.shaped(g.op('Reshape', [g.op('Transpose', [ctx5], {perm: [0, 3, 1, 2, 4]}), g.constInt64([-1, qDim])], {}, {name: `${p}_merged`}), 'float', ['rows', qDim])
  return ctx.linear(merged, ctx.need('o_proj', layer), ctx.weight('o_bias', layer), `${p}_o`)
}
