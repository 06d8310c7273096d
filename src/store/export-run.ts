import {mkdirSync} from 'node:fs'
import {withTempFile} from '../fs/write-atomic.js'
import {join} from 'node:path'
import {StoreError} from '../errors.js'
import {sqlString} from './db.js'
import {openStore} from './open-store.js'
import {findRun} from './runs.js'

export const RUN_TABLES = ['runs', 'layer_stats', 'block_stats', 'neuron_stats', 'activations'] as const

/**
 * Writes one run's rows of every table to `<outDir>/<table>.parquet` (each through a temporary file
 * renamed into place), for pandas / polars / DuckDB users. Returns the files written.
 */
export async function exportRunTables(params: {dbPath: string; run?: string; outDir: string}): Promise<{run: string; files: Record<string, number>}> {
  const db = await openStore({path: params.dbPath, readOnly: true})
  try {
    const run = await findRun(db, params.run)
    mkdirSync(params.outDir, {recursive: true})
    const files: Record<string, number> = {}
    for (const table of RUN_TABLES) {
      const path = join(params.outDir, `${table}.parquet`)
      try {
        await withTempFile(path, (tmp) => db.run(`COPY (SELECT * FROM ${table} WHERE run_id = ${run.runId}) TO ${sqlString(tmp)} (FORMAT parquet)`))
      } catch (error) {
        throw new StoreError(`${path}: cannot write Parquet (${error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)})`, 'DLEC_STORE_EXPORT')
      }
      const count = await db.all(`SELECT count(*) AS n FROM ${table} WHERE run_id = $1`, [run.runId])
      files[path] = Number(count[0]?.n ?? 0)
    }
    return {run: run.name, files}
  } finally {
    db.close()
  }
}
