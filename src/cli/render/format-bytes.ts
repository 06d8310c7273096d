/** 1234567 -> "1.23 MB" (decimal units, like mergekit's shard sizes). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit += 1
  }
  return `${unit === 0 ? value.toFixed(0) : value.toFixed(2)} ${units[unit]}`
}
