export interface BenchResult {
  /** Markdown table for people */
  table: string;
  /** figures for scripts (the --json output) */
  json: Record<string, unknown>;
}

export interface Benchmark {
  /** args: the remaining command-line arguments; progress: a line to stderr */
  run(args: string[], progress: (line: string) => void): Promise<BenchResult>;
}
