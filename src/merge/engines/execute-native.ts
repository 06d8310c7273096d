import {copyFile, open, writeFile} from 'node:fs/promises'
import {basename, join} from 'node:path'
import {DlecError, MergeError} from '../../errors.js'
import {encodeSafetensorsHeader} from '../../safetensors/encode-header.js'
import {INDEX_FILE} from '../../safetensors/index-json.js'
import type {ShardedTensorIndex} from '../../safetensors/reader.js'
import {convertChunk, isRawCopy} from '../convert-chunk.js'
import type {MergeEvent} from '../merge-event.js'
import type {CopyOp, PassthroughPlan} from '../passthrough-plan.js'
import {fsReason, isOutOfSpace} from '../../util/fs-error.js'
import {stagingDir} from '../staging-dir.js'

export interface ExtraFile {
  name: string
  /** Text or bytes to write, or a file to copy (`from`). */
  content?: string | Uint8Array
  from?: string
}

/** Source bytes read per step; a multiple of every element size. */
export const MERGE_CHUNK_BYTES = 16 * 1024 * 1024

/**
 * Writes the planned merge into `out`: shards streamed chunk by chunk from the source shards
 * (memory stays at a couple of chunks whatever the model size), converted and scaled where the plan
 * says, the index json when there are several shards, then `files` (config, card, tokenizer). All
 * of it goes to a temporary folder beside `out` that is renamed into place at the end; on failure
 * it is removed, so `out` is never half-written. An existing `out` is refused unless `force`.
 */
export async function* executeMerge(params: {
  plan: PassthroughPlan
  sources: Map<string, ShardedTensorIndex>
  out: string
  files: ExtraFile[]
  force?: boolean
  chunkBytes?: number
  signal?: AbortSignal
}): AsyncGenerator<MergeEvent, {out: string; bytes: number; files: string[]}> {
  const {plan, out} = params
  const chunkBytes = Math.max(8, Math.floor((params.chunkBytes ?? MERGE_CHUNK_BYTES) / 8) * 8)
  const staging = await stagingDir(out, params.force)
  const tmp = staging.dir
  let committed = false
  let writing = tmp
  try {
    yield {type: 'start', engine: 'native', totalBytes: plan.totalBytes, tensors: plan.ops.length, shards: plan.shardCount}
    let bytesDone = 0
    // Two read buffers, used in turn: one is written out while the next chunk is read into the
    // other. Reusing them (instead of a fresh zero-filled array per chunk) halves the time the
    // kernel spends on page faults.
    const buffers = [new Uint8Array(chunkBytes), new Uint8Array(chunkBytes)]
    for (let shard = 0; shard < plan.shardCount; shard++) {
      const ops = plan.ops.filter((op) => op.shard === shard)
      const header = encodeSafetensorsHeader(
        ops.map((op) => ({op, name: op.output, dtype: op.outputDtype, shape: op.shape, byteLength: op.outputBytes})),
      )
      writing = join(tmp, plan.shardFiles[shard] ?? `shard-${shard}`)
      const handle = await open(writing, 'w')
      try {
        await handle.write(header.bytes)
        for (const {op} of header.order) {
          const source = params.sources.get(op.model)
          if (source === undefined) {
            throw new MergeError(`model ${op.model} was not opened`)
          }
          for await (const chunk of convertedChunks(source, op, chunkBytes, buffers)) {
            if (params.signal?.aborted) {
              throw interrupted(out)
            }
            await handle.write(chunk)
            bytesDone += chunk.byteLength
            yield {type: 'progress', bytesDone, totalBytes: plan.totalBytes, tensor: op.output}
          }
        }
      } finally {
        await handle.close()
      }
    }
    if (plan.shardCount > 1) {
      const weightMap = Object.fromEntries(plan.ops.map((op) => [op.output, plan.shardFiles[op.shard]]))
      const index = {metadata: {total_size: plan.totalBytes, mergekit_version: '0.1.5'}, weight_map: weightMap}
      writing = join(tmp, INDEX_FILE)
      await writeFile(writing, JSON.stringify(index, null, 2))
    }
    for (const file of params.files) {
      const target = join(tmp, file.name)
      writing = target
      if (file.from !== undefined) {
        await copyFile(file.from, target)
      } else {
        await writeFile(target, file.content ?? '')
      }
    }
    if (params.signal?.aborted) {
      throw interrupted(out)
    }
    writing = out
    await staging.commit()
    committed = true
    const files = [...plan.shardFiles, ...(plan.shardCount > 1 ? [INDEX_FILE] : []), ...params.files.map((f) => f.name)]
    yield {type: 'done', out, bytes: bytesDone, files}
    return {out, bytes: bytesDone, files}
  } catch (error) {
    if (error instanceof DlecError) {
      throw error
    }
    throw new MergeError(`${writing === tmp || writing === out ? out : `${out} (writing ${basename(writing)})`}: ${fsReason(error)}; nothing was written`, isOutOfSpace(error) ? 'DLEC_MERGE_NO_SPACE' : 'DLEC_MERGE_WRITE', {cause: error})
  } finally {
    // Also on an early return() of this generator (a consumer that stops): never a half-built OUT.
    if (!committed) {
      await staging.discard()
    }
  }
}

function interrupted(out: string): DlecError {
  return new DlecError('interrupted', 'DLEC_INTERRUPTED', `merge into ${out} interrupted; nothing was written`)
}

/**
 * The op's output bytes, chunk by chunk, reading one chunk ahead while the caller writes. Reads go
 * into `buffers` in turn: the caller must finish with a chunk (write it) before asking for the next,
 * which holds for the executor's loop, so the buffer being refilled is never the one being written.
 */
async function* convertedChunks(source: ShardedTensorIndex, op: CopyOp, chunkBytes: number, buffers: Uint8Array[]): AsyncGenerator<Uint8Array> {
  const total = op.sourceBytes
  let at = 0
  const read = (start: number): Promise<Uint8Array> => {
    const buffer = buffers[0] as Uint8Array
    buffers.reverse()
    const pending = source.readRange(op.source, start, Math.min(chunkBytes, total - start), buffer)
    // Read ahead: a failure surfaces at the await below; never as an unhandled rejection.
    pending.catch(() => undefined)
    return pending
  }
  let next = total > 0 ? read(0) : undefined
  while (next !== undefined) {
    const bytes = await next
    at += bytes.byteLength
    next = at < total ? read(at) : undefined
    yield isRawCopy(op) ? bytes : convertChunk(bytes, op)
  }
}
