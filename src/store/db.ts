import {DuckDBDataChunk, DuckDBInstance, DuckDBTypeId} from '@duckdb/node-api'
import type {DuckDBAppender, DuckDBConnection, DuckDBType, DuckDBValue} from '@duckdb/node-api'
import bindings from '@duckdb/node-bindings'
import {StoreError} from '../errors.js'

/**
 * The one place that imports @duckdb/node-api. Everything else in dlec talks to DuckDB through
 * `Db`: plain SQL in, plain JS rows out, plus a columnar appender for bulk writes. Opening a file
 * another process holds turns DuckDB's lock error into a one-line StoreError naming the file and
 * the lock holder's PID.
 */
export interface Db {
  /** The database file, or ':memory:'. */
  readonly path: string
  /** Runs SQL (one or more statements) with optional positional `$1` parameters. */
  run(sql: string, values?: SqlValue[]): Promise<void>
  /** Runs a query and returns its rows as objects (BIGINT as number when it fits, else bigint). */
  all(sql: string, values?: SqlValue[]): Promise<Array<Record<string, SqlValue>>>
  /** Runs a query and returns its rows as JSON-like objects (nested lists / structs included). */
  allJson(sql: string, values?: SqlValue[]): Promise<unknown[]>
  /** Appends whole columns to a table in DataChunks of at most 2048 rows. */
  appendColumns(table: string, columns: readonly ColumnData[]): Promise<void>
  close(): void
}

export type SqlValue = string | number | bigint | boolean | null

/** One column for appendColumns: numbers for numeric columns, strings for VARCHAR, or one value repeated. */
export type ColumnData = ArrayLike<number> | readonly string[] | {repeat: string | number}

const CHUNK_ROWS = 2048

/**
 * DuckDB would otherwise install and load extensions on its own, over the network: given a SQLite
 * file as --db it fetches sqlite_scanner. dlec needs none beyond the ones built in (Parquet, JSON).
 */
const NO_EXTENSION_DOWNLOADS = {autoinstall_known_extensions: 'false', autoload_known_extensions: 'false', allow_community_extensions: 'false'} as const

export async function openDb(params: {path: string; readOnly?: boolean}): Promise<Db> {
  const {path} = params
  let instance: DuckDBInstance
  try {
    instance = await DuckDBInstance.create(path, {...(params.readOnly === true ? {access_mode: 'READ_ONLY'} : {}), ...NO_EXTENSION_DOWNLOADS})
  } catch (error) {
    throw storeOpenError(path, error)
  }
  let connection: DuckDBConnection
  try {
    connection = await instance.connect()
  } catch (error) {
    instance.closeSync()
    throw storeOpenError(path, error)
  }
  return new DuckDb(path, instance, connection)
}

/** Runs fn with a throwaway in-memory database (used for reading Parquet files). */
export async function withMemoryDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDb({path: ':memory:'})
  try {
    return await fn(db)
  } finally {
    db.close()
  }
}

/** A SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}

/** A quoted SQL identifier. */
export function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

export function storeOpenError(path: string, error: unknown): StoreError {
  const message = error instanceof Error ? error.message : String(error)
  const lock = /Conflicting lock is held in (.*?) \(PID (\d+)\)/.exec(message)
  if (lock !== null) {
    return new StoreError(
      `${path}: the database is in use by another process (${lock[1]}, PID ${lock[2]}); wait for it to finish or use another --db file`,
      'DLEC_STORE_LOCKED',
      {cause: error},
    )
  }
  if (/Could not set lock/i.test(message)) {
    return new StoreError(`${path}: the database is locked by another process`, 'DLEC_STORE_LOCKED', {cause: error})
  }
  if (/sqlite/i.test(message)) {
    return new StoreError(`${path}: is a SQLite file, not a DuckDB database; give --db a .duckdb file`, 'DLEC_STORE_NOT_DUCKDB', {cause: error})
  }
  if (/not a valid DuckDB database file|Corrupt|checksum|invalid.*database|unable to open database/i.test(message)) {
    return new StoreError(`${path}: not a DuckDB database, or a corrupt one (${shortDuckdbMessage(message)})`, 'DLEC_STORE_CORRUPT', {cause: error})
  }
  return new StoreError(`${path}: cannot open the database (${shortDuckdbMessage(message)})`, 'DLEC_STORE_OPEN', {cause: error})
}

/** A DuckDB error met while using the store, as a StoreError naming the file (no raw engine text beyond one short line). */
export function storeQueryError(path: string, error: unknown): StoreError {
  if (error instanceof StoreError) {
    return error
  }
  const message = error instanceof Error ? error.message : String(error)
  if (/No space left|ENOSPC|disk is full|Disk quota|File too large/i.test(message)) {
    return new StoreError(`${path}: no space left on the device while writing the database`, 'DLEC_STORE_NO_SPACE', {cause: error})
  }
  if (/read-only|Read-only file system|EROFS/i.test(message)) {
    return new StoreError(`${path}: the database is on a read-only file system or opened read-only`, 'DLEC_STORE_READ_ONLY', {cause: error})
  }
  if (/Corrupt|checksum|database has been invalidated|INTERNAL Error/i.test(message)) {
    return new StoreError(`${path}: the database is corrupt or was invalidated by an earlier error (${shortDuckdbMessage(message)})`, 'DLEC_STORE_CORRUPT', {cause: error})
  }
  return new StoreError(`${path}: database error (${shortDuckdbMessage(message)})`, 'DLEC_STORE_QUERY', {cause: error})
}

/** The first line of a DuckDB message, without its long advice paragraphs. */
function shortDuckdbMessage(message: string): string {
  const line = firstLine(message)
  return line.length > 240 ? `${line.slice(0, 237)}...` : line
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text
}

class DuckDb implements Db {
  constructor(
    readonly path: string,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  async run(sql: string, values?: SqlValue[]): Promise<void> {
    try {
      await this.connection.run(sql, values as DuckDBValue[] | undefined)
    } catch (error) {
      throw storeQueryError(this.path, error)
    }
  }

  async all(sql: string, values?: SqlValue[]): Promise<Array<Record<string, SqlValue>>> {
    const reader = await this.connection.runAndReadAll(sql, values as DuckDBValue[] | undefined).catch((error: unknown) => {
      throw storeQueryError(this.path, error)
    })
    const rows = reader.getRowObjectsJS()
    return rows.map((row) => {
      const out: Record<string, SqlValue> = {}
      for (const [key, value] of Object.entries(row)) {
        out[key] = toSqlValue(value)
      }
      return out
    })
  }

  async allJson(sql: string, values?: SqlValue[]): Promise<unknown[]> {
    const reader = await this.connection.runAndReadAll(sql, values as DuckDBValue[] | undefined).catch((error: unknown) => {
      throw storeQueryError(this.path, error)
    })
    return reader.getRowObjectsJson()
  }

  async appendColumns(table: string, columns: readonly ColumnData[]): Promise<void> {
    try {
      await this.appendColumnsRaw(table, columns)
    } catch (error) {
      throw storeQueryError(this.path, error)
    }
  }

  private async appendColumnsRaw(table: string, columns: readonly ColumnData[]): Promise<void> {
    const appender: DuckDBAppender = await this.connection.createAppender(table)
    try {
      const lengths = columns.flatMap((column) => ('repeat' in column ? [] : [column.length]))
      const rowCount = lengths[0] ?? 0
      if (lengths.some((length) => length !== rowCount)) {
        throw new StoreError(`${table}: columns of different lengths (${lengths.join(', ')})`)
      }
      const types = Array.from({length: appender.columnCount}, (_, i) => appender.columnType(i))
      if (types.length !== columns.length) {
        throw new StoreError(`${table}: ${columns.length} columns given, the table has ${types.length}`)
      }
      const writers = columns.map((column, i) => columnWriter(table, i, column, (types[i] as DuckDBType).typeId))
      const chunk = DuckDBDataChunk.create(types)
      for (let start = 0; start < rowCount; start += CHUNK_ROWS) {
        const size = Math.min(rowCount, start + CHUNK_ROWS) - start
        chunk.reset()
        for (const [i, write] of writers.entries()) {
          write(bindings.data_chunk_get_vector(chunk.chunk, i), start, size)
        }
        bindings.data_chunk_set_size(chunk.chunk, size)
        appender.appendDataChunk(chunk)
      }
      appender.flushSync()
    } finally {
      appender.closeSync()
    }
  }

  close(): void {
    this.connection.closeSync()
    this.instance.closeSync()
  }
}

type TypedArrayConstructor = Int32ArrayConstructor | Float32ArrayConstructor | Float64ArrayConstructor

const NUMERIC: Partial<Record<DuckDBTypeId, TypedArrayConstructor | 'bigint'>> = {
  [DuckDBTypeId.INTEGER]: Int32Array,
  [DuckDBTypeId.FLOAT]: Float32Array,
  [DuckDBTypeId.DOUBLE]: Float64Array,
  [DuckDBTypeId.BIGINT]: 'bigint',
}

type VectorWriter = (vector: bindings.Vector, start: number, size: number) => void

/**
 * Writes rows [start, start + size) of one column straight into a DataChunk vector: a typed array of
 * the column's own type is copied as bytes, other numbers are converted into a scratch array first,
 * strings are assigned one by one. This is what makes neuron-level writes run at millions of rows/s.
 */
function columnWriter(table: string, index: number, column: ColumnData, typeId: DuckDBTypeId): VectorWriter {
  if (typeId === DuckDBTypeId.VARCHAR) {
    return (vector, start, size) => {
      for (let r = 0; r < size; r++) {
        bindings.vector_assign_string_element(vector, r, String('repeat' in column ? column.repeat : column[start + r]))
      }
    }
  }
  const kind = NUMERIC[typeId]
  if (kind === undefined) {
    throw new StoreError(`${table}: column ${index + 1} has a type dlec does not append (${DuckDBTypeId[typeId]})`)
  }
  const value = (i: number): number => Number('repeat' in column ? column.repeat : column[i])
  if (kind === 'bigint') {
    const scratch = new BigInt64Array(CHUNK_ROWS)
    return (vector, start, size) => {
      for (let r = 0; r < size; r++) {
        scratch[r] = BigInt(Math.round(value(start + r)))
      }
      bindings.copy_data_to_vector(vector, 0, scratch.buffer, 0, size * 8)
    }
  }
  if (column instanceof kind) {
    const bytes = kind.BYTES_PER_ELEMENT
    return (vector, start, size) => {
      bindings.copy_data_to_vector(vector, 0, column.buffer as ArrayBuffer, column.byteOffset + start * bytes, size * bytes)
    }
  }
  const scratch = new kind(CHUNK_ROWS)
  return (vector, start, size) => {
    for (let r = 0; r < size; r++) {
      scratch[r] = value(start + r)
    }
    bindings.copy_data_to_vector(vector, 0, scratch.buffer, 0, size * kind.BYTES_PER_ELEMENT)
  }
}

function toSqlValue(value: unknown): SqlValue {
  if (value === null || value === undefined) {
    return null
  }
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value
  }
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') {
    return value
  }
  if (value instanceof Date) {
    return value.toISOString()
  }
  return JSON.stringify(value)
}
