// Order statistics of a run's samples.

export interface Summary {
  median: number;
  min: number;
  max: number;
  p25: number;
  p75: number;
}

/** The value at quantile `q` (0..1), linearly interpolated between the nearest ranks. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('quantile of no samples');
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = sorted[lower] as number;
  const high = sorted[upper] as number;
  return low + (high - low) * (position - lower);
}

export function summarise(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    median: quantile(sorted, 0.5),
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
    p25: quantile(sorted, 0.25),
    p75: quantile(sorted, 0.75),
  };
}
