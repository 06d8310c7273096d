import {readFileSync} from 'node:fs'

/**
 * Reads the declared shapes (GraphProto.value_info) of an ONNX file: a minimal protobuf walk of
 * ModelProto.graph (7) -> value_info (13) -> name (1), type (2) -> tensor_type (1) -> shape (2) ->
 * dim (1) -> dim_value (1) | dim_param (2). Independent of the writer in src/onnx/proto.ts.
 */
export function declaredShapes(file: string): Map<string, (number | string)[]> {
  const graph = fields(readFileSync(file)).get(7)?.[0]
  const out = new Map<string, (number | string)[]>()
  if (!(graph instanceof Uint8Array)) {
    return out
  }
  for (const vi of fields(graph).get(13) ?? []) {
    const f = fields(vi as Uint8Array)
    const name = Buffer.from(f.get(1)?.[0] as Uint8Array).toString('utf8')
    const tensor = fields(fields(f.get(2)?.[0] as Uint8Array).get(1)?.[0] as Uint8Array)
    const shape = fields(tensor.get(2)?.[0] as Uint8Array)
    const dims = (shape.get(1) ?? []).map((d) => {
      const df = fields(d as Uint8Array)
      const param = df.get(2)?.[0]
      return param instanceof Uint8Array ? Buffer.from(param).toString('utf8') : Number(df.get(1)?.[0] ?? -1)
    })
    out.set(name, dims)
  }
  return out
}

/** Top-level fields of one protobuf message: varints as bigint, length-delimited as bytes. */
function fields(buf: Uint8Array): Map<number, (bigint | Uint8Array)[]> {
  const out = new Map<number, (bigint | Uint8Array)[]>()
  let i = 0
  const varint = (): bigint => {
    let v = 0n
    let shift = 0n
    for (;;) {
      const b = buf[i++] as number
      v |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) {
        return v
      }
      shift += 7n
    }
  }
  while (i < buf.length) {
    const key = Number(varint())
    const field = key >> 3
    const wire = key & 7
    let value: bigint | Uint8Array
    if (wire === 0) {
      value = varint()
    } else if (wire === 2) {
      const len = Number(varint())
      value = buf.subarray(i, i + len)
      i += len
    } else if (wire === 1 || wire === 5) {
      i += wire === 1 ? 8 : 4
      continue
    } else {
      throw new Error(`unexpected protobuf wire type ${wire}`)
    }
    const list = out.get(field) ?? []
    list.push(value)
    out.set(field, list)
  }
  return out
}
