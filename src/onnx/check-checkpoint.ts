import {ModelError} from '../errors.js'
import {tensorBeyondDepth, type CheckpointMatch} from '../architectures/match-checkpoint.js'
import type {ArchitectureDefinition, WeightRole} from '../architectures/schema.js'
import type {DecoderSpec} from './decoder-spec.js'
import {FLOAT_DTYPES} from './float-convert.js'

/**
 * Checks config.json against the checkpoint before a graph is built: the layer count (tensors of a
 * layer past the configured depth mean config.json undercounts: the extra layers would be dropped
 * silently) and the shape of every tensor the graph reads (a mismatch would otherwise surface as
 * an ONNX Runtime message about node names). Pure; throws a ModelError naming the tensor.
 */
export function checkCheckpoint(params: {
  spec: DecoderSpec
  arch: ArchitectureDefinition
  match: CheckpointMatch
  shapes: Map<string, number[]>
  /** Stored dtype and file of each tensor: integer or bool weights would be read as float bits. */
  dtypes?: Map<string, {dtype: string; file: string}>
  source: string
}): void {
  const {spec, arch, match, shapes, source} = params
  for (const t of match.tensors) {
    const stored = t.stored === undefined ? undefined : params.dtypes?.get(t.stored)
    if (stored !== undefined && !FLOAT_DTYPES.has(stored.dtype)) {
      throw new ModelError(`${stored.file}: tensor ${t.stored} is ${stored.dtype}; dlec runs float weights only (F32, F16, BF16, F64)`, 'DLEC_WEIGHT_DTYPE')
    }
  }
  const beyond = tensorBeyondDepth(arch, spec.numLayers, (n) => shapes.has(n))
  if (beyond !== undefined) {
    throw new ModelError(`${source}: says ${arch.numLayersKey} ${spec.numLayers} but the checkpoint has ${beyond}: config.json undercounts the layers`, 'DLEC_CONFIG_MISMATCH')
  }
  const expected = expectedShapes(spec)
  for (const t of match.tensors) {
    const want = expected[t.role]
    const got = t.stored === undefined ? undefined : shapes.get(t.stored)
    if (want === undefined || got === undefined || spec.blockKind === 'gpt2') {
      continue
    }
    if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
      throw new ModelError(`${source}: tensor ${t.stored} has shape [${got.join(', ')}] but config.json implies [${want.join(', ')}]`, 'DLEC_CONFIG_MISMATCH')
    }
  }
  if (spec.blockKind === 'gpt2') {
    const embed = match.tensors.find((t) => t.role === 'embed')
    const got = embed?.stored === undefined ? undefined : shapes.get(embed.stored)
    if (got !== undefined && (got[0] !== spec.vocab || got[1] !== spec.hidden)) {
      throw new ModelError(`${source}: tensor ${embed?.stored} has shape [${got.join(', ')}] but config.json implies [${spec.vocab}, ${spec.hidden}]`, 'DLEC_CONFIG_MISMATCH')
    }
  }
}

/** The shape each role must have under the config ([out, in] for linear weights). */
function expectedShapes(spec: DecoderSpec): Partial<Record<WeightRole, number[]>> {
  const {hidden, heads, kvHeads, headDim, vocab} = spec
  const q = heads * headDim
  const kv = kvHeads * headDim
  return {
    embed: [vocab, hidden],
    lm_head: [vocab, hidden],
    attn_norm: [hidden],
    mlp_norm: [hidden],
    final_norm: [hidden],
    q_proj: [q, hidden],
    k_proj: [kv, hidden],
    v_proj: [kv, hidden],
    o_proj: [hidden, q],
    qkv_proj: [q + 2 * kv, hidden],
    q_bias: [q],
    k_bias: [kv],
    v_bias: [kv],
  }
}
