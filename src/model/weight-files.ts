import {closeSync, openSync, readSync, statSync} from 'node:fs'
import {ShardedTensorIndex, type TensorInfo} from '../safetensors/reader.js'

/**
 * Where each weight of a model folder lives, from the validated safetensors headers
 * (ShardedTensorIndex): real (symlink-resolved, confined to the model folder) file, absolute byte
 * offset and length, dtype and shape. All the graph builder needs to reference weights in place.
 */
export type WeightLocation = TensorInfo

export interface WeightFiles {
  /** The files, real paths, in a stable order. */
  files: string[]
  tensors: Map<string, WeightLocation>
  /**
   * Which bytes these are, cheaply: each file's identity (device, inode, size, modification time)
   * plus every tensor's name, dtype, shape and offsets. Two folders with the same headers (two
   * merges of the same shape) are different files, so they never share a cache entry; a file
   * replaced or rewritten in place changes inode or mtime. A hard link made by the weight store is
   * the same inode, so it keeps the key.
   */
  fingerprint: string
}

export async function readWeightFiles(modelDir: string): Promise<WeightFiles> {
  const index = await ShardedTensorIndex.open(modelDir)
  try {
    const tensors = new Map(index.names().map((n) => [n, index.info(n)]))
    const prints = index.files.map((f, i) => {
      const st = statSync(f, {bigint: true})
      return `shard ${i}: dev ${st.dev} ino ${st.ino} size ${st.size} mtime ${st.mtimeNs}`
    })
    for (const t of tensors.values()) {
      prints.push(`${t.name} ${t.dtype} ${t.shape.join('x')} @${index.files.indexOf(t.file)}:${t.offset}+${t.byteLength}`)
    }
    return {files: index.files, tensors, fingerprint: prints.join('\n')}
  } finally {
    await index.close()
  }
}

/** Reads one tensor's bytes. */
export function readWeightBytes(w: WeightLocation): Buffer {
  const fd = openSync(w.file, 'r')
  try {
    const buf = Buffer.alloc(w.byteLength)
    readSync(fd, buf, 0, w.byteLength, w.offset)
    return buf
  } finally {
    closeSync(fd)
  }
}
