const enc = new TextEncoder()

/**
 * Protobuf wire-format writer: accumulates one message's bytes; nested messages are encoded first
 * and written length-delimited. int64 values are varints of their two's complement (negative
 * values take 10 bytes). Pure.
 */
export class ProtobufWriter {
  private readonly parts: Uint8Array[] = []
  private size = 0

  private push(bytes: Uint8Array): void {
    this.parts.push(bytes)
    this.size += bytes.length
  }

  varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value))
    const out: number[] = []
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80)
      v >>= 7n
    }
    out.push(Number(v))
    this.push(Uint8Array.from(out))
  }

  tag(field: number, wire: 0 | 1 | 2 | 5): void {
    this.varint((field << 3) | wire)
  }

  int(field: number, value: number): void {
    this.tag(field, 0)
    this.varint(value)
  }

  bytes(field: number, value: Uint8Array): void {
    this.tag(field, 2)
    this.varint(value.length)
    this.push(value)
  }

  string(field: number, value: string): void {
    this.bytes(field, enc.encode(value))
  }

  float(field: number, value: number): void {
    this.tag(field, 5)
    const b = new Uint8Array(4)
    new DataView(b.buffer).setFloat32(0, value, true)
    this.push(b)
  }

  packedInts(field: number, values: number[]): void {
    const w = new ProtobufWriter()
    for (const v of values) {
      w.varint(v)
    }
    this.bytes(field, w.finish())
  }

  packedFloats(field: number, values: number[]): void {
    const b = new Uint8Array(values.length * 4)
    const view = new DataView(b.buffer)
    values.forEach((v, i) => view.setFloat32(i * 4, v, true))
    this.bytes(field, b)
  }

  message(field: number, body: ProtobufWriter): void {
    this.bytes(field, body.finish())
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size)
    let at = 0
    for (const p of this.parts) {
      out.set(p, at)
      at += p.length
    }
    return out
  }
}
