import type { RegisterCommand } from '../context.ts';

export const registerInfo: RegisterCommand = (program, ctx) => {
  program
    .command('info')
    .description('print backend, tfjs version, GPU and wasm state')
    .option('--json', 'one JSON object on stdout')
    .action(async (opts: { json?: boolean }) => {
      const b = await ctx.backend();
      if (opts.json) {
        ctx.io.out(JSON.stringify(b));
        return;
      }
      const yesNo = (v: boolean | null) => (v == null ? 'n/a' : v ? 'yes' : 'no');
      ctx.io.out(`backend:      ${b.name} (${b.provider}, requested ${b.requested})`);
      ctx.io.out(`tfjs:         ${b.tfjsVersion}`);
      ctx.io.out(`GPU:          ${b.gpu ? 'found (CUDA via tfjs-node-gpu)' : 'not found'}`);
      ctx.io.out(`wasm SIMD:    ${yesNo(b.wasmSimd)}`);
      ctx.io.out(`wasm threads: ${yesNo(b.wasmThreads)}`);
    });
};
