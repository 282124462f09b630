import assert from 'node:assert/strict';
import type { Io } from '../../src/output.ts';
import { run } from '../../src/cli/main.ts';

/** An Io that records lines, for in-process CLI tests. */
export function memoryIo(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, isTTY: false, out: (l) => void stdout.push(l), err: (l) => void stderr.push(l) };
}

/** `sssseg <argv>` in process on the wasm backend; fails the test with its stderr unless it exits 0. */
export async function cliOk(...argv: string[]): Promise<ReturnType<typeof memoryIo>> {
  const io = memoryIo();
  const code = await run(['--backend', 'wasm', ...argv], io);
  assert.equal(code, 0, `sssseg ${argv.join(' ')} failed:\n${io.stderr.join('\n')}`);
  return io;
}
