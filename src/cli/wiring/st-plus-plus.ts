import type { RegisterCommand } from '../context.ts';
import { runStPlusPlus, type StppArgs } from '../../commands/st-plus-plus.ts';

export const registerStPlusPlus: RegisterCommand = (program, ctx) => {
  program
    .command('st-plus-plus')
    .description('run the ST++ multi-stage self-training pipeline (teacher → reliable selection → pseudo-masks → re-trainings)')
    .option('--config <yaml>', 'experiment config (e.g. experiments/camvid/stpp-1-8.yaml)')
    .option('--data <dir>', 'prepared data folder')
    .option('--split <split>', 'split name (1/8, stpp/1_8/split_0) or a folder with labeled.txt/unlabeled.txt')
    .option('--out <dir>', 'run folder (default runs/<method>-<split>); an existing one is continued')
    .option('--method <name>', 'stpp (default) or st (plain self-training: teacher → pseudo-label all → re-train)')
    .option('--from-stage <n>', 'redo stages n.. even if complete (stpp: 1 teacher, 2 select, 3 pseudo-reliable, 4 retrain, 5 pseudo-unreliable, 6 retrain)')
    .option('--set <key=value...>', 'override config keys, e.g. --set train.epochs=3 stpp.reliable_fraction=0.5')
    .option('--resume <run>', 'continue the run in this folder with its own config.yaml')
    .option('--force', 'delete the run folder and start over')
    .option('--previews', 'also write colourised pseudo-masks to pseudo-color/')
    .option('--pretrained <file>', 'backbone weights (.safetensors or .pth)')
    .action(async (opts: StppArgs) => {
      await runStPlusPlus(opts, ctx.io, ctx.backend);
    });
};
