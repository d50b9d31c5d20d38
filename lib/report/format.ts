/** Numbers as reports print them. */

/** A signed number with a true minus sign: +0.0123, −0.0040. */
export function formatSigned(x: number, digits = 4): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
}

/** A difference with its interval and p-value in one phrase: "+0.0123 [+0.0050, +0.0190], p = 0.002". */
export function formatDifference(d: { mean: number; low: number; high: number; pValue: number }, digits = 4): string {
  const p = d.pValue < 0.001 ? '< 0.001' : `= ${d.pValue.toFixed(3)}`;
  return `${formatSigned(d.mean, digits)} [${formatSigned(d.low, digits)}, ${formatSigned(d.high, digits)}], p ${p}`;
}
