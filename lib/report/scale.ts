/** Axis ranges with round tick values ("nice numbers": steps of 1, 2 or 5 × 10^n). */
export function niceTicks(min: number, max: number, target = 5): number[] {
  if (!(max > min)) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / Math.max(target, 1);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  // Ticks are whole multiples of the step, computed from their index rather than by repeated
  // addition, so zero comes out as 0 and not as a rounding residue like -2.78e-17.
  const first = Math.floor(min / step);
  const ticks: number[] = [];
  const at = (i: number) => Number(((first + i) * step).toPrecision(12)) + 0;
  for (let i = 0; at(i) <= max + step * 1e-9; i++) ticks.push(at(i));
  const last = ticks[ticks.length - 1];
  if (last !== undefined && last < max) ticks.push(at(ticks.length));
  return ticks;
}

/** A tick label without float noise: 0.30000000000000004 → "0.3", 12000 → "12000", 2.5e-5 → "2.5e-5". */
export function formatTick(t: number): string {
  if (t === 0) return '0';
  if (Math.abs(t) >= 1e-3 && Math.abs(t) < 1e6) return String(Number(t.toPrecision(6)));
  return t
    .toExponential(2)
    .replace(/\.?0+e/, 'e')
    .replace('e+', 'e');
}
