import {Command, Errors, Flags} from '@oclif/core'
import {DlecError, InterruptedError, SIGNAL_KINDS, type StopSignal} from '../errors.js'
import {traceEvents} from '../trace.js'
import {loadModelIter, type LoadedModel} from '../model/loaded-model.js'
import {resolveModelIter, type ResolvedModel} from '../model/resolve-model.js'
import {type HubAccessFlagValues, modelLookupOf} from './flags.js'
import {jsonError} from './json-error.js'
import {parseModelArg} from './model-arg.js'
import {renderEvent} from './render/events.js'
import {ProgressView, type Render} from './render/progress.js'

/** The flags of a command taking a model (modelFlags in cli/flags.ts). */
export interface ModelArgFlags extends HubAccessFlagValues {
  revision?: string
}

const STOP_SIGNALS = Object.keys(SIGNAL_KINDS) as StopSignal[]
/** The message of the InterruptedError thrown into a generator at a signal (replaced by its own, if it has one). */
const GENERIC_STOP = 'stopped by a signal'

/** What `consume` does besides draining: how events are shown, and what to keep on a signal. */
export interface ConsumeOptions<E> {
  render?: Render<E>
  /** Runs after the operation has cleaned up on a signal; its text (what was kept) ends the message. */
  onInterrupt?: () => Promise<string | undefined>
}

/**
 * Shared behaviour of every dlec command: --json, --verbose, the mapping of DlecError to a one-line
 * message plus its exit code (never a stack trace for an expected failure), and `consume`, the one
 * seam between a command and a library generator.
 */
export abstract class DlecCommand extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    verbose: Flags.boolean({description: 'Show details of failures (e.g. the output of mergekit).', helpGroup: 'GLOBAL'}),
  }

  /**
   * Runs a long operation: `start(signal)` returns a `*Iter` generator, whose events feed one
   * progress view and whose return value is the result. SIGINT, SIGTERM and SIGHUP abort `signal`;
   * the generator is then closed (its `finally` blocks clean up: temp files, partial outputs, the
   * store's run status) and the command ends with one line and exit 130 / 143 / 129. A second
   * signal during that cleanup does not cut it short.
   */
  protected async consume<E, R>(start: (signal: AbortSignal) => AsyncGenerator<E, R>, options: ConsumeOptions<E> = {}): Promise<R> {
    const controller = new AbortController()
    let received: StopSignal | undefined
    const onSignal = (signal: StopSignal): void => {
      if (received === undefined) {
        received = signal
        controller.abort(signal)
      }
    }
    const handlers = STOP_SIGNALS.map((s) => [s, () => onSignal(s)] as const)
    for (const [s, h] of handlers) {
      process.on(s, h)
    }
    const view = new ProgressView({enabled: !this.jsonEnabled()})
    const it = start(controller.signal)
    try {
      for (;;) {
        let step: IteratorResult<E, R>
        try {
          step = await it.next()
        } catch (error) {
          if (received !== undefined) {
            throw await this.interrupted(received, error, options)
          }
          throw error
        }
        if (step.done === true) {
          return step.value
        }
        traceEvents('%s', (step.value as {type?: string}).type ?? 'event')
        // The event happened: it is shown (and kept by the renderer) even when a signal follows.
        view.show(options.render?.(step.value))
        // A signal is handled between two events even when the operation itself never waits on
        // I/O (a signal handler runs only when the event loop turns).
        await new Promise<void>((resolve) => setImmediate(resolve))
        if (received !== undefined) {
          // Stop the generator at this event: the error runs its catch and finally blocks (cleanup).
          let rethrown: unknown
          try {
            await it.throw(new InterruptedError(GENERIC_STOP))
          } catch (error) {
            rethrown = error
          }
          throw await this.interrupted(received, rethrown, options)
        }
      }
    } finally {
      view.stop()
      for (const [s, h] of handlers) {
        process.off(s, h)
      }
    }
  }

  /**
   * A model argument (folder, `org/name`, `org/name@rev`; `flags.revision` unless `revision: false`)
   * found in the HF cache or downloaded with progress, and read once.
   */
  protected async loadModelArg(arg: string, flags: ModelArgFlags, options: {revision?: boolean; what?: string} = {}): Promise<LoadedModel> {
    const {model, revision} = parseModelArg(arg, options.revision === false ? undefined : flags.revision, options.what)
    return this.consume(() => loadModelIter({model, revision, lookup: modelLookupOf(flags)}), {render: renderEvent})
  }

  /** A model argument found (folder, HF cache, or downloaded with progress), not read. */
  protected async resolveModelArg(arg: string, flags: ModelArgFlags, options: {what?: string} = {}): Promise<ResolvedModel> {
    const {model, revision} = parseModelArg(arg, flags.revision, options.what)
    const lookup = modelLookupOf(flags)
    return this.consume(() => resolveModelIter({...lookup, cacheDir: lookup.hubCache, model, revision}), {render: renderEvent})
  }

  /** The folder of a model argument: a local folder as the user wrote it, a Hub id's snapshot folder. */
  protected async modelDirArg(arg: string, flags: ModelArgFlags, options: {what?: string} = {}): Promise<string> {
    const found = await this.resolveModelArg(arg, flags, options)
    return found.revision === undefined ? arg : found.dir
  }

  private async interrupted<E>(signal: StopSignal, error: unknown, options: ConsumeOptions<E>): Promise<InterruptedError> {
    // The operation's own account of what it stopped (and what it kept), else a generic one.
    const own = error instanceof DlecError && error.kind === 'interrupted' && !error.message.endsWith(GENERIC_STOP)
    const what = own ? error.message : `dlec ${(this.id ?? '').replace(/^dlec:/, '').replaceAll(':', ' ')} stopped by ${signal}`
    let kept: string | undefined
    try {
      kept = await options.onInterrupt?.()
    } catch (keepError) {
      kept = `could not keep the partial results: ${(keepError as Error).message}`
    }
    return new InterruptedError(`${what}${kept ? `; ${kept}` : ''}`, signal)
  }

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (error instanceof Errors.ExitError) {
      throw error
    }
    if (this.jsonEnabled()) {
      // One small object, whatever failed: oclif's own JSON error would carry a parse error's whole
      // context (every flag definition) and exit 1 where the same error without --json exits 2.
      const failure = jsonError(error)
      process.exitCode = failure.exit
      this.logJson({error: failure})
      return undefined
    }
    if (error instanceof DlecError) {
      if (this.argv.includes('--verbose') && error.details) {
        this.logToStderr(error.details)
      }
      process.exitCode = error.exitCode
      // Printed here rather than by oclif, which wraps long messages at the terminal width: a
      // DlecError is one line that names the file / field / layer, and stays one line in logs.
      this.logToStderr(`Error: ${error.message}`)
      return this.exit(error.exitCode)
    }
    return super.catch(error)
  }
}
