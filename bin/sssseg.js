#!/usr/bin/env node
// Thin launcher: load TypeScript through tsx, run the CLI, set the exit code. Nothing else.
import { register } from 'tsx/esm/api';

register();
try {
  const { run } = await import('../src/cli/main.ts');
  process.exitCode = await run(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`sssseg: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
