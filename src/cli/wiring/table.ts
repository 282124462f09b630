import { Option } from 'commander';
import type { RegisterCommand } from '../context.ts';
import { runTable, TABLE_METRICS, type TableMetric } from '../../commands/table.ts';

interface TableFlags {
  out?: string;
  csv?: string;
  metric: TableMetric;
  skipMissing?: boolean;
}

export const registerTable: RegisterCommand = (program, ctx) => {
  program
    .command('table')
    .description('gather run results into a method x split table (Markdown on stdout)')
    .argument('<runs...>', 'run folders, each with a results.json')
    .option('--out <prefix>', 'also write <prefix>.md and <prefix>.csv')
    .option('--csv <file>', 'also write the table as CSV to <file>')
    .addOption(new Option('--metric <name>', 'metric in the cells').choices(TABLE_METRICS).default('miou'))
    .option('--skip-missing', 'warn about and skip folders without a readable results.json')
    .action(async (runs: string[], flags: TableFlags) => {
      await runTable({ runs, ...flags }, ctx.io);
    });
};
