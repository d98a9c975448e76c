/** Durations for tables: three significant digits, ms below a second. */
export function formatMs(value: number): string {
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  if (value >= 10) return `${value.toFixed(0)} ms`;
  return `${value.toFixed(1)} ms`;
}

export function formatBytes(value: number): string {
  const units: [string, number][] = [
    ["GiB", 2 ** 30],
    ["MiB", 2 ** 20],
    ["KiB", 2 ** 10],
  ];
  for (const [unit, factor] of units) if (value >= factor) return `${(value / factor).toFixed(value >= 10 * factor ? 0 : 1)} ${unit}`;
  return `${value} B`;
}

/** A decade on a log axis: 1 ms, 10 ms, 100 ms, 1 s, 10 s, 100 s. */
export function formatDecade(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)} s` : ms >= 1 ? `${Math.round(ms)} ms` : `${ms} ms`;
}
