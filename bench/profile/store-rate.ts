/**
 * Rows/s of dlec's DuckDB writes (bench/profile): N neuron-level rows appended through the store's
 * DataChunk path into a file database in one transaction, in the activations table's shape (run,
 * sample, position, point, neuron, value) and in the 3-column shape (point, neuron, value) that
 * reference/stack.md measured. Prints one JSON line.
 *
 * usage: node --import tsx bench/profile/store-rate.ts N DB_DIR
 */
import {rmSync} from 'node:fs'
import {join} from 'node:path'
import {openDb} from '../../src/store/db.js'
import {openStore} from '../../src/store/open-store.js'

const n = Number(process.argv[2] ?? 10_000_000)
const dir = process.argv[3] ?? '/tmp'
const hidden = 4096
const point = new Int32Array(n)
const neuron = new Int32Array(n)
const sample = new Int32Array(n)
const value = new Float32Array(n)
for (let i = 0; i < n; i++) {
  neuron[i] = i % hidden
  point[i] = Math.floor(i / hidden) % 33
  sample[i] = Math.floor(i / (hidden * 33))
  value[i] = Math.sin(i)
}
const result: Record<string, number> = {rows: n}
const path6 = join(dir, 'store-rate-6.duckdb')
rmSync(path6, {force: true})
const store = await openStore({path: path6})
let t = performance.now()
await store.run('BEGIN TRANSACTION')
await store.appendColumns('activations', [{repeat: 1}, sample, new Int32Array(n), point, neuron, value])
await store.run('COMMIT')
result.activations_rows_per_s = n / ((performance.now() - t) / 1000)
store.close()
const path3 = join(dir, 'store-rate-3.duckdb')
rmSync(path3, {force: true})
const db = await openDb({path: path3})
await db.run('CREATE TABLE t (point INTEGER, neuron INTEGER, value FLOAT)')
t = performance.now()
await db.run('BEGIN TRANSACTION')
await db.appendColumns('t', [point, neuron, value])
await db.run('COMMIT')
result.three_column_rows_per_s = n / ((performance.now() - t) / 1000)
db.close()
rmSync(path6, {force: true})
rmSync(path3, {force: true})
console.log(JSON.stringify(result))
