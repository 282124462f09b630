import type { Io } from '../../src/cli/context.ts';

/** An Io that records lines, for in-process CLI tests. */
export function memoryIo(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, isTTY: false, out: (l) => void stdout.push(l), err: (l) => void stderr.push(l) };
}
