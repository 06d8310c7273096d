import type {BlockContext, FusedAttention} from './block-context.js'

/**
 * KV-cache attention as one com.microsoft GroupQueryAttention node: rotary embedding (from the
 * graph's cos / sin tables), joining the slot's past keys / values, grouped causal attention with
 * the spec's scale (decoder-graph.ts fusedAttentionFits says when it is used). q, k, v are the projections [N, dim]; q/k
 * norms (Qwen3) are applied first, per head. Returns [N, heads * headDim].
 */
export function fusedAttention(ctx: BlockContext, fused: FusedAttention, projected: {q: string; k: string; v: string} | {qkv: string}, layer: number, slot: number): string {
  const {g, spec} = ctx
  const p = `l${layer}_gqa`
  const qDim = spec.heads * spec.headDim
  const perHead = (t: string, heads: number, weight: string | undefined, name: string): string => {
    if (weight === undefined) {
      return g.shaped(g.op('Reshape', [t, fused.shape3(heads * spec.headDim)], {}, {name: `${name}_3d`}), 'float', ['batch', 'seq', heads * spec.headDim])
    }
    const h4 = g.shaped(g.op('Reshape', [t, fused.shape4(heads)], {}, {name: `${name}_4d`}), 'float', ['batch', 'seq', heads, spec.headDim])
    const normed = g.op('RMSNormalization', [h4, weight], {axis: -1, epsilon: {float: spec.normEps}}, {name: `${name}_n`})
    return g.shaped(g.op('Reshape', [normed, fused.shape3(heads * spec.headDim)], {}, {name: `${name}_3d`}), 'float', ['batch', 'seq', heads * spec.headDim])
  }
  let qkv3: string[]
  if ('qkv' in projected) {
    // Packed: GroupQueryAttention splits [B, T, (heads + 2 kvHeads) d] itself (key and value inputs empty).
    qkv3 = [perHead(projected.qkv, spec.heads + 2 * spec.kvHeads, undefined, `${p}_qkv`), '', '']
  } else {
    const qNorm = ctx.weight('q_norm', layer)
    const kNorm = ctx.weight('k_norm', layer)
    const both = qNorm !== undefined && kNorm !== undefined
    qkv3 = [
      perHead(projected.q, spec.heads, both ? qNorm : undefined, `${p}_q`),
      perHead(projected.k, spec.kvHeads, both ? kNorm : undefined, `${p}_k`),
      perHead(projected.v, spec.kvHeads, undefined, `${p}_v`),
    ]
  }
  const rope = fused.rope
  const inputs = [...qkv3, fused.pastKey(slot), fused.pastValue(slot), fused.seqlensK, fused.totalLength, ...(rope ? [rope.cos, rope.sin] : [])]
  const [out, presentK, presentV] = g.opMulti(
    'GroupQueryAttention',
    inputs,
    {
      num_heads: spec.heads,
      kv_num_heads: spec.kvHeads,
      scale: {float: spec.attnScale},
      do_rotary: rope ? 1 : 0,
      rotary_interleaved: 0,
    },
    {name: p, domain: 'com.microsoft', outputs: 3},
  ) as [string, string, string]
  g.shaped(out, 'float', ['batch', 'seq', qDim])
  g.shaped(presentK, 'float', ['batch', spec.kvHeads, 'total', spec.headDim])
  g.shaped(presentV, 'float', ['batch', spec.kvHeads, 'total', spec.headDim])
  fused.present(slot, presentK, presentV)
  return g.shaped(g.op('Reshape', [out, g.constInt64([-1, qDim])], {}, {name: `${p}_merged`}), 'float', ['rows', qDim])
}
