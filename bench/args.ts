/**
 * Command-line helpers shared by the benchmarks. Every `--option` takes one value except the flags
 * in FLAGS, so `bench/index.ts` can tell benchmark names from option values (`--methods u2pl`).
 */
import { initBackend, parseBackendChoice, type BackendInfo } from '../src/backend/index.ts';

/** options without a value */
export const FLAGS = new Set(['--json', '--profile', '--no-peer']);

/** The value after `name`, or `fallback`. */
export function option(args: string[], name: string, fallback: string): string;
export function option(args: string[], name: string): string | undefined;
export function option(args: string[], name: string, fallback?: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
}

/** A non-negative integer option (`min` 1 for counts that must not be zero). */
export function intOption(args: string[], name: string, fallback: number, min = 0): number {
  const raw = option(args, name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer ≥ ${min} (got "${raw}")`);
  return v;
}

/** Every value given for `name` (repeatable options such as `--set`). */
export function options(args: string[], name: string): string[] {
  const out: string[] = [];
  args.forEach((a, i) => {
    if (a === name && args[i + 1] !== undefined) out.push(args[i + 1]!);
  });
  return out;
}

/** The backend of `--backend`, else SSSSEG_BACKEND, else auto. */
export async function backendFromArgs(args: string[]): Promise<BackendInfo> {
  const choice = option(args, '--backend', process.env['SSSSEG_BACKEND'] ?? 'auto');
  return initBackend(parseBackendChoice(choice, '--backend'));
}

/** seconds/ms rounded for tables and JSON */
export const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;
