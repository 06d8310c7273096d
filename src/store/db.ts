import { DuckDBDataChunk, DuckDBInstance} from '@duckdb/node-api'
import type {DuckDBAppender, DuckDBValue,DuckDBConnection} from '@duckdb/node-api'
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

/** One column for appendColumns: numbers for numeric columns, strings for VARCHAR. */
export type ColumnData = ArrayLike<number> | readonly string[] | ArrayLike<number | null>

const CHUNK_ROWS = 2048

export async function openDb(params: {path: string; readOnly?: boolean}): Promise<Db> {
  const {path} = params
  let instance: DuckDBInstance
  try {
    instance = await DuckDBInstance.create(path, params.readOnly === true ? {access_mode: 'READ_ONLY'} : {})
  } catch (error) {
    throw storeOpenError(path, error)
  }
  const connection = await instance.connect()
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
  return new StoreError(`${path}: cannot open the database (${firstLine(message)})`, 'DLEC_STORE_OPEN', {cause: error})
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
    await this.connection.run(sql, values as DuckDBValue[] | undefined)
  }

  async all(sql: string, values?: SqlValue[]): Promise<Array<Record<string, SqlValue>>> {
    const reader = await this.connection.runAndReadAll(sql, values as DuckDBValue[] | undefined)
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
    const reader = await this.connection.runAndReadAll(sql, values as DuckDBValue[] | undefined)
    return reader.getRowObjectsJson()
  }

  async appendColumns(table: string, columns: readonly ColumnData[]): Promise<void> {
    const appender: DuckDBAppender = await this.connection.createAppender(table)
    try {
      const rowCount = columns[0]?.length ?? 0
      const types = Array.from({length: appender.columnCount}, (_, i) => appender.columnType(i))
      if (types.length !== columns.length) {
        throw new StoreError(`${table}: ${columns.length} columns given, the table has ${types.length}`)
      }
      for (let start = 0; start < rowCount; start += CHUNK_ROWS) {
        const end = Math.min(rowCount, start + CHUNK_ROWS)
        const chunkColumns = columns.map((column) => sliceColumn(column, start, end))
        const chunk = DuckDBDataChunk.create(types, end - start)
        chunk.setColumns(chunkColumns as DuckDBValue[][])
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

function sliceColumn(column: ColumnData, start: number, end: number): unknown[] {
  const out = new Array<unknown>(end - start)
  for (let i = start; i < end; i++) {
    out[i - start] = column[i]
  }
  return out
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
