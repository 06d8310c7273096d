import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import fc from 'fast-check'
import {parseSafetensorsHeader} from '../../src/safetensors/header.js'
import {parseIndexJson} from '../../src/safetensors/index-json.js'
import {ShardedTensorIndex} from '../../src/safetensors/reader.js'
import {safetensorsBytes} from '../helpers/safetensors-file.js'
import {fuzzOptions, isTyped} from './fuzz-options.js'

const tmp = mkdtempSync(join(tmpdir(), 'dlec-fuzz-st-'))
after(() => rmSync(tmp, {recursive: true, force: true}))

const DTYPES = ['F32', 'F16', 'BF16', 'I32', 'U8', 'F64', 'BOOL', 'x', '']
const size = fc.oneof(fc.nat(64), fc.constantFrom(-1, 2 ** 53, 2 ** 64, 1.5, Number.NaN), fc.constant('3'))
const entry = fc.record(
  {dtype: fc.constantFrom(...DTYPES), shape: fc.array(size, {maxLength: 20}), data_offsets: fc.array(size, {maxLength: 3})},
  {requiredKeys: []},
)
/** Headers that are nearly right: real structure with hostile numbers, names and dtypes. */
const header = fc.dictionary(fc.oneof(fc.string({maxLength: 12}), fc.constant('__metadata__')), fc.oneof(entry, fc.jsonValue({maxDepth: 2})), {maxKeys: 6})

/** The file bytes: a header JSON (or garbage) after a length prefix that may lie, then some data. */
const fileBytes = fc.oneof(
  fc.tuple(header, fc.nat(300), fc.integer({min: -16, max: 16})).map(([h, dataBytes, lie]) => {
    const json = Buffer.from(JSON.stringify(h))
    const out = Buffer.alloc(8 + json.length + dataBytes)
    out.writeBigUInt64LE(BigInt(Math.max(0, json.length + lie)), 0)
    json.copy(out, 8)
    return new Uint8Array(out)
  }),
  fc.uint8Array({maxLength: 200}),
  fc.tuple(fc.uint8Array({minLength: 8, maxLength: 8}), fc.uint8Array({maxLength: 64})).map(([p, rest]) => new Uint8Array([...p, ...rest])),
)

describe('fuzz: safetensors header parser and index reader', () => {
  it('parseSafetensorsHeader: any bytes give a valid header or a one-line SafetensorsParseError', () => {
    fc.assert(
      fc.property(fileBytes, (bytes) => {
        try {
          const h = parseSafetensorsHeader(bytes, bytes.byteLength, 'fuzz.safetensors')
          // what it accepts is self-consistent: tensors tile the data section inside the file
          const end = h.tensors.reduce((e, t) => Math.max(e, t.end), 0)
          assert.equal(h.dataStart + end, bytes.byteLength)
        } catch (error) {
          assert.ok(isTyped(error, ['safetensors']), String(error))
        }
      }),
      fuzzOptions(2000),
    )
  })

  it('ShardedTensorIndex.open on a folder of hostile files: only typed errors, nothing written, inputs untouched', async () => {
    const index = fc.oneof(
      fc.jsonValue({maxDepth: 3}).map((v) => JSON.stringify(v)),
      fc.dictionary(fc.string({maxLength: 8}), fc.oneof(fc.constantFrom('model.safetensors', '../x', '/etc/passwd', 'a//b', 'shard.safetensors', ''), fc.string({maxLength: 10})), {maxKeys: 4}).map((m) => JSON.stringify({weight_map: m})),
      fc.string({maxLength: 40}),
    )
    let n = 0
    await fc.assert(
      fc.asyncProperty(fileBytes, fc.option(index), async (bytes, indexText) => {
        const dir = join(tmp, `m${n++}`)
        mkdirSync(dir)
        writeFileSync(join(dir, 'model.safetensors'), bytes)
        if (indexText !== null) {
          writeFileSync(join(dir, 'model.safetensors.index.json'), indexText)
        }
        const before = readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')])
        try {
          const opened = await ShardedTensorIndex.open(dir)
          for (const name of opened.names()) {
            await opened.read(name)
          }
          await opened.close()
        } catch (error) {
          assert.ok(isTyped(error, ['safetensors', 'model']), String(error))
        }
        assert.deepEqual(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')]), before)
        rmSync(dir, {recursive: true})
      }),
      fuzzOptions(300),
    )
  })

  it('parseIndexJson: any text gives shard paths inside the folder, or a SafetensorsParseError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify({weight_map: v})), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
        try {
          for (const file of parseIndexJson(text, 'index.json').weightMap.values()) {
            assert.ok(!file.startsWith('/') && !file.split('/').includes('..'), file)
          }
        } catch (error) {
          assert.ok(isTyped(error, ['safetensors']), String(error))
        }
      }),
      fuzzOptions(2000),
    )
  })

  it('a valid file built by the test helper round-trips (the fuzzer can tell accepted from refused)', () => {
    const bytes = safetensorsBytes([{name: 'w', dtype: 'F32', shape: [2], data: new Uint8Array(8)}])
    assert.equal(parseSafetensorsHeader(bytes, bytes.byteLength, 'ok').tensors.length, 1)
  })
})
