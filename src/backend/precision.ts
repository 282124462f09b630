/**
 * Compute precision of convolutions and matrix products. `bf16` (mixed precision, as PyTorch's
 * CPU autocast): their operands are read in bf16 and they accumulate and write fp32; weights,
 * momentum, BN statistics, losses and softmax stay fp32. It runs on the native backend where
 * oneDNN has bf16 kernels (ISA avx512_core_bf16 or avx512_core_amx) and is refused elsewhere.
 *
 * SSSSEG_BF16_EMULATE=1 is for tests: the same numerics on any CPU (operands rounded to bf16,
 * then fp32 kernels), slower than fp32, so that bf16 training can be checked where the
 * hardware lacks it.
 */
import { SsssegError } from '../errors.ts';

export const PRECISIONS = ['fp32', 'bf16'] as const;
export type Precision = (typeof PRECISIONS)[number];

export const BF16_ISAS = ['avx512_core_bf16', 'avx512_core_amx'] as const;
export const BF16_EMULATE_ENV = 'SSSSEG_BF16_EMULATE';

/** Whether bf16 is emulated (test switch), read at each use. */
export function bf16Emulated(): boolean {
  return process.env[BF16_EMULATE_ENV] === '1';
}

/** What the precision check needs of a backend. */
export interface PrecisionHost {
  name: string;
  native: { loaded: boolean; isa?: string; bf16?: boolean };
}

/** Why `p` cannot run on `backend` (one line), or null when it can. */
export function precisionProblem(p: Precision, backend: PrecisionHost): string | null {
  if (p === 'fp32') return null;
  if (backend.name !== 'native') return `precision bf16 runs on backend native only (this run uses ${backend.name})`;
  if (backend.native.bf16 || bf16Emulated()) return null;
  return `precision bf16 needs oneDNN bf16 kernels (ISA ${BF16_ISAS.join(' or ')}); this CPU's oneDNN ISA is ${backend.native.isa ?? 'unknown'}`;
}

export function assertPrecision(p: Precision, backend: PrecisionHost): void {
  const why = precisionProblem(p, backend);
  if (why) throw new SsssegError('precision.unsupported', why, p === 'bf16' ? 'leave it at fp32, the default' : undefined);
}

/** The precisions `backend` runs, with the emulation marked. */
export function supportedPrecisions(backend: PrecisionHost): string[] {
  return PRECISIONS.filter((p) => precisionProblem(p, backend) == null).map((p) =>
    p === 'bf16' && !backend.native.bf16 ? 'bf16 (emulated: SSSSEG_BF16_EMULATE=1)' : p,
  );
}
