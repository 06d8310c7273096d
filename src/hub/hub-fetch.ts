import {HubError} from '../errors.js'
import {describeUrl, redactSecrets} from './redact.js'

/** Default seconds a Hub request may make no progress (no connection, no header, no byte either way). */
export const DEFAULT_HUB_TIMEOUT_MS = 30_000

export interface HubFetchParams {
  fetch?: typeof fetch
  /** Connect and idle timeout: the request fails when nothing moves for this long. */
  timeoutMs?: number
  signal?: AbortSignal
  /** Secrets to keep out of error messages. */
  secrets?: ReadonlyArray<string | undefined>
  /** Called with the byte count of every chunk of a request body as it is sent. */
  onBytesSent?: (bytes: number) => void
}

interface ProgressHint {
  progressCallback?: (progress: number) => void
}

/**
 * A `fetch` for the Hub with a watchdog: the request is aborted when no progress is made for
 * `timeoutMs` (before the connection and the response headers, between body chunks in either
 * direction), and every failure is a HubError naming the method and URL (without its query). Blob
 * request bodies are streamed so that upload progress is seen byte by byte; they keep their
 * Content-Length.
 */
export function hubFetch(params: HubFetchParams = {}): typeof fetch {
  const base = params.fetch ?? fetch
  const timeoutMs = params.timeoutMs ?? DEFAULT_HUB_TIMEOUT_MS
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase()
    const where = `${method} ${describeUrl(url)}`
    const controller = new AbortController()
    let timer: NodeJS.Timeout | undefined
    const timeout = new HubError(`${where}: the Hub did not answer for ${timeoutMs / 1000} s`, 'DLEC_HUB_TIMEOUT')
    const arm = (): void => {
      clearTimeout(timer)
      timer = setTimeout(() => controller.abort(timeout), timeoutMs)
    }
    const disarm = (): void => clearTimeout(timer)
    for (const outer of [init?.signal, params.signal]) {
      if (outer) {
        if (outer.aborted) {
          controller.abort(outer.reason)
        }
        outer.addEventListener('abort', () => controller.abort(outer.reason), {once: true})
      }
    }
    const hint = (init as {progressHint?: ProgressHint} | undefined)?.progressHint
    let body = init?.body
    const headers = new Headers(init?.headers)
    if (body instanceof Blob) {
      const size = body.size
      let sent = 0
      headers.set('content-length', String(size))
      body = body.stream().pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, out) {
            arm()
            sent += chunk.byteLength
            params.onBytesSent?.(chunk.byteLength)
            hint?.progressCallback?.(size === 0 ? 1 : Math.min(0.999_999, sent / size))
            out.enqueue(chunk)
          },
        }),
      )
    }
    arm()
    let response: Response
    try {
      response = await base(url, {...init, headers, body, signal: controller.signal, ...(body instanceof ReadableStream ? {duplex: 'half'} : {})} as RequestInit)
    } catch (error) {
      disarm()
      throw failure(error, where, controller.signal, params.secrets)
    }
    arm()
    if (response.body === null) {
      disarm()
      return response
    }
    const secrets = params.secrets
    const signal = controller.signal
    const watched = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          arm()
          out.enqueue(chunk)
        },
        flush() {
          disarm()
        },
      }),
    )
    const reader = watched.getReader()
    const guarded = new ReadableStream<Uint8Array>({
      async pull(out) {
        try {
          const next = await reader.read()
          if (next.done) {
            disarm()
            out.close()
          } else {
            out.enqueue(next.value)
          }
        } catch (error) {
          disarm()
          out.error(failure(error, where, signal, secrets))
        }
      },
      cancel(reason) {
        disarm()
        return reader.cancel(reason)
      },
    })
    const wrapped = new Response(guarded, {status: response.status, statusText: response.statusText, headers: response.headers})
    Object.defineProperty(wrapped, 'url', {value: response.url || url})
    return wrapped
  }
}

function failure(error: unknown, where: string, signal: AbortSignal, secrets?: ReadonlyArray<string | undefined>): Error {
  if (signal.aborted && signal.reason instanceof Error) {
    return signal.reason
  }
  if (error instanceof HubError) {
    return error
  }
  const e = error as Error & {cause?: {code?: string; message?: string}}
  const detail = e.cause?.code ?? e.cause?.message ?? e.message
  return new HubError(`${where}: ${redactSecrets(String(detail), secrets)}`, 'DLEC_HUB_NETWORK', {cause: error})
}
