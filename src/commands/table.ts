/**
 * `sssseg table`: gather run folders' results.json into a paper-style table (rows = method,
 * columns = split, cells = metric ×100), with the gain of each method over SupOnly.
 */
import type { Io } from '../output.ts';
import { SsssegError } from '../errors.ts';
import { displayMethod } from '../methods/index.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { markdownTable, readRunResults, toCsv, type RunResults } from '../io/results.ts';

export const TABLE_METRICS = ['miou', 'pixel_acc'] as const;
export type TableMetric = (typeof TABLE_METRICS)[number];

export interface TableOptions {
  runs: string[];
  /** write `<out>.md` and `<out>.csv` (a trailing .md or .csv on the prefix is dropped) */
  out?: string;
  /** write the CSV to this file */
  csv?: string;
  metric?: TableMetric;
  /** warn about and skip folders without a readable results.json instead of failing */
  skipMissing?: boolean;
}

export interface TableCell {
  /** mean over the runs of this method and column (seeds), as a fraction */
  value: number;
  /** sample standard deviation over the runs (0 for a single run) */
  std: number;
  runs: number;
}

export interface TableResult {
  metric: TableMetric;
  /** method ids, SupOnly (`sup`) first */
  methods: string[];
  /** column labels: split, or dataset/split when several data sets are mixed */
  columns: string[];
  cells: Record<string, Record<string, TableCell>>;
  /** method → column → gain over SupOnly (fraction), where both exist */
  gains: Record<string, Record<string, number>>;
  markdown: string;
  csv: string;
  files: string[];
  skipped: string[];
}

/** Baseline method id: the supervised-only run of a split. */
export const SUP_METHOD = 'sup';


export async function runTable(opts: TableOptions, io: Io): Promise<TableResult> {
  const metric = opts.metric ?? 'miou';
  if (!(TABLE_METRICS as readonly string[]).includes(metric)) {
    throw new SsssegError('table.metric', `unknown metric "${metric}"; choose one of ${TABLE_METRICS.join(', ')}`);
  }
  const { results, dirs, skipped } = await gather(opts.runs, Boolean(opts.skipMissing), io);
  const multiDataset = new Set(results.map((r) => r.dataset)).size > 1;
  const columnOf = (r: RunResults) => (multiDataset ? `${r.dataset}/${r.split}` : r.split);
  checkSeeds(results, dirs, columnOf);
  const columns = orderColumns(results, columnOf);
  const methods = orderMethods(results.map((r) => r.method));
  const cells = averageCells(results, columnOf, (r) => r.metrics[metric]);
  const gains = gainsOverSup(cells, methods, columns);
  const markdown = [
    renderMarkdown(metric, methods, columns, cells, gains),
    renderWallTime(averageCells(results, columnOf, (r) => r.wall_time_s), methods, columns),
    provenance(results),
  ].join('\n\n');
  const csv = renderCsv(methods, columns, cells, gains);
  io.out(markdown);
  const files: string[] = [];
  const write = async (file: string, text: string) => {
    await writeFileAtomic(file, text);
    files.push(file);
  };
  if (opts.out) {
    const prefix = opts.out.replace(/\.(md|csv)$/i, '');
    await write(`${prefix}.md`, markdown + '\n');
    await write(`${prefix}.csv`, csv);
  }
  if (opts.csv) await write(opts.csv, csv);
  if (files.length > 0) io.err(`wrote ${files.join(' and ')}`);
  return { metric, methods, columns, cells, gains, markdown, csv, files, skipped };
}

async function gather(runs: string[], skipMissing: boolean, io: Io): Promise<{ results: RunResults[]; dirs: string[]; skipped: string[] }> {
  if (runs.length === 0) throw new SsssegError('table.noRuns', 'no run folders given');
  const results: RunResults[] = [];
  const dirs: string[] = [];
  const skipped: string[] = [];
  for (const dir of runs) {
    try {
      results.push(await readRunResults(dir));
      dirs.push(dir);
    } catch (err) {
      if (!skipMissing || !(err instanceof SsssegError) || !err.code.startsWith('results.')) throw err;
      io.err(`warning: skipping ${dir}: ${err.message}`);
      skipped.push(dir);
    }
  }
  if (results.length === 0) throw new SsssegError('table.empty', `none of the ${runs.length} run folders has a readable results.json`);
  return { results, dirs, skipped };
}

/**
 * A cell averages the runs of one method and column as seeds. Two of them with the same seed are
 * two settings of the method (e.g. U2PL with and without the full teacher copy), and their mean
 * would describe neither: name both folders instead.
 */
function checkSeeds(results: RunResults[], dirs: string[], columnOf: (r: RunResults) => string): void {
  const seen = new Map<string, string>();
  results.forEach((r, i) => {
    if (r.seed === undefined) return;
    const key = `${r.method}\u0000${columnOf(r)}\u0000${r.seed}`;
    const other = seen.get(key);
    if (other !== undefined) {
      throw new SsssegError(
        'table.sameSeed',
        `${other} and ${dirs[i]} are both ${r.method} on ${columnOf(r)} with seed ${r.seed}: a cell averages seeds, not different settings`,
        'make one table per setting, e.g. sssseg table runs/peer/sup-s0 runs/peer/u2pl-official-s0',
      );
    }
    seen.set(key, dirs[i]!);
  });
}

/** Orders "92, 183, 1464" and "1_16, 1_8, 1/4" by label count or fraction; otherwise first seen. */
function orderColumns(results: RunResults[], columnOf: (r: RunResults) => string): string[] {
  const datasets = [...new Set(results.map((r) => r.dataset))];
  const seen = new Map<string, { dataset: number; split: string; first: number }>();
  results.forEach((r, i) => {
    const col = columnOf(r);
    if (!seen.has(col)) seen.set(col, { dataset: datasets.indexOf(r.dataset), split: r.split, first: i });
  });
  const entries = [...seen.entries()];
  const numeric = entries.every(([, e]) => !Number.isNaN(splitSize(e.split)));
  entries.sort(([, a], [, b]) => a.dataset - b.dataset || (numeric ? splitSize(a.split) - splitSize(b.split) : a.first - b.first));
  return entries.map(([col]) => col);
}

/** Labelled fraction or count of a split name ("1/8", "1_8", "92", "u2pl/92"); "all" last; NaN otherwise. */
function splitSize(split: string): number {
  if (split === 'all' || split === 'full') return Number.POSITIVE_INFINITY;
  const frac = /^(\d+)[_/-](\d+)$/.exec(split);
  if (frac) return Number(frac[1]) / Number(frac[2]);
  // an imported official partition is named after its source and label count, e.g. "u2pl/92"
  const count = /^(?:[A-Za-z][\w-]*\/)?(\d+(?:\.\d+)?)$/.exec(split);
  return count ? Number(count[1]) : Number.NaN;
}

function orderMethods(all: string[]): string[] {
  const unique = [...new Set(all)];
  return [...unique.filter((m) => m === SUP_METHOD), ...unique.filter((m) => m !== SUP_METHOD)];
}

/** Mean and sample standard deviation of `value` over the runs (seeds) of each method and column. */
function averageCells(results: RunResults[], columnOf: (r: RunResults) => string, value: (r: RunResults) => number): TableResult['cells'] {
  const values: Record<string, Record<string, number[]>> = {};
  for (const r of results) ((values[r.method] ??= {})[columnOf(r)] ??= []).push(value(r));
  const cells: TableResult['cells'] = {};
  for (const [method, cols] of Object.entries(values)) {
    cells[method] = Object.fromEntries(Object.entries(cols).map(([c, v]) => [c, meanStd(v)]));
  }
  return cells;
}

function meanStd(v: number[]): TableCell {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sq = v.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { value: mean, std: v.length > 1 ? Math.sqrt(sq / (v.length - 1)) : 0, runs: v.length };
}

function gainsOverSup(cells: TableResult['cells'], methods: string[], columns: string[]): TableResult['gains'] {
  const gains: TableResult['gains'] = {};
  const sup = cells[SUP_METHOD];
  if (!sup) return gains;
  for (const m of methods) {
    if (m === SUP_METHOD) continue;
    for (const c of columns) {
      const base = sup[c];
      const cell = cells[m]?.[c];
      if (base && cell) (gains[m] ??= {})[c] = cell.value - base.value;
    }
  }
  return gains;
}

const pct = (v: number) => (v * 100).toFixed(2);
const signed = (v: number) => `${v >= 0 ? '+' : '-'}${Math.abs(v * 100).toFixed(2)}`;

function renderMarkdown(
  metric: TableMetric,
  methods: string[],
  columns: string[],
  cells: TableResult['cells'],
  gains: TableResult['gains'],
): string {
  const rows = methods.map((m) => [
    displayMethod(m),
    ...columns.map((c) => {
      const cell = cells[m]?.[c];
      if (!cell) return '–';
      return cell.runs > 1 ? `${pct(cell.value)} ± ${pct(cell.std)} (n=${cell.runs})` : pct(cell.value);
    }),
  ]);
  for (const m of methods) {
    if (!gains[m]) continue;
    rows.push([`gain of ${displayMethod(m)} over SupOnly`, ...columns.map((c) => (gains[m]![c] === undefined ? '–' : signed(gains[m]![c]!)))]);
  }
  const label = metric === 'miou' ? 'mIoU (%)' : 'pixel accuracy (%)';
  const table = markdownTable(['Method', ...columns], rows, ['left', ...columns.map(() => 'right' as const)]);
  return `${label}\n\n${table}`;
}

/** Mean wall time per cell in minutes: what a method costs matters as much as what it gains. */
function renderWallTime(seconds: TableResult['cells'], methods: string[], columns: string[]): string {
  const rows = methods.map((m) => [
    displayMethod(m),
    ...columns.map((c) => {
      const cell = seconds[m]?.[c];
      return cell ? (cell.value / 60).toFixed(1) : '–';
    }),
  ]);
  return `wall time (min)\n\n${markdownTable(['Method', ...columns], rows, ['left', ...columns.map(() => 'right' as const)])}`;
}

/** Where the numbers come from: backends and machines as the runs recorded them. */
function provenance(results: RunResults[]): string {
  const backends = [...new Set(results.map((r) => r.backend))].join(', ');
  const machines = [...new Set(results.map((r) => r.machine).filter((m): m is string => Boolean(m)))].join('; ');
  return `backend: ${backends}${machines ? `; machine: ${machines}` : ''}`;
}

/** Means per column; with repeated runs (seeds) each column is followed by its standard deviation and run count. */
function renderCsv(methods: string[], columns: string[], cells: TableResult['cells'], gains: TableResult['gains']): string {
  const repeated = methods.some((m) => columns.some((c) => (cells[m]?.[c]?.runs ?? 0) > 1));
  const header = repeated ? columns.flatMap((c) => [c, `${c} std`, `${c} n`]) : columns;
  const cellOf = (cell: TableCell | undefined) => (!cell ? (repeated ? ['', '', ''] : ['']) : repeated ? [pct(cell.value), pct(cell.std), String(cell.runs)] : [pct(cell.value)]);
  const rows: string[][] = [['method', ...header]];
  for (const m of methods) rows.push([displayMethod(m), ...columns.flatMap((c) => cellOf(cells[m]?.[c]))]);
  for (const m of methods) {
    if (!gains[m]) continue;
    const gain = (c: string) => (gains[m]![c] === undefined ? '' : (gains[m]![c]! * 100).toFixed(2));
    rows.push([`gain ${displayMethod(m)} over SupOnly`, ...columns.flatMap((c) => (repeated ? [gain(c), '', ''] : [gain(c)]))]);
  }
  return toCsv(rows);
}
