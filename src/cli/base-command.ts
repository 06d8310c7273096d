import {Command, Errors, Flags} from '@oclif/core'
import {DlecError} from '../errors.js'

/**
 * Shared behaviour of every dlec command: --json, --verbose, and the mapping of DlecError to a
 * one-line message plus its exit code (never a stack trace for an expected failure).
 */
export abstract class DlecCommand extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    verbose: Flags.boolean({description: 'Show details of failures (e.g. the output of mergekit).', helpGroup: 'GLOBAL'}),
  }

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (error instanceof DlecError) {
      if (this.argv.includes('--verbose') && error.details) {
        this.logToStderr(error.details)
      }
      process.exitCode = error.exitCode
      if (this.jsonEnabled()) {
        return super.catch(new Errors.CLIError(error.message, {code: error.code, exit: error.exitCode}))
      }
      // Printed here rather than by oclif, which wraps long messages at the terminal width: a
      // DlecError is one line that names the file / field / layer, and stays one line in logs.
      this.logToStderr(`Error: ${error.message}`)
      return this.exit(error.exitCode)
    }
    return super.catch(error)
  }
}
