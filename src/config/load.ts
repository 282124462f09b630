import { promises as fs } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { z } from 'zod';
import { SsssegError } from '../errors.ts';
import { baseConfigSchema, type ExperimentConfig } from './schema.ts';
import { METHODS, PIPELINES, isMethodName, isPipelineName } from '../methods/index.ts';

type Plain = Record<string, unknown>;

const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

async function readYaml(file: string): Promise<Plain> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new SsssegError('config.missing', `config file ${file} not found`);
  }
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch (err) {
    throw new SsssegError('config.yaml', `${file}: invalid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isPlain(doc)) throw new SsssegError('config.notMapping', `${file}: the top level must be a mapping`);
  return doc;
}

/**
 * Keys that say one thing in two ways, by the section holding them. A layer (a later file of
 * `extends`, the config itself, a `--set`) that sets one drops the others of the layers below, so
 * that `--set train.iterations=200` works on a config that counts epochs; one layer setting both
 * is still an error of the schema.
 */
const ALTERNATIVES: Record<string, string[][]> = {
  train: [['epochs', 'iterations']],
  'train.semi': [['warmup_iters', 'warmup_fraction'], ['rampup_iters', 'rampup_fraction']],
};

/** Objects merge key by key; anything else (arrays included) replaces the base value. */
export function mergeConfig(base: Plain, over: Plain, at: string[] = []): Plain {
  const out: Plain = { ...base };
  for (const group of ALTERNATIVES[at.join('.')] ?? []) {
    if (group.some((k) => k in over)) for (const k of group) if (!(k in over)) delete out[k];
  }
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlain(v) && isPlain(out[k]) ? mergeConfig(out[k] as Plain, v, [...at, k]) : v;
  }
  return out;
}

/** `a.b.c=value`: the value is read as a YAML scalar/flow value (numbers, booleans, [lists]). */
export function applyOverride(doc: Plain, assignment: string): Plain {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new SsssegError('config.badSet', `--set "${assignment}" must look like key.path=value`);
  const keys = assignment.slice(0, eq).split('.');
  let value: unknown;
  try {
    value = yaml.load(assignment.slice(eq + 1)) ?? null;
  } catch (err) {
    const reason = err instanceof yaml.YAMLException ? err.reason : (err as Error).message.split('\n')[0];
    throw new SsssegError('config.badSet', `--set "${assignment}": the value is not valid YAML (${reason})`, 'quote lists and mappings whole, e.g. --set \'train.lr=[1, 2]\'');
  }
  let patch: Plain = { [keys[keys.length - 1]!]: value };
  for (let i = keys.length - 2; i >= 0; i--) patch = { [keys[i]!]: patch };
  return mergeConfig(doc, patch);
}

function formatIssue(file: string, issue: z.core.$ZodIssue, prefix: string[] = []): string {
  const where = [...prefix, ...issue.path.map(String)].join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => [...prefix, ...issue.path.map(String), k].join('.'));
    return `${file}: unknown key ${keys.map((k) => `"${k}"`).join(', ')}`;
  }
  return `${file}: key "${where || '(top level)'}": ${issue.message}`;
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, file: string, prefix: string[] = []): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new SsssegError('config.invalid', formatIssue(file, r.error.issues[0]!, prefix));
  }
  return r.data;
}

/**
 * Read a YAML config with one level of `extends` (a file or a list of files merged in order, e.g. a
 * model fragment then a data-set base), apply --set overrides, validate everything.
 */
export async function loadConfig(file: string, overrides: string[] = [], methodOverride?: string): Promise<ExperimentConfig> {
  let doc = await readYaml(file);
  const ext = doc['extends'];
  if (ext !== undefined) {
    const list = typeof ext === 'string' ? [ext] : Array.isArray(ext) && ext.every((e) => typeof e === 'string') ? (ext as string[]) : null;
    if (!list) throw new SsssegError('config.invalid', `${file}: key "extends" must be a file name or a list of file names`);
    let merged: Plain = {};
    for (const rel of list) {
      const basePath = path.resolve(path.dirname(file), rel);
      const base = await readYaml(basePath);
      if ('extends' in base) {
        throw new SsssegError('config.nestedExtends', `${basePath}: \`extends\` may only be one level deep (it is extended by ${file})`);
      }
      merged = mergeConfig(merged, base);
    }
    const { extends: _ignored, ...rest } = doc;
    doc = mergeConfig(merged, rest);
  }
  for (const o of overrides) doc = applyOverride(doc, o);
  if (methodOverride) doc = { ...doc, method: methodOverride };
  return validateConfig(doc, file);
}

export function validateConfig(doc: Plain, file: string): ExperimentConfig {
  const method = doc['method'];
  // per-iteration methods and the staged pipelines (st, stpp) share one config format
  const names = [...Object.keys(METHODS), ...Object.keys(PIPELINES)];
  if (typeof method !== 'string' || !(isMethodName(method) || isPipelineName(method))) {
    throw new SsssegError('config.method', `${file}: key "method" must be one of ${names.join(', ')} (got ${JSON.stringify(method)})`);
  }
  const methodKeys = Object.fromEntries(names.map((m) => [m, z.unknown().optional()]));
  const strict = baseConfigSchema.extend(methodKeys).strict();
  const base = parseWith(strict, doc, file);
  const sectionSchema = (m: string) => (isPipelineName(m) ? PIPELINES[m].configSchema : METHODS[m as keyof typeof METHODS].configSchema) as z.ZodType<unknown>;
  // sections of other methods are checked too (a typo there must not wait until someone runs that
  // method); shared files and `--method` overrides may legitimately carry several
  for (const other of names) if (other !== method && doc[other] !== undefined) parseWith(sectionSchema(other), doc[other], file, [other]);
  const methodConfig = parseWith(sectionSchema(method), doc[method] ?? {}, file, [method]);
  if (isMethodName(method)) checkBoxes((base as Pick<ExperimentConfig, 'data'>).data.strong.cutmix.box, METHODS[method].dataNeeds(methodConfig).boxes, method, file);
  const { extends: _e, ...clean } = base as typeof base & { extends?: unknown };
  return { ...clean, methodConfig, source: file } as ExperimentConfig;
}

/** A configured CutMix box generator of another kind than the method mixes with would be silently unused. */
function checkBoxes(configured: string, wanted: string, method: string, file: string): void {
  if (wanted === 'none' || configured === 'auto' || configured === wanted) return;
  throw new SsssegError(
    'config.invalid',
    `${file}: key "data.strong.cutmix.box": ${method} mixes with ${wanted} boxes, not ${configured}`,
    `set data.strong.cutmix.box: ${wanted} (or auto) to configure them`,
  );
}

/** The config as a user would write it (method section under its own key), for run folders and checkpoints. */
export function toPlainConfig(cfg: ExperimentConfig): Record<string, unknown> {
  const { methodConfig, source: _source, ...rest } = cfg;
  return { ...rest, [cfg.method]: methodConfig };
}
