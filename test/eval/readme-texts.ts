import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {STORIES} from '../helpers/cli.js'

/** A code block of the stories260K README, under the heading that starts with `heading`. */
export function readmeBlock(heading: string): string {
  const section = readFileSync(join(STORIES, 'README.md'), 'utf8').split(`## ${heading}`)[1] ?? ''
  const block = /```\n([\s\S]*?)\n```/.exec(section)
  assert.ok(block?.[1], `README block under ${heading}`)
  return block[1]
}

/** The README's perplexity paragraph. */
export const readmeParagraph = (): string => readmeBlock('Perplexity')
