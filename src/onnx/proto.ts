import {ProtobufWriter as Writer} from './protobuf-writer.js'

/**
 * A minimal protobuf encoder for the ONNX messages dlec writes: ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto (inline raw data or external data), ValueInfoProto. Field numbers are
 * those of onnx/onnx.proto3. Pure: typed objects in, bytes out.
 */

/** ONNX TensorProto.DataType codes dlec uses. */
export const ONNX_DTYPE = {
  float: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  double: 11,
  bfloat16: 16,
} as const
export type OnnxDtype = keyof typeof ONNX_DTYPE

export interface ExternalRef {
  /** Path relative to the .onnx file's folder. */
  location: string
  offset: number
  length: number
}

export interface TensorProto {
  name: string
  dtype: OnnxDtype
  dims: number[]
  /** Little-endian bytes, or a reference into another file. */
  data: Uint8Array | ExternalRef
}

export type AttributeValue = number | string | number[] | {floats: number[]} | {float: number} | TensorProto

export interface NodeProto {
  opType: string
  inputs: string[]
  outputs: string[]
  name?: string
  domain?: string
  attributes?: Record<string, AttributeValue>
}

/** A dimension is a fixed size or a symbolic name (`batch`, `seq`). */
export type Dim = number | string

export interface ValueInfo {
  name: string
  dtype: OnnxDtype
  dims: Dim[]
}

export interface GraphProto {
  name: string
  nodes: NodeProto[]
  initializers: TensorProto[]
  inputs: ValueInfo[]
  outputs: ValueInfo[]
  /** Declared shapes of intermediate values (GraphProto.value_info). */
  valueInfo?: ValueInfo[]
}

export interface ModelProto {
  irVersion: number
  opsets: {domain: string; version: number}[]
  producerName: string
  producerVersion: string
  graph: GraphProto
}

function isExternal(data: Uint8Array | ExternalRef): data is ExternalRef {
  return !(data instanceof Uint8Array)
}

function tensorWriter(t: TensorProto): Writer {
  const w = new Writer()
  for (const d of t.dims) {
    w.int(1, d)
  }
  w.int(2, ONNX_DTYPE[t.dtype])
  w.string(8, t.name)
  if (isExternal(t.data)) {
    const entries: [string, string][] = [
      ['location', t.data.location],
      ['offset', String(t.data.offset)],
      ['length', String(t.data.length)],
    ]
    for (const [k, v] of entries) {
      const e = new Writer()
      e.string(1, k)
      e.string(2, v)
      w.message(13, e)
    }
    w.int(14, 1)
  } else {
    w.bytes(9, t.data)
  }
  return w
}

function attributeWriter(name: string, value: AttributeValue): Writer {
  const w = new Writer()
  w.string(1, name)
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) {
      throw new TypeError(`attribute ${name}: non-integer ${value}; pass {float: x} for a float`)
    }
    w.int(3, value)
    w.int(20, 2)
  } else if (typeof value === 'string') {
    w.string(4, value)
    w.int(20, 3)
  } else if (Array.isArray(value)) {
    w.packedInts(8, value)
    w.int(20, 7)
  } else if ('floats' in value) {
    w.packedFloats(7, value.floats)
    w.int(20, 6)
  } else if ('float' in value) {
    w.float(2, value.float)
    w.int(20, 1)
  } else {
    w.message(5, tensorWriter(value))
    w.int(20, 4)
  }
  return w
}

function nodeWriter(n: NodeProto): Writer {
  const w = new Writer()
  for (const i of n.inputs) {
    w.string(1, i)
  }
  for (const o of n.outputs) {
    w.string(2, o)
  }
  if (n.name !== undefined) {
    w.string(3, n.name)
  }
  w.string(4, n.opType)
  for (const [k, v] of Object.entries(n.attributes ?? {})) {
    w.message(5, attributeWriter(k, v))
  }
  if (n.domain !== undefined && n.domain !== '') {
    w.string(7, n.domain)
  }
  return w
}

function valueInfoWriter(v: ValueInfo): Writer {
  const shape = new Writer()
  for (const d of v.dims) {
    const dim = new Writer()
    if (typeof d === 'number') {
      dim.int(1, d)
    } else {
      dim.string(2, d)
    }
    shape.message(1, dim)
  }
  const tensorType = new Writer()
  tensorType.int(1, ONNX_DTYPE[v.dtype])
  tensorType.message(2, shape)
  const type = new Writer()
  type.message(1, tensorType)
  const w = new Writer()
  w.string(1, v.name)
  w.message(2, type)
  return w
}

function graphWriter(g: GraphProto): Writer {
  const w = new Writer()
  for (const n of g.nodes) {
    w.message(1, nodeWriter(n))
  }
  w.string(2, g.name)
  for (const t of g.initializers) {
    w.message(5, tensorWriter(t))
  }
  for (const i of g.inputs) {
    w.message(11, valueInfoWriter(i))
  }
  for (const o of g.outputs) {
    w.message(12, valueInfoWriter(o))
  }
  for (const v of g.valueInfo ?? []) {
    w.message(13, valueInfoWriter(v))
  }
  return w
}

/** Serialises a ModelProto to protobuf bytes. */
export function encodeModel(m: ModelProto): Uint8Array {
  const w = new Writer()
  w.int(1, m.irVersion)
  w.string(2, m.producerName)
  w.string(3, m.producerVersion)
  w.message(7, graphWriter(m.graph))
  for (const o of m.opsets) {
    const op = new Writer()
    op.string(1, o.domain)
    op.int(2, o.version)
    w.message(8, op)
  }
  return w.finish()
}
