/**
 * The bench/scale checkpoint: a random-weight bf16 Llama of Llama-2-7B's shape (32 layers, hidden
 * 4096, MLP 11008, 32 heads, vocab 32000; 13.5 GB), sharded as transformers' save_pretrained does
 * (model-0000i-of-0000n.safetensors of at most 5 GB plus model.safetensors.index.json), with fresh
 * random bytes per 16 MB block so no two layers are equal.
 *
 * Tokenizer: the stories260K one (fixtures/, vocab 512) is copied in. Its ids 0..511 are a subset of
 * the 32,000 embedding rows, as in checkpoints whose embedding table is padded past the tokenizer;
 * every id the tokenizer emits is a valid row, and the lm_head still computes 32,000 logits per
 * token, so the compute and the memory are those of a 7B model.
 *
 *   node --import tsx bench/scale/make-model.ts OUT_DIR
 */
import {copyFileSync, existsSync, renameSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {makeModel} from '../merge/make-model.js'

const out = process.argv[2]
if (out === undefined) {
  throw new Error('usage: make-model.ts OUT_DIR')
}
if (!existsSync(join(out, 'config.json'))) {
  const tmp = `${out}.tmp`
  rmSync(tmp, {recursive: true, force: true})
  const t0 = performance.now()
  const bytes = await makeModel(tmp, 32, {shardBytes: 5e9, fresh: true})
  const stories = fileURLToPath(new URL('../../fixtures/stories260K/', import.meta.url))
  for (const f of ['tokenizer.json', 'tokenizer.model', 'tokenizer_config.json', 'special_tokens_map.json']) {
    copyFileSync(join(stories, f), join(tmp, f))
  }
  renameSync(tmp, out)
  console.log(JSON.stringify({step: 'model', dir: out, bytes, seconds: (performance.now() - t0) / 1000}))
}
