import {existsSync} from 'node:fs'
import {StoreError} from '../errors.js'
import {openDb} from './db.js'
import type {Db} from './db.js'
import {ensureSchema} from './schema.js'

/** Opens (creating if needed) a dlec DuckDB file with its schema checked. */
export async function openStore(params: {path: string; readOnly?: boolean}): Promise<Db> {
  if (params.readOnly === true && params.path !== ':memory:' && !existsSync(params.path)) {
    throw new StoreError(`${params.path}: no such database file (run \`dlec profile\` first)`, 'DLEC_STORE_MISSING')
  }
  const db = await openDb(params)
  try {
    await ensureSchema(db, {readOnly: params.readOnly})
  } catch (error) {
    db.close()
    throw error
  }
  return db
}
