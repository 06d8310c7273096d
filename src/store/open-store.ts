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

/**
 * Fails now, with the store's own error (locked by another process, not a DuckDB file, read-only),
 * when `path` cannot be opened for writing: work that records into the store at its end calls this
 * first, so a locked store stops it before it writes a YAML or an output folder.
 */
export async function assertStoreWritable(path: string): Promise<void> {
  const db = await openStore({path})
  db.close()
}
