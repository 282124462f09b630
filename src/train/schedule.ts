/**
 * Poly LR per iteration, lr_t = lr0·(1 − t/T)^power (every anchor repo), with an optional linear
 * warm-up over the first `warmup` iterations.
 */
export function polyLr(base: number, iteration: number, total: number, power: number, warmup = 0): number {
  if (warmup > 0 && iteration < warmup) return (base * (iteration + 1)) / warmup;
  const frac = Math.min(iteration / Math.max(total, 1), 1);
  return base * Math.pow(1 - frac, power);
}
