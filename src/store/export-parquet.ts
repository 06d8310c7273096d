import {withTempFile} from '../fs/write-atomic.js'
import {StoreError} from '../errors.js'
import {sqlIdentifier, sqlString, withMemoryDb} from './db.js'

export interface ParquetColumn {
  name: string
  type: 'INTEGER' | 'DOUBLE' | 'VARCHAR' | 'BOOLEAN'
  values: ReadonlyArray<number | string | boolean | null>
}

/**
 * Writes columns to a Parquet file through an in-memory DuckDB: written to `<path>.tmp`, then
 * renamed, so a failure never leaves a half-written file at `path`.
 */
export async function exportParquet(params: {path: string; columns: readonly ParquetColumn[]}): Promise<void> {
  const {path, columns} = params
  try {
    await withTempFile(path, (tmp) => withMemoryDb(async (db) => {
      await db.run(`CREATE TABLE t (${columns.map((c) => `${sqlIdentifier(c.name)} ${c.type}`).join(', ')})`)
      const rowCount = columns[0]?.values.length ?? 0
      for (let r = 0; r < rowCount; r++) {
        const values = columns.map((c) => c.values[r] ?? null)
        await db.run(`INSERT INTO t VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})`, values)
      }
      await db.run(`COPY t TO ${sqlString(tmp)} (FORMAT parquet)`)
    }))
  } catch (error) {
    throw new StoreError(`${path}: cannot write Parquet (${error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)})`, 'DLEC_STORE_EXPORT')
  }
}
