import { InvalidArgumentError } from 'commander';
import type { RegisterCommand } from '../context.ts';
import { DEFAULT_REPORT_IMAGES, runReport } from '../../commands/report.ts';

interface ReportFlags {
  out: string;
  /** a count, or false from --no-images */
  images: number | false;
  data?: string;
  title?: string;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export const registerReport: RegisterCommand = (program, ctx) => {
  program
    .command('report')
    .description('training curves and a prediction grid of run folders, as one self-contained HTML page')
    .argument('<runs...>', 'run folders written by `sssseg train` or `sssseg st-plus-plus`')
    .requiredOption('--out <dir>', 'output folder (index.html, report.json, PNGs)')
    .option('--images <n>', 'val images per run in the prediction grid', positiveInt, DEFAULT_REPORT_IMAGES)
    .option('--no-images', 'curves only: no prediction grid (needs no backend)')
    .option('--data <dir>', 'prepared data folder for the grid (default: the one the checkpoint records)')
    .option('--title <text>', 'page title')
    .action(async (runs: string[], flags: ReportFlags) => {
      const images = flags.images === false ? 0 : flags.images;
      await runReport({ runs, out: flags.out, images, data: flags.data, title: flags.title }, ctx.io, () => ctx.backend());
    });
};
