import type { Method } from './types.ts';
import { sup } from './sup.ts';

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
} as const;

export type MethodName = keyof typeof METHODS;

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(METHODS, name);
}

export function getMethod(name: MethodName): Method<unknown, unknown> {
  return METHODS[name];
}
