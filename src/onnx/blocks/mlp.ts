import type {BlockContext} from './block-context.js'

/** The feed-forward block: gated (SwiGLU / GeGLU, separate or fused gate_up) or plain (fc1 -> act -> fc2). */
export function mlp(ctx: BlockContext, x: string, layer: number): string {
  const {g} = ctx
  const p = `l${layer}_mlp`
  const gate = ctx.weight('gate_proj', layer)
  const gateUp = ctx.weight('gate_up_proj', layer)
  let h: string
  if (gateUp !== undefined) {
    const both = ctx.linear(x, gateUp, undefined, `${p}_gate_up`)
    const [gs, us] = g.opMulti('Split', [both], {axis: -1, num_outputs: 2}, {name: `${p}_split`, outputs: 2})
    h = g.op('Mul', [us as string, activation(ctx, gs as string, p)], {}, {name: `${p}_h`})
  } else if (gate !== undefined && ctx.weight('up_bias', layer) === undefined && ctx.joinedLinear !== undefined) {
    // KV-cache graphs: gate and up as one projection (one matrix product per layer fewer).
    const both = ctx.joinedLinear(x, [gate, ctx.need('up_proj', layer)], [undefined, undefined], `${p}_gate_up`)
    if (both === undefined) {
      h = gatedSeparate(ctx, x, gate, layer, p)
    } else {
      const [gs, us] = g.opMulti('Split', [both], {axis: -1, num_outputs: 2}, {name: `${p}_split`, outputs: 2})
      h = g.op('Mul', [activation(ctx, gs as string, p), us as string], {}, {name: `${p}_h`})
    }
  } else if (gate !== undefined) {
    h = gatedSeparate(ctx, x, gate, layer, p)
  } else {
    const us = ctx.linear(x, ctx.need('up_proj', layer), ctx.weight('up_bias', layer), `${p}_fc1`)
    h = activation(ctx, us, p)
  }
  return ctx.linear(h, ctx.need('down_proj', layer), ctx.weight('down_bias', layer), `${p}_down`)
}

function gatedSeparate(ctx: BlockContext, x: string, gate: string, layer: number, p: string): string {
  const gs = ctx.linear(x, gate, undefined, `${p}_gate`)
  const us = ctx.linear(x, ctx.need('up_proj', layer), ctx.weight('up_bias', layer), `${p}_up`)
  return ctx.g.op('Mul', [activation(ctx, gs, p), us], {}, {name: `${p}_h`})
}

function activation(ctx: BlockContext, x: string, p: string): string {
  const {g, spec} = ctx
  switch (spec.activation) {
    case 'silu': {
      return g.op('Mul', [x, g.op('Sigmoid', [x])], {}, {name: `${p}_act`})
    }
    case 'gelu_tanh': {
      return g.op('Gelu', [x], {approximate: 'tanh'}, {name: `${p}_act`})
    }
    case 'gelu': {
      return g.op('Gelu', [x], {}, {name: `${p}_act`})
    }
  }
}
