import type {BlockContext} from './block-context.js'

/** Rotary embedding, rotate_half convention, on the first `rotaryDim` features of the last axis. */
export function applyRope(ctx: BlockContext, x: string, name: string): string {
  const {g, spec, rope} = ctx
  if (!spec.rope || !rope) {
    return x
  }
  const {rotaryDim} = spec.rope
  const partial = rotaryDim < spec.headDim
  const [rot, pass] = partial
    ? g.opMulti('Split', [x, g.constInt64([rotaryDim, spec.headDim - rotaryDim])], {axis: -1}, {name: `${name}_part`, outputs: 2})
    : [x, undefined]
  const half = rotaryDim / 2
  const [x1, x2] = g.opMulti('Split', [rot as string, g.constInt64([half, half])], {axis: -1}, {name: `${name}_half`, outputs: 2})
  const rotated = g.op('Concat', [g.op('Neg', [x2 as string]), x1 as string], {axis: -1}, {name: `${name}_rot`})
  const out = g.op(
    'Add',
    [g.op('Mul', [rot as string, rope.cos]), g.op('Mul', [rotated, rope.sin])],
    {},
    {name: partial ? `${name}_r` : name},
  )
  return partial ? g.op('Concat', [out, pass as string], {axis: -1}, {name}) : out
}
