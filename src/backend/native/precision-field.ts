/**
 * The `prec` shape field of the native conv and matmul kernels (native/src/onednn.h Precision)
 * for a kernel's `precision` attr: 0 fp32, 1 bf16 on oneDNN's bf16 kernels, 2 the bf16 emulation.
 */
import { bf16Emulated } from '../precision.ts';
import { SsssegError } from '../../errors.ts';
import { nativeInfo } from './addon.ts';

export function precisionField(precision: string | undefined): 0 | 1 | 2 {
  if (precision == null || precision === 'fp32') return 0;
  if (precision !== 'bf16') throw new SsssegError('precision.unknown', `unknown precision "${precision}" (fp32 or bf16)`);
  const info = nativeInfo();
  if (info.bf16) return 1;
  if (bf16Emulated()) return 2;
  throw new SsssegError('precision.unsupported', `precision bf16 needs oneDNN bf16 kernels; this CPU's oneDNN ISA is ${info.isa ?? 'unknown'}`);
}
