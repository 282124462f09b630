/** One line of the combined table that `npm run bench` prints: `| benchmark | figure | value | unit |`. */
export interface BenchRow {
  figure: string;
  value: number | string | null;
  unit: string;
}

export interface BenchResult {
  /** Markdown table for people (printed when the benchmark runs alone) */
  table: string;
  /** figures for scripts (the --json output) */
  json: Record<string, unknown>;
  /** the headline figures for the combined table of `npm run bench` */
  rows: BenchRow[];
  /** lines printed under the combined table (e.g. which head each method used) */
  notes?: string[];
  /** set when the benchmark could not run here (e.g. no data); one line saying why */
  skipped?: string;
}

export interface Benchmark {
  /** args: the remaining command-line arguments; progress: a line to stderr */
  run(args: string[], progress: (line: string) => void): Promise<BenchResult>;
}
