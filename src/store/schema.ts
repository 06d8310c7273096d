import {StoreError} from '../errors.js'
import type {Db} from './db.js'

/**
 * The dlec DuckDB schema, version SCHEMA_VERSION. Every table is keyed by `run_id` (an integer:
 * bulk tables stay narrow and fast to append); `runs.name` is the name users type (--run, --resume).
 *
 * - meta(key, value): `schema_version` and the dlec version that created the file.
 * - runs: one row per profile run: run_id, name, model folder and weight hash, layer sequence (JSON list),
 *   data file and hash, sample/token counts, options (JSON), status `running` | `complete` |
 *   `failed`, the error of a failed run, `next_sample` (resume point), timings.
 * - layer_stats(run_id, sample, layer, tokens, norm_in_sum, norm_out_sum, cos_sum, angular_sum):
 *   per layer position of the sequence and per sample, sums over positions >= 1 of ||h_in||,
 *   ||h_out||, cos(h_in, h_out) and the angular distance arccos(cos)/pi. Means = sum / tokens.
 * - block_stats(run_id, sample, start, n, tokens, cos_sum, angular_sum): the same between h_start
 *   and h_(start+n), n = 1..8 (the seam cost of the block [start, start+n)).
 * - neuron_stats(run_id, point, neuron, count, sum, sum_sq, sum_abs, max_abs): running statistics of
 *   the hidden state h_point (point 0 = embeddings, point k = output of the k-th layer of the sequence,
 *   before the final norm) over all samples and positions >= 1.
 * - activations(run_id, sample, position, point, neuron, value): optional raw values of h_0..h_L, and
 *   as point L+1 the final-norm output (transformers' last `hidden_states` entry, which the original
 *   DLEC stored as its last layer).
 * - evals(eval_id, run_id, strategy, layers, added_layers, params, loss, kl, top1, extra, created,
 *   tokens, kl_lo, kl_hi, dloss_lo, dloss_hi, top1_lo, top1_hi): evaluations of layer sequences
 *   (curve and plan search write here), with the predicted tokens they were measured on and their
 *   95% paired bootstrap intervals (version 2; null where unmeasured).
 *
 * Migrations: a version 1 file opened for writing gets the version 2 columns of `evals` (ALTER
 * TABLE, in one transaction); opened read-only it is read as it is (the new columns read as null).
 */
export const SCHEMA_VERSION = 2

/** Columns added by each version, as ALTER TABLE statements run in order. */
const MIGRATIONS: Record<number, string> = {
  2: ['tokens BIGINT', 'kl_lo DOUBLE', 'kl_hi DOUBLE', 'dloss_lo DOUBLE', 'dloss_hi DOUBLE', 'top1_lo DOUBLE', 'top1_hi DOUBLE'].map((c) => `ALTER TABLE evals ADD COLUMN ${c};`).join('\n'),
}

const TABLES = `
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  run_id INTEGER PRIMARY KEY, name VARCHAR NOT NULL UNIQUE, model VARCHAR NOT NULL, model_hash VARCHAR, layers VARCHAR NOT NULL,
  num_layers INTEGER NOT NULL, hidden_size INTEGER NOT NULL, data_source VARCHAR NOT NULL, data_hash VARCHAR NOT NULL,
  samples INTEGER NOT NULL, next_sample INTEGER NOT NULL DEFAULT 0, tokens BIGINT NOT NULL DEFAULT 0,
  options VARCHAR NOT NULL, status VARCHAR NOT NULL, error VARCHAR,
  started TIMESTAMP NOT NULL, finished TIMESTAMP, seconds DOUBLE);
CREATE TABLE IF NOT EXISTS layer_stats (
  run_id INTEGER NOT NULL, sample INTEGER NOT NULL, layer INTEGER NOT NULL, tokens INTEGER NOT NULL,
  norm_in_sum DOUBLE NOT NULL, norm_out_sum DOUBLE NOT NULL, cos_sum DOUBLE NOT NULL, angular_sum DOUBLE NOT NULL);
CREATE TABLE IF NOT EXISTS block_stats (
  run_id INTEGER NOT NULL, sample INTEGER NOT NULL, start INTEGER NOT NULL, n INTEGER NOT NULL, tokens INTEGER NOT NULL,
  cos_sum DOUBLE NOT NULL, angular_sum DOUBLE NOT NULL);
CREATE TABLE IF NOT EXISTS neuron_stats (
  run_id INTEGER NOT NULL, point INTEGER NOT NULL, neuron INTEGER NOT NULL, count BIGINT NOT NULL,
  sum DOUBLE NOT NULL, sum_sq DOUBLE NOT NULL, sum_abs DOUBLE NOT NULL, max_abs DOUBLE NOT NULL);
CREATE TABLE IF NOT EXISTS activations (
  run_id INTEGER NOT NULL, sample INTEGER NOT NULL, position INTEGER NOT NULL, point INTEGER NOT NULL,
  neuron INTEGER NOT NULL, value FLOAT NOT NULL);
CREATE TABLE IF NOT EXISTS evals (
  eval_id INTEGER PRIMARY KEY, run_id INTEGER, strategy VARCHAR NOT NULL, layers VARCHAR NOT NULL,
  added_layers VARCHAR NOT NULL, params BIGINT, loss DOUBLE, kl DOUBLE, top1 DOUBLE, extra VARCHAR,
  created TIMESTAMP NOT NULL DEFAULT current_timestamp,
  tokens BIGINT, kl_lo DOUBLE, kl_hi DOUBLE, dloss_lo DOUBLE, dloss_hi DOUBLE, top1_lo DOUBLE, top1_hi DOUBLE);
`

/**
 * Creates the tables in a new file, or checks the version of an existing one: a file written by an
 * older or newer dlec is refused with a message saying which.
 */
export async function ensureSchema(db: Db, params: {readOnly?: boolean} = {}): Promise<void> {
  const hasMeta = await db.all(`SELECT 1 AS x FROM information_schema.tables WHERE table_name = 'meta' AND table_schema = 'main'`)
  if (hasMeta.length === 0) {
    const others = await db.all(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' LIMIT 1`)
    if (others.length > 0) {
      throw new StoreError(`${db.path}: not a dlec database (it has tables but no meta table)`, 'DLEC_STORE_FOREIGN')
    }
    if (params.readOnly === true) {
      throw new StoreError(`${db.path}: the database is empty (run \`dlec profile\` first)`, 'DLEC_STORE_EMPTY')
    }
    await db.run('BEGIN TRANSACTION')
    await db.run(TABLES)
    await db.run(`INSERT INTO meta VALUES ('schema_version', '${SCHEMA_VERSION}')`)
    await db.run('COMMIT')
    return
  }
  const rows = await db.all(`SELECT value FROM meta WHERE key = 'schema_version'`)
  const version = Number(rows[0]?.value)
  if (Number.isInteger(version) && version >= 1 && version < SCHEMA_VERSION) {
    if (params.readOnly === true) {
      return
    }
    await db.run('BEGIN TRANSACTION')
    try {
      for (let v = version + 1; v <= SCHEMA_VERSION; v++) {
        await db.run(MIGRATIONS[v] as string)
      }
      await db.run(`UPDATE meta SET value = '${SCHEMA_VERSION}' WHERE key = 'schema_version'`)
      await db.run('COMMIT')
    } catch (error) {
      await db.run('ROLLBACK')
      throw new StoreError(`${db.path}: cannot upgrade the store from schema version ${version} to ${SCHEMA_VERSION} (${error instanceof Error ? error.message : String(error)})`, 'DLEC_STORE_VERSION', {cause: error})
    }
    return
  }
  if (version !== SCHEMA_VERSION) {
    const which = !Number.isFinite(version) ? 'an unknown' : version < SCHEMA_VERSION ? 'an older' : 'a newer'
    throw new StoreError(
      `${db.path}: written with ${which} dlec store schema (version ${rows[0]?.value ?? 'missing'}; this dlec reads version ${SCHEMA_VERSION}); profile into a new --db file${version > SCHEMA_VERSION ? ' or upgrade dlec' : ''}`,
      'DLEC_STORE_VERSION',
    )
  }
}
