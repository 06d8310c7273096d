/** The calibration / evaluation text formats loadTexts reads. */
export const TEXT_FORMATS = ['auto', 'text', 'jsonl', 'parquet', 'sharegpt'] as const

export type TextFormat = (typeof TEXT_FORMATS)[number]

/** The format `auto` picks from a file name (.jsonl/.json -> jsonl, .parquet -> parquet, else text). */
export function formatFromFileName(file: string): Exclude<TextFormat, 'auto' | 'sharegpt'> {
  if (/\.(jsonl|ndjson|json)$/i.test(file)) {
    return 'jsonl'
  }
  if (/\.parquet$/i.test(file)) {
    return 'parquet'
  }
  return 'text'
}
