/**
 * `npm run bench [-- <name>...] [--json] [bench options]`: runs the named benchmarks (all when
 * none is named), prints one human table per benchmark, or with --json one JSON object
 * `{ <name>: {...figures} }` on stdout.
 */
import type { Benchmark } from './types.ts';

const REGISTRY: Record<string, () => Promise<Benchmark>> = {
  kernels: async () => (await import('./kernels.ts')).benchmark,
  loader: async () => (await import('./loader.ts')).benchmark,
  u2pl: async () => (await import('./u2pl.ts')).benchmark,
  native: async () => (await import('./native.ts')).benchmark,
};

async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const names = argv.filter((a) => !a.startsWith('--') && a in REGISTRY);
  const rest = argv.filter((a) => a !== '--json' && !(a in REGISTRY));
  const chosen = names.length > 0 ? names : Object.keys(REGISTRY);
  const results: Record<string, unknown> = {};
  for (const name of chosen) {
    const bench = await REGISTRY[name]!();
    const result = await bench.run(rest, (line) => process.stderr.write(line + '\n'));
    results[name] = result.json;
    if (!json) {
      process.stdout.write(`\n## ${name}\n\n${result.table}\n`);
    }
  }
  if (json) process.stdout.write(JSON.stringify(chosen.length === 1 ? results[chosen[0]!] : results) + '\n');
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
