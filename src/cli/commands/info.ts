import type { RegisterCommand } from '../context.ts';
import { configCost, formatConfigCost } from '../../models/cost-report.ts';
import { printCheckpointInfo } from '../../io/checkpoint-info.ts';

export const registerInfo: RegisterCommand = (program, ctx) => {
  program
    .command('info')
    .description('print backend, tfjs version, GPU and wasm state; with --config, a model\'s parameters and GFLOPs')
    .argument('[checkpoint]', 'a checkpoint.bin: print its metadata instead')
    .option('--json', 'one JSON object on stdout')
    .option('--config <yaml>', 'experiment config: print its model\'s parameter count and forward GFLOPs per image')
    .option('--input <HxW>', 'input size for --config (default: the config\'s crop)')
    .option('--classes <n>', 'number of classes for --config', (v) => Number(v), 21)
    .action(async (checkpoint: string | undefined, opts: { json?: boolean; config?: string; input?: string; classes: number }) => {
      if (checkpoint !== undefined) return printCheckpointInfo(checkpoint, Boolean(opts.json), ctx.io.out);
      if (opts.config) {
        const c = await configCost(opts.config, { input: opts.input, numClasses: opts.classes });
        if (opts.json) ctx.io.out(JSON.stringify({ gflops: c.gflops, params: c.params, input: c.input, classes: c.numClasses }));
        else formatConfigCost(c).forEach((l) => ctx.io.out(l));
        return;
      }
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
      ctx.io.out(`native:       ${b.native.loaded ? `loaded (oneDNN ${b.native.onednn}, ISA ${b.native.isa}, ${b.native.threads} threads)` : `not loaded (${b.native.reason})`}`);
    });
};
