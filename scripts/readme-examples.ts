/**
 * Every example in README.md, run for real. An example is a fenced code block whose first line is
 * `$ command`: each `$ ` line is run (in README order, in one scratch folder that looks like a fresh
 * clone: the tracked top-level files linked in, nothing the examples write), and the lines after it,
 * up to the next `$ ` line, are what it prints (stdout and stderr together). A line `...` in an
 * output stands for the lines left out: the example keeps as many lines before and after it. A
 * block preceded by `<!-- not run: reason -->` is left alone (and the script lists it).
 *
 *   npx tsx scripts/readme-examples.ts           rewrites the outputs in README.md
 *   npx tsx scripts/readme-examples.ts --check   exits 1, naming each example whose output drifted
 *
 * `dlec` is the bin of this checkout; mergekit-yaml is kept off PATH (the examples show the native
 * engine); dlec's cache, the HF cache and the working folder start empty. Only what varies from run
 * to run is normalised when comparing: the scratch folder (shown as /path/to/dlec, the folder of
 * your clone) and timings / rates (`0.45 s`, `33 ms`, `5346 tokens/s`, `37.69 MB/s` or `906.7 kB/s`).
 */
import {spawnSync} from 'node:child_process'
import {accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

/** What the scratch folder is shown as in the README. */
export const CLONE = '/path/to/dlec'

export interface Example {
  /** The command after `$ `, as the README shows it (a trailing `# comment` included). */
  command: string
  /** README line index (0-based) of the `$ ` line. */
  line: number
  /** The output lines the README shows. */
  expected: string[]
}

/**
 * A block right after this comment is shown but not run, for what cannot run offline on a fresh
 * clone (e.g. `<!-- not run: needs a Hub account -->` before `dlec push`).
 */
export const NOT_RUN = /^<!-- not run: .+ -->$/

/** The examples of a README, in order. */
export function parseReadme(text: string): Example[] {
  const lines = text.split('\n')
  const examples: Example[] = []
  let inBlock = false
  let isExample = false
  let current: Example | undefined
  for (const [i, line] of lines.entries()) {
    if (line.startsWith('```')) {
      if (inBlock && current) {
        examples.push(trimmed(current))
      }
      current = undefined
      inBlock = !inBlock
      isExample = inBlock && (lines[i + 1] ?? '').startsWith('$ ') && !NOT_RUN.test(lines[i - 1] ?? '')
      continue
    }
    if (!inBlock || !isExample) {
      continue
    }
    if (line.startsWith('$ ')) {
      if (current) {
        examples.push(trimmed(current))
      }
      current = {command: line.slice(2), line: i, expected: []}
    } else {
      current?.expected.push(line)
    }
  }
  return examples
}

/** Blank lines between one example's output and the next `$ ` line separate examples. */
function trimmed(example: Example): Example {
  const expected = [...example.expected]
  while (expected.length > 0 && expected[expected.length - 1]?.trim() === '') {
    expected.pop()
  }
  return {...example, expected}
}

/** Timings and rates: the only parts of an output that differ between two runs of the same example. */
export function normalise(line: string): string {
  return line
    .replace(/\b\d+(?:\.\d+)?(?:e[+-]?\d+)? (?:[kKMGT]i?)?B\/s\b/g, '<n> MB/s')
    .replace(/\b\d+(?:\.\d+)?(?:e[+-]?\d+)? (s|ms|tokens\/s)\b/g, '<n> $1')
}

function isElision(line: string): boolean {
  return line.trim() === '...' || line.trim() === '…'
}

/** The lines of `actual` the README shows for `expected`: all of them, or the same head and tail around a `...`. */
export function shown(expected: string[], actual: string[]): string[] {
  const cut = expected.findIndex(isElision)
  if (cut < 0) {
    return actual
  }
  const tail = expected.length - cut - 1
  if (actual.length <= cut + tail) {
    return actual
  }
  return [...actual.slice(0, cut), expected[cut] ?? '...', ...actual.slice(actual.length - tail)]
}

/** One message per example whose output differs from the README (timings aside). */
export function drift(examples: Example[], outputs: string[][]): string[] {
  const problems: string[] = []
  for (const [i, example] of examples.entries()) {
    const actual = shown(example.expected, outputs[i] ?? [])
    const a = actual.map(normalise)
    const e = example.expected.map(normalise)
    const at = a.findIndex((line, k) => line !== e[k])
    if (at >= 0 || a.length !== e.length) {
      const k = at >= 0 ? at : Math.min(a.length, e.length)
      problems.push(`README.md:${example.line + 1}: \`${example.command}\` output line ${k + 1}:\n  README: ${example.expected[k] ?? '(nothing)'}\n  actual: ${actual[k] ?? '(nothing)'}`)
    }
  }
  return problems
}

/** The README with each example's output replaced by what it printed. */
export function render(text: string, examples: Example[], outputs: string[][]): string {
  const lines = text.split('\n')
  for (let i = examples.length - 1; i >= 0; i--) {
    const example = examples[i]
    if (example === undefined) {
      continue
    }
    lines.splice(example.line + 1, example.expected.length, ...shown(example.expected, outputs[i] ?? []))
  }
  return lines.join('\n')
}

/** Runs the examples in order in a fresh scratch clone of `root`; the output lines of each. */
export function runExamples(examples: Example[], root: string): string[][] {
  // The scratch clone's path is as long as CLONE (`/tmp/XXXXXX/d`), so that the columns of a table
  // that shows a path (`dlec config layers`) line up the same after the path is replaced.
  const base = mkdtempSync(existsSync('/tmp') ? '/tmp/' : join(tmpdir(), 'r-'))
  const scratch = join(base, 'd')
  mkdirSync(scratch)
  if (realpathSync(scratch).length !== CLONE.length) {
    console.error(`readme-examples: the scratch folder ${realpathSync(scratch)} is not ${CLONE.length} characters long: table columns next to a path may shift`)
  }
  try {
    for (const entry of trackedTopLevel(root)) {
      symlinkSync(join(root, entry), join(scratch, entry))
    }
    const bin = join(scratch, '.bin')
    mkdirSync(bin)
    writeFileSync(join(bin, 'dlec'), `#!/bin/sh\nexec "${process.execPath}" "${join(scratch, 'bin', 'run.js')}" "$@"\n`, {mode: 0o755})
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: [bin, ...(process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '' && !isExecutable(join(dir, 'mergekit-yaml')))].join(delimiter),
      DLEC_CACHE_DIR: join(scratch, '.cache', 'dlec'),
      XDG_CACHE_HOME: join(scratch, '.cache'),
      HF_HUB_CACHE: join(scratch, '.cache', 'huggingface', 'hub'),
      HF_HUB_OFFLINE: '1',
    }
    const names = [realpathSync(scratch), scratch]
    return examples.map((example) => {
      const r = spawnSync('bash', ['-c', `exec 2>&1\n${example.command}`], {cwd: scratch, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
      let out = r.stdout ?? ''
      for (const name of names) {
        out = out.split(name).join(CLONE)
      }
      return out.replace(/\n+$/, '').split('\n')
    })
  } finally {
    rmSync(base, {recursive: true, force: true})
  }
}

/** The top-level entries of the checkout a fresh clone has after `npm ci && npm run build`. */
function trackedTopLevel(root: string): string[] {
  const r = spawnSync('git', ['ls-files'], {cwd: root, encoding: 'utf8'})
  if (r.status !== 0) {
    throw new Error(`git ls-files in ${root} failed: ${r.stderr}`)
  }
  const entries = new Set(r.stdout.split('\n').filter((f) => f !== '').map((f) => f.split('/')[0] ?? f))
  return [...entries, 'node_modules', 'dist']
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

async function main(): Promise<void> {
  const root = resolve(fileURLToPath(new URL('..', import.meta.url)))
  const readmePath = join(root, 'README.md')
  const text = readFileSync(readmePath, 'utf8')
  const examples = parseReadme(text)
  for (const [i, line] of text.split('\n').entries()) {
    if (NOT_RUN.test(line)) {
      console.error(`README.md:${i + 1}: the block below is not run (${line.slice(5, -4).trim()})`)
    }
  }
  const outputs = runExamples(examples, root)
  if (process.argv.includes('--check')) {
    const problems = drift(examples, outputs)
    for (const p of problems) {
      console.error(p)
    }
    console.error(problems.length === 0 ? `README.md: ${examples.length} examples match` : `README.md: ${problems.length} of ${examples.length} examples drifted (run npx tsx scripts/readme-examples.ts)`)
    process.exitCode = problems.length === 0 ? 0 : 1
    return
  }
  const next = render(text, examples, outputs)
  writeFileSync(readmePath, next)
  console.error(next === text ? `README.md: ${examples.length} examples unchanged` : `README.md: ${examples.length} examples rewritten`)
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main()
}
