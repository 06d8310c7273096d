/** Runs a `*Iter` generator to its end, ignoring its progress events: the drained twin of every pipeline call. */
export async function drain<R>(it: AsyncGenerator<unknown, R>): Promise<R> {
  for (;;) {
    const r = await it.next()
    if (r.done === true) {
      return r.value
    }
  }
}
