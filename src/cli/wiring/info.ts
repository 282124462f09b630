import type { RegisterCommand } from '../context.ts';
import { printBackendInfo, printCheckpointInfo, printConfigCost } from '../../commands/info.ts';

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
      const json = Boolean(opts.json);
      if (checkpoint !== undefined) return printCheckpointInfo(checkpoint, json, ctx.io.out);
      if (opts.config) return printConfigCost(opts.config, { input: opts.input, numClasses: opts.classes, json }, ctx.io);
      printBackendInfo(await ctx.backend(), json, ctx.io);
    });
};
