import {execFile} from 'node:child_process'
import {fileURLToPath} from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const STORIES = fileURLToPath(new URL('../../fixtures/stories260K/', import.meta.url))
export const GENERATED = fileURLToPath(new URL('../../fixtures/generated/', import.meta.url))

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * Runs the standalone `dlec` bin (bin/run.js, built dist/) as a real child process, the way a user
 * does. `npm test` builds dist/ first.
 */
export function dlec(args: string[], options: {cwd?: string; env?: NodeJS.ProcessEnv} = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [`${ROOT}bin/run.js`, ...args],
      {cwd: options.cwd ?? ROOT, env: {...process.env, ...options.env}, maxBuffer: 64 * 1024 * 1024},
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({code, stdout, stderr})
      },
    )
  })
}

/** Path of the test Python (the venv made by scripts/setup-python.sh); tests needing it fail without it. */
export function python(): string {
  const p = process.env.DLEC_PYTHON
  if (!p) {
    throw new Error('DLEC_PYTHON is not set: run the tests with `npm test` (it sets up the Python venv)')
  }
  return p
}
