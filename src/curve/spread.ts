/**
 * Picks k items spread evenly over a list (the middle of each of k equal parts); with k larger than
 * the list it goes round again, so an item may be picked twice. Pure.
 */
export function spreadEvenly<T>(items: readonly T[], k: number): T[] {
  const out: T[] = []
  const n = items.length
  if (n === 0) {
    return out
  }
  for (let m = 0; m < k; m++) {
    const round = Math.floor(m / n)
    const inRound = Math.min(n, k - round * n)
    const pos = m - round * n
    const idx = Math.min(n - 1, Math.floor(((pos + 0.5) * n) / inRound))
    out.push(items[idx] as T)
  }
  return out
}
