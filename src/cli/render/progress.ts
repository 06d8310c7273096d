import {MultiBar, type SingleBar} from 'cli-progress'
import {formatBytes} from './format-bytes.js'

/**
 * The one progress style of every command: a cli-progress bar per task (a multi-line view when
 * several run, e.g. expand's plan / merge / check), each with its total, rate and ETA, drawn on
 * stderr; and notes, printed once above the bars. Without a TTY (CI, pipes) only notes are written;
 * with --json nothing is.
 */
export type ProgressUpdate =
  /** A task's progress: `done` of `total` (bytes are shown as sizes, anything else as counts). */
  | {kind: 'bar'; task: string; done: number; total: number; unit: 'bytes' | string}
  /** A line of text (a stage starting, a choice made). */
  | {kind: 'note'; text: string}
  /** A task is finished: its bar is removed. */
  | {kind: 'end'; task: string}

/** Maps a command's events to what the view shows; undefined shows nothing. */
export type Render<E> = (event: E) => ProgressUpdate | ProgressUpdate[] | undefined

interface Task {
  bar: SingleBar
  started: number
  unit: string
}

export class ProgressView {
  private readonly bars: boolean
  private multi?: MultiBar
  private readonly tasks = new Map<string, Task>()

  constructor(private readonly options: {enabled: boolean; stream?: NodeJS.WriteStream}) {
    this.bars = options.enabled && (options.stream ?? process.stderr).isTTY === true
  }

  show(update: ProgressUpdate | ProgressUpdate[] | undefined): void {
    if (!this.options.enabled || update === undefined) {
      return
    }
    for (const u of Array.isArray(update) ? update : [update]) {
      this.apply(u)
    }
  }

  stop(): void {
    this.multi?.stop()
    this.multi = undefined
    this.tasks.clear()
  }

  private apply(u: ProgressUpdate): void {
    const stream = this.options.stream ?? process.stderr
    if (u.kind === 'note') {
      if (this.multi) {
        this.multi.log(`${u.text}\n`)
      } else {
        stream.write(`${u.text}\n`)
      }
      return
    }
    if (!this.bars) {
      return
    }
    if (u.kind === 'end') {
      const task = this.tasks.get(u.task)
      if (task) {
        this.multi?.remove(task.bar)
        this.tasks.delete(u.task)
      }
      return
    }
    this.multi ??= new MultiBar({
      stream,
      hideCursor: true,
      clearOnComplete: true,
      format: '{task} {bar} {percentage}% | {progress} | {rate} | ETA {eta_formatted}',
      etaBuffer: 50,
      fps: 5,
    })
    let task = this.tasks.get(u.task)
    if (!task) {
      task = {bar: this.multi.create(Math.max(u.total, 1), 0, {task: u.task, progress: '', rate: '-'}), started: Date.now(), unit: u.unit}
      this.tasks.set(u.task, task)
    }
    const seconds = Math.max(1e-3, (Date.now() - task.started) / 1000)
    const size = (n: number): string => (u.unit === 'bytes' ? formatBytes(n) : `${Math.round(n).toLocaleString('en-US')}`)
    task.bar.setTotal(Math.max(u.total, 1))
    task.bar.update(u.done, {
      task: u.task,
      progress: `${size(u.done)}/${size(u.total)}${u.unit === 'bytes' ? '' : ` ${u.unit}`}`,
      rate: `${size(u.done / seconds)}${u.unit === 'bytes' ? '' : ` ${u.unit}`}/s`,
    })
  }
}
