import type { Method } from './types.ts';
import { sup } from './sup.ts';
import { u2pl } from './u2pl.ts';
import { mt } from './mt.ts';
import { cutmix } from './cutmix.ts';
import { cps } from './cps.ts';
import { unimatch } from './unimatch.ts';
import { fixmatch } from './fixmatch.ts';
import { psmt } from './psmt.ts';
import { ucc } from './ucc.ts';
import { PIPELINES, isPipelineName } from './pipelines.ts';

/** The registry holds methods with their config and state types erased; each file keeps its own. */
function erase<C, S>(m: Method<C, S>): Method<unknown, unknown> {
  return m as unknown as Method<unknown, unknown>;
}

/**
 * Every method, by the name used in configs and `--method`. The CLI choices, the config union and
 * `--help` come from here; a method missing from this literal cannot be selected (style.md, Imitate 3).
 */
export const METHODS = {
  sup: erase(sup),
  u2pl: erase(u2pl),
  mt: erase(mt),
  cutmix: erase(cutmix),
  cps: erase(cps),
  unimatch: erase(unimatch),
  fixmatch: erase(fixmatch),
  psmt: erase(psmt),
  ucc: erase(ucc),
} as const;

export type MethodName = keyof typeof METHODS;

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(METHODS, name);
}

export function getMethod(name: MethodName): Method<unknown, unknown> {
  return METHODS[name];
}

export { PIPELINES, isPipelineName, type PipelineName } from './pipelines.ts';

/** A method's name as tables print it (`mt` → Mean Teacher); unknown names print as they are. */
export function displayMethod(name: string): string {
  if (isMethodName(name)) return METHODS[name].displayName;
  if (isPipelineName(name)) return PIPELINES[name].displayName;
  return name;
}
