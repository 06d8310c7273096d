import {randomFillSync} from 'node:crypto'
import {mkdirSync, writeFileSync} from 'node:fs'
import {open} from 'node:fs/promises'
import {join} from 'node:path'
import {encodeSafetensorsHeader, type TensorToWrite} from '../../src/safetensors/encode-header.js'

/** Llama-2-7B shapes: hidden 4096, MLP 11008, 32 heads, vocab 32000. */
export const SEVEN_B = {hidden: 4096, intermediate: 11008, heads: 32, vocab: 32000}

/**
 * Writes a random-weight bf16 Llama with 7B-sized layers into `dir` (config.json, shards of at most
 * `shardBytes` (default ~1 GB) and the index), returning the bytes of tensor data. Values are finite
 * bf16 of magnitude ~1e-2; one random 16 MB block is reused, which does not matter for copy timings,
 * unless `fresh` asks for new random bytes per block (distinct layers, for measurements).
 */
export async function makeModel(dir: string, layers: number, options: {shardBytes?: number; fresh?: boolean} = {}): Promise<number> {
  const shardBytes = options.shardBytes ?? 1e9
  mkdirSync(dir, {recursive: true})
  const {hidden: h, intermediate: m, heads, vocab} = SEVEN_B
  const tensors: TensorToWrite[] = [{name: 'model.embed_tokens.weight', dtype: 'BF16', shape: [vocab, h], byteLength: vocab * h * 2}]
  const add = (name: string, shape: number[]): void => {
    tensors.push({name, dtype: 'BF16', shape, byteLength: shape.reduce((a, b) => a * b, 1) * 2})
  }
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}.`
    add(`${p}input_layernorm.weight`, [h])
    for (const x of ['q', 'k', 'v', 'o']) {
      add(`${p}self_attn.${x}_proj.weight`, [h, h])
    }
    add(`${p}post_attention_layernorm.weight`, [h])
    add(`${p}mlp.gate_proj.weight`, [m, h])
    add(`${p}mlp.up_proj.weight`, [m, h])
    add(`${p}mlp.down_proj.weight`, [h, m])
  }
  add('model.norm.weight', [h])
  add('lm_head.weight', [vocab, h])
  const shards: TensorToWrite[][] = [[]]
  let size = 0
  for (const t of tensors) {
    const current = shards.at(-1) ?? []
    if (current.length > 0 && size + t.byteLength > shardBytes) {
      shards.push([])
      size = 0
    }
    ;(shards.at(-1) ?? []).push(t)
    size += t.byteLength
  }
  const block = new Uint8Array(16 * 1024 * 1024)
  const u16 = new Uint16Array(block.buffer)
  const fill = (): void => {
    randomFillSync(block)
    for (let i = 0; i < u16.length; i++) {
      u16[i] = ((u16[i] ?? 0) & 0x807f) | 0x3c00
    }
  }
  fill()
  const pad = (n: number): string => String(n).padStart(5, '0')
  const weightMap: Record<string, string> = {}
  let total = 0
  for (const [i, shard] of shards.entries()) {
    const file = `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`
    const header = encodeSafetensorsHeader(shard)
    const handle = await open(join(dir, file), 'w')
    await handle.write(header.bytes)
    for (const t of header.order) {
      weightMap[t.name] = file
      total += t.byteLength
      for (let done = 0; done < t.byteLength; done += block.byteLength) {
        if (options.fresh === true) {
          fill()
        }
        await handle.write(block, 0, Math.min(block.byteLength, t.byteLength - done))
      }
    }
    await handle.close()
  }
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({metadata: {total_size: total}, weight_map: weightMap}, null, 2))
  const config = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: h,
    intermediate_size: m,
    num_attention_heads: heads,
    num_key_value_heads: heads,
    num_hidden_layers: layers,
    vocab_size: vocab,
    max_position_embeddings: 4096,
    rms_norm_eps: 1e-5,
    rope_theta: 10000.0,
    tie_word_embeddings: false,
    torch_dtype: 'bfloat16',
    hidden_act: 'silu',
  }
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`)
  return total
}
