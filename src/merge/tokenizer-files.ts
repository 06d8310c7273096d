/**
 * The files mergekit copies raw from the donor model when it has `tokenizer_config.json` and
 * `tokenizer.json` or `tokenizer.model` (mergekit `merge.py`), in its order.
 */
export const TOKENIZER_FILES = [
  'tokenizer_config.json',
  'special_tokens_map.json',
  'tokenizer.json',
  'tokenizer.model',
  'added_tokens.json',
  'merges.txt',
  'chat_template.jinja',
  'generation_config.json',
  'chat_template.json',
  'video_preprocessor_config.json',
] as const

/**
 * Which of the donor's files to copy. Where mergekit would instead re-save the tokenizer through
 * transformers (no tokenizer.json / tokenizer.model, e.g. a vocab.json + merges.txt BPE), dlec
 * copies the listed files that exist plus `vocab.json`, which loads the same tokenizer. Pure.
 */
export function tokenizerFilesToCopy(donorFiles: Set<string>): string[] {
  const copied: string[] = TOKENIZER_FILES.filter((f) => donorFiles.has(f))
  const raw = donorFiles.has('tokenizer_config.json') && (donorFiles.has('tokenizer.json') || donorFiles.has('tokenizer.model'))
  if (!raw && donorFiles.has('vocab.json')) {
    copied.push('vocab.json')
  }
  return copied
}
