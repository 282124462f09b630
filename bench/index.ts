/**
 * `npm run bench [-- <name>...] [--json] [bench options]`: runs the named benchmarks, or with no
 * name every one of kernels, loader, methods and eval (u2pl and native run by name only: methods
 * covers U2PL and SupOnly, kernels the convolutions).
 *
 * Output: a header line (date, CPU model and cores, backend, tfjs version), then for one named
 * benchmark its own table, for several one combined table `| benchmark | figure | value | unit |`.
 * With --json: one named benchmark prints its own object (as it always has); several print
 * `{ date, machine, backend, tfjs, <name>: {...}, ... }`. A benchmark that cannot run here (the
 * loader without CamVid) is skipped with one line; in a run of several, a failing benchmark is
 * reported in its row and the others still run (exit code 1 at the end).
 *
 * Options go to every benchmark; each reads its own (see the file of each): --reps N (kernels,
 * methods, u2pl, native), --warmup N, --methods a,b, --config FILE, --set key=value, --backend
 * NAME (methods, eval, u2pl; kernels always compares wasm with cpu), --eval-images N,
 * --small-model FILE, --data DIR, --images N, --crop N (loader).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { backendFromArgs, FLAGS } from './args.ts';
import type { Benchmark, BenchResult } from './types.ts';

const REGISTRY: Record<string, () => Promise<Benchmark>> = {
  kernels: async () => (await import('./kernels.ts')).benchmark,
  loader: async () => (await import('./loader.ts')).benchmark,
  methods: async () => (await import('./methods.ts')).benchmark,
  eval: async () => (await import('./eval.ts')).benchmark,
  u2pl: async () => (await import('./u2pl.ts')).benchmark,
  native: async () => (await import('./native.ts')).benchmark,
};
const ALL = ['kernels', 'loader', 'methods', 'eval'];

/** Benchmark names (positional words) apart from options and their values. */
function parseArgs(argv: string[]): { names: string[]; rest: string[]; json: boolean } {
  const names: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      if (a !== '--json') rest.push(a);
      if (!FLAGS.has(a) && i + 1 < argv.length) rest.push(argv[++i]!);
    } else if (Object.hasOwn(REGISTRY, a)) {
      names.push(a);
    } else {
      throw new Error(`unknown benchmark "${a}"; choose from ${Object.keys(REGISTRY).join(', ')} (none: ${ALL.join(', ')})`);
    }
  }
  return { names, rest, json: argv.includes('--json') };
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => /^model name\s*:/.test(l));
    if (line) return line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // not Linux: fall through
  }
  return os.cpus()[0]?.model.trim() || 'unknown CPU';
}

interface Header {
  date: string;
  machine: { cpu: string; cores: number; memory_gb: number; node: string };
  backend: string;
  tfjs: string;
  native?: string;
}

async function header(rest: string[]): Promise<Header> {
  const b = await backendFromArgs(rest);
  const n = b.native;
  return {
    date: new Date().toISOString(),
    machine: { cpu: cpuModel(), cores: os.cpus().length, memory_gb: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    backend: b.name,
    tfjs: b.tfjsVersion,
    ...(n.loaded ? { native: `oneDNN ${n.onednn ?? '?'}, ${n.isa ?? '?'}, ${n.threads ?? '?'} threads` } : {}),
  };
}

function headerLine(h: Header): string {
  const native = h.native ? ` (${h.native})` : '';
  return (
    `sssseg bench ${h.date} · ${h.machine.cpu}, ${h.machine.cores} cores, ${h.machine.memory_gb} GB · ` +
    `backend ${h.backend}${native} · tfjs ${h.tfjs} · node ${h.machine.node}`
  );
}

const cell = (v: unknown): string => String(v ?? '–').replace(/\|/g, '\\|');

async function main(argv: string[]): Promise<void> {
  const { names, rest, json } = parseArgs(argv);
  const chosen = names.length > 0 ? names : ALL;
  const progress = (line: string): void => void process.stderr.write(line + '\n');
  const h = await header(rest);
  progress(headerLine(h));
  const results: Record<string, BenchResult | { error: string }> = {};
  for (const name of chosen) {
    try {
      const bench = await REGISTRY[name]!();
      const r = await bench.run(rest, progress);
      if (r.skipped) progress(`${name}: skipped: ${r.skipped}`);
      results[name] = r;
    } catch (err) {
      // alone, a failure is the run's failure; among several, the others still run
      if (chosen.length === 1) throw err;
      const error = err instanceof Error ? err.message : String(err);
      progress(`${name}: failed: ${error}`);
      results[name] = { error };
      process.exitCode = 1;
    }
  }
  if (chosen.length === 1) {
    const r = results[chosen[0]!] as BenchResult;
    if (json) process.stdout.write(JSON.stringify(r.json) + '\n');
    else process.stdout.write(`${headerLine(h)}\n\n## ${chosen[0]}\n\n${r.table}\n`);
    return;
  }
  if (json) {
    const out: Record<string, unknown> = { ...h };
    for (const [name, r] of Object.entries(results)) out[name] = 'error' in r ? { error: r.error } : r.json;
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  const lines = [headerLine(h), '', '| benchmark | figure | value | unit |', '|---|---|---:|---|'];
  for (const [name, r] of Object.entries(results)) {
    if ('error' in r) lines.push(`| ${name} | failed: ${cell(r.error)} | – | |`);
    else if (r.skipped) lines.push(`| ${name} | skipped: ${cell(r.skipped)} | – | |`);
    else for (const row of r.rows) lines.push(`| ${name} | ${cell(row.figure)} | ${cell(row.value)} | ${row.unit} |`);
  }
  const notes = Object.values(results).flatMap((r) => ('error' in r ? [] : (r.notes ?? [])));
  if (notes.length > 0) lines.push('', ...notes);
  process.stdout.write(lines.join('\n') + '\n');
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
