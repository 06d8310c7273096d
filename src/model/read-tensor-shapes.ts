import {ShardedTensorIndex} from '../safetensors/reader.js'

export interface TensorShape {
  dtype: string
  shape: number[]
}

/**
 * Tensor names, dtypes and shapes of a checkpoint folder (`model.safetensors.index.json` or
 * `model.safetensors`, as mergekit reads it), from the validated safetensors headers only.
 */
export async function readTensorShapes(params: {dir: string}): Promise<Map<string, TensorShape>> {
  const index = await ShardedTensorIndex.open(params.dir)
  try {
    return new Map(
      index.names().map((name) => {
        const {dtype, shape} = index.info(name)
        return [name, {dtype, shape}]
      }),
    )
  } finally {
    await index.close()
  }
}
