// Small statistics for the bench: medians and spread of the rounds.

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function spread(xs: readonly number[]): { min: number; max: number; spread: number } {
  const min = Math.min(...xs);
  const max = Math.max(...xs);
  const m = median(xs);
  return { min, max, spread: m > 0 ? (max - min) / m : 0 };
}

/** Round to `digits` significant-ish decimals for JSON output. */
export function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
