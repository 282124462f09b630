/**
 * `npm run bench -- methods [--json] [--methods a,b] [--config FILE] [--set key=value] [--reps N]
 * [--warmup N] [--backend NAME]`: wall time of one training iteration of each method registered in
 * src/methods/index.ts (median of `reps`, default 3, after `warmup`, default 1), on a synthetic batch
 * shaped as the trainer builds it for that method, at the first epoch of its full semi-supervised
 * step; plus the process's peak RSS. Keys `<method>_iter_s` (null, with `<method>_error`, when a
 * method fails, e.g. out of memory; the others still run).
 *
 * Default config: experiments/peer/u2pl-r50-c129.yaml (ResNet-50 OS8, 129×129 crops, batch 2 + 2).
 * Every method takes its model, data and train sections and its own method section (defaults
 * unless the file has one). The head follows the method: U2PL needs its own decoder
 * (`deeplabv3plus_u2pl`, whose representation head the contrastive loss uses); the other
 * semi-supervised methods use the textbook DeepLabv3+ (48 low-level channels, no representation
 * head) as in their experiments/voc/<method>-base.yaml; SupOnly keeps the config's model (at the
 * peer config U2PL's SupOnly baseline, the same figure as the `u2pl` bench's sup_iter_s). Each
 * switch is written in the table and in `heads` / `notes` of the JSON.
 */
import { loadConfig } from '../src/config/load.ts';
import type { ExperimentConfig } from '../src/config/schema.ts';
import { METHODS, isMethodName, type MethodName } from '../src/methods/index.ts';
import { modelConfigSchema } from '../src/models/index.ts';
import { backendFromArgs, intOption, option, options, round } from './args.ts';
import { peakRssMb, timeIteration } from './train-step.ts';
import { PEER_CONFIG } from './u2pl.ts';
import type { Benchmark, BenchResult, BenchRow } from './types.ts';

const U2PL_HEAD = 'deeplabv3plus_u2pl';
const TEXTBOOK_HEAD = 'deeplabv3plus';
/** the low-level widths each head defaults to (src/models/config.ts) */
const LOW_LEVEL_DEFAULT = { [U2PL_HEAD]: 256, [TEXTBOOK_HEAD]: 48 } as const;

/**
 * The config for `name`: the file with `method` set to it, and the model's head switched when the
 * method needs another one. Returns the note for the table, or null when the model is the file's.
 */
async function configFor(file: string, sets: string[], name: MethodName): Promise<{ cfg: ExperimentConfig; note: string | null }> {
  const cfg = await loadConfig(file, sets, name);
  const m = cfg.model;
  let to: typeof U2PL_HEAD | typeof TEXTBOOK_HEAD;
  if (name === 'sup') return { cfg, note: null };
  if (name === 'u2pl') {
    if (m.head === U2PL_HEAD) return { cfg, note: null };
    to = U2PL_HEAD;
  } else {
    if (m.head !== U2PL_HEAD) return { cfg, note: null };
    to = TEXTBOOK_HEAD;
  }
  const { low_level_channels: low, ...rest } = m;
  // the low-level width that is the old head's default becomes the new head's; a chosen one stays
  const keepLow = low !== (LOW_LEVEL_DEFAULT as Record<string, number>)[m.head];
  const repDim = to === U2PL_HEAD ? (m.rep_dim ?? 256) : null;
  const model = modelConfigSchema.parse({ ...rest, head: to, rep_dim: repDim, ...(keepLow ? { low_level_channels: low } : {}) });
  const note =
    to === U2PL_HEAD
      ? `head switched from ${m.head}: U2PL's decoder, ${repDim}-d representation head for the contrastive loss, low-level ${model.low_level_channels}`
      : `head switched from ${U2PL_HEAD}: textbook decoder as in experiments/voc/${name}-base.yaml, no representation head, low-level ${model.low_level_channels}`;
  return { cfg: { ...cfg, model }, note };
}

export function chooseMethods(list: string | undefined): MethodName[] {
  if (!list) return Object.keys(METHODS) as MethodName[];
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.filter((n) => !isMethodName(n));
  if (bad.length > 0) throw new Error(`--methods: unknown method ${bad.join(', ')}; choose from ${Object.keys(METHODS).join(', ')}`);
  return names as MethodName[];
}

interface MethodFigures {
  iter_s: number | null;
  head: string;
  epoch?: number;
  times_s?: number[];
  note?: string;
  error?: string;
}

export const benchmark: Benchmark = {
  async run(args: string[], progress: (line: string) => void): Promise<BenchResult> {
    const file = option(args, '--config', PEER_CONFIG);
    const sets = options(args, '--set');
    const reps = intOption(args, '--reps', 3, 1);
    const warmup = intOption(args, '--warmup', 1);
    const names = chooseMethods(option(args, '--methods'));
    const backend = await backendFromArgs(args);
    progress(`methods bench: ${file}, backend ${backend.name}, ${warmup} warm-up + ${reps} timed iterations of ${names.join(', ')}`);
    const figures: Record<string, MethodFigures> = {};
    for (const name of names) {
      let head = '?';
      try {
        const { cfg, note } = await configFor(file, sets, name);
        head = cfg.model.head;
        const method = METHODS[name];
        const t = await timeIteration(method, cfg.methodConfig, cfg, { reps, warmup });
        figures[name] = { iter_s: round(t.median_s), head, epoch: t.epoch, times_s: t.times_s.map((v) => round(v)), ...(note ? { note } : {}) };
        progress(`${name}: ${t.median_s.toFixed(3)} s/iter (${head}${note ? `; ${note}` : ''})`);
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        figures[name] = { iter_s: null, head, error };
        progress(`${name}: failed: ${error}`);
      }
    }
    const peak = peakRssMb();
    const json: Record<string, unknown> = { config: file, backend: backend.name, reps, warmup };
    for (const [name, f] of Object.entries(figures)) {
      json[`${name}_iter_s`] = f.iter_s;
      if (f.error) json[`${name}_error`] = f.error;
    }
    json['peak_rss_mb'] = peak;
    json['methods'] = figures;
    const table = [
      '| method | s / iteration | head | note |',
      '|---|---|---|---|',
      ...Object.entries(figures).map(
        ([name, f]) =>
          `| ${name} | ${f.iter_s ?? `failed: ${f.error}`} | ${f.head} | ${f.note ?? (name === 'sup' ? "the config's model" : '')} |`,
      ),
      '',
      `median of ${reps} after ${warmup} warm-up; peak RSS ${peak} MB (whole process); backend ${backend.name}; ${file}`,
    ].join('\n');
    const rows: BenchRow[] = Object.entries(figures).map(([name, f]) => ({
      figure: `${name} iteration (${f.head}${f.note ? ', head switched' : ''})`,
      value: f.iter_s ?? `failed: ${f.error}`,
      unit: 's',
    }));
    rows.push({ figure: 'peak RSS (process)', value: peak, unit: 'MB' });
    // one line per distinct head switch, under the combined table
    const switched = new Map<string, string[]>();
    for (const [name, f] of Object.entries(figures)) {
      if (!f.note) continue;
      const note = f.note.replace(`experiments/voc/${name}-base.yaml`, 'experiments/voc/<method>-base.yaml');
      switched.set(note, [...(switched.get(note) ?? []), name]);
    }
    const notes = [...switched].map(([note, names]) => `methods ${names.join(', ')}: ${note}`);
    return { table, json, rows, notes };
  },
};
