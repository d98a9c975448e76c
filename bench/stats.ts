/** Median, min and max of one figure over the runs of one method; the median is what tables and ratios use. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? upper) + upper) / 2;
}

/** Undefined when no run produced the figure (the method has no such figure, or every run failed). */
export function summarize(values: readonly (number | undefined)[]): Summary | undefined {
  const present = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (present.length === 0) return undefined;
  return { median: median(present), min: Math.min(...present), max: Math.max(...present), n: present.length };
}
