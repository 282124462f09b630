/**
 * Loss-weight ramps. CCT's `cosine_rampup` (used by PS-MT): 1 − ½(cos(π·t/T) + 1), t clipped to
 * [0, T]; T = 0 means no ramp.
 */
export function cosineRampup(current: number, length: number): number {
  if (length <= 0) return 1;
  const t = Math.min(Math.max(current, 0), length);
  return 1 - 0.5 * (Math.cos((Math.PI * t) / length) + 1);
}

/** Mean Teacher's sigmoid ramp-up exp(−5(1 − t/T)²) (Tarvainen & Valpola); T = 0 means no ramp. */
export function sigmoidRampup(current: number, length: number): number {
  if (length <= 0) return 1;
  const p = 1 - Math.min(Math.max(current, 0), length) / length;
  return Math.exp(-5 * p * p);
}
