/**
 * Runs the stages of ST / ST++ in order over one run folder. A stage with a marker is skipped; a
 * stage that runs first deletes everything the later stages wrote (they depend on it), and
 * `fromStage` deletes stage N onwards up front. Every stage is deterministic given its inputs, so
 * a killed run that is started again ends with the same files as an uninterrupted one.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import type { Io } from '../output.ts';
import type { ExperimentConfig } from '../config/schema.ts';
import { toPlainConfig } from '../config/load.ts';
import type { PreparedDataset, ResolvedSplit } from '../data/index.ts';
import { SsssegError } from '../errors.ts';
import { machineName, writeRunResults, type RunResults } from '../io/results.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { ensureWritableDir } from '../io/writable.ts';
import { checkReplaceable, clearRunFolder, lockRunFolder } from '../train/run-lock.ts';
import { pipelineConfig } from './config.ts';
import { STPP_FILES, checkIdentity, clearMarkersFrom, readMarker, removePaths, writeMarker, type StageMarker } from './layout.ts';
import { pipelineStages, type Stage } from './stages.ts';

export interface PipelineOptions {
  /** method st or stpp */
  cfg: ExperimentConfig;
  data: PreparedDataset;
  split: ResolvedSplit;
  outDir: string;
  /** redo stages N.. (1-based) even when complete */
  fromStage?: number;
  /** delete the run folder first */
  force?: boolean;
  /** colourised pseudo-masks in pseudo-color/ */
  previews?: boolean;
  pretrained?: string;
  io: Io;
  /** the tfjs backend's name, for logs and results */
  backend: string;
  signal?: AbortSignal;
}

export interface StageReport {
  stage: number;
  name: string;
  skipped: boolean;
  wallTimeS: number;
  info: Record<string, unknown>;
}

export interface PipelineSummary {
  runDir: string;
  completed: boolean;
  stages: StageReport[];
  results?: RunResults;
}

export async function runPipeline(opts: PipelineOptions): Promise<PipelineSummary> {
  const { io } = opts;
  const { name, c } = pipelineConfig(opts.cfg);
  const run = opts.outDir;
  const stages = pipelineStages(
    { run, cfg: opts.cfg, c, data: opts.data, split: opts.split, pretrained: opts.pretrained, previews: Boolean(opts.previews), io, backend: opts.backend, signal: opts.signal },
    name,
  );
  if (opts.fromStage !== undefined && !(Number.isInteger(opts.fromStage) && opts.fromStage >= 1 && opts.fromStage <= stages.length)) {
    throw new SsssegError('stpp.fromStage', `--from-stage must be 1..${stages.length} for ${name} (${stages.map((s, i) => `${i + 1} ${s.name}`).join(', ')})`);
  }
  if (opts.split.unlabeled.length === 0) {
    throw new SsssegError('stpp.noUnlabeled', `${name} pseudo-labels the unlabeled images, but split ${opts.split.name} has none`);
  }
  await ensureWritableDir(run, `run folder ${run}`);
  const clear = Boolean(opts.force) && (await fs.readdir(run)).length > 0;
  if (clear) await checkReplaceable(run, STPP_ENTRIES);
  const lock = await lockRunFolder(run, (l) => io.err(l));
  try {
    if (clear) await clearRunFolder(run);
    return await runLocked(opts, run, name, stages);
  } finally {
    await lock.release();
  }
}

/** What an ST/ST++ run folder may hold, for --force: its own files and the stages' training folders. */
const STPP_ENTRIES: RegExp[] = [...Object.values(STPP_FILES).map((f) => new RegExp(`^${f.replace(/\./g, '\\.')}$`)), /^stage\d+$/];

async function runLocked(opts: PipelineOptions, run: string, name: 'st' | 'stpp', stages: Stage[]): Promise<PipelineSummary> {
  const { io } = opts;
  await checkIdentity(
    run,
    { method: name, config: toPlainConfig(opts.cfg), dataset: opts.data.name, split: opts.split.name, labeled: opts.split.labeled, unlabeled: opts.split.unlabeled },
    opts.fromStage,
  );
  await writeFileAtomic(path.join(run, STPP_FILES.config), yaml.dump(toPlainConfig(opts.cfg), { lineWidth: 120 }));
  const r = await runStages(run, stages, { fromStage: opts.fromStage, io });
  if (!r.completed) return { runDir: run, completed: false, stages: r.reports };
  const results = await writeResults(opts, name, r.markers);
  printSummary(io, name, run, r.reports, results);
  return { runDir: run, completed: true, stages: r.reports, results };
}

/**
 * The stage loop: skip stages with a marker, redo the rest in order; a stage that runs first
 * deletes what later stages wrote, and its marker is written only after it returned.
 */
export async function runStages(
  run: string,
  stages: Stage[],
  opts: { fromStage?: number; io: Io },
): Promise<{ completed: boolean; reports: StageReport[]; markers: StageMarker[] }> {
  const { io } = opts;
  if (opts.fromStage !== undefined) await invalidateFrom(run, stages, opts.fromStage);

  const reports: StageReport[] = [];
  const markers: StageMarker[] = [];
  for (const [i, stage] of stages.entries()) {
    const n = i + 1;
    const done = await readMarker(run, n, stage.name);
    if (done) {
      io.err(`stage ${n}/${stages.length} ${stage.name}: complete, skipped`);
      markers.push(done);
      reports.push({ stage: n, name: stage.name, skipped: true, wallTimeS: done.wallTimeS, info: done.info });
      continue;
    }
    await invalidateFrom(run, stages, n + 1);
    io.err(`stage ${n}/${stages.length} ${stage.name}…`);
    const t0 = Date.now();
    const info = await stage.run();
    if (!info) {
      io.err(`interrupted in stage ${n} (${stage.name}); run the same command again to continue`);
      return { completed: false, reports, markers };
    }
    const marker: StageMarker = { stage: n, name: stage.name, completedAt: new Date().toISOString(), wallTimeS: (Date.now() - t0) / 1000, info: jsonSafe(info) };
    await writeMarker(run, marker);
    markers.push(marker);
    reports.push({ stage: n, name: stage.name, skipped: false, wallTimeS: marker.wallTimeS, info: marker.info });
    io.err(`stage ${n}/${stages.length} ${stage.name}: done in ${marker.wallTimeS.toFixed(1)} s`);
  }
  return { completed: true, reports, markers };
}

/** Delete markers first (so a kill in between leaves the stages incomplete), then the outputs. */
async function invalidateFrom(run: string, stages: Stage[], from: number): Promise<void> {
  const later = stages.slice(from - 1);
  const outputs = (await Promise.all(later.map((s) => s.outputs()))).flat();
  await clearMarkersFrom(run, from);
  await removePaths(outputs);
}

/** Round-trip through JSON now, so the report of a fresh stage equals the one read from its marker. */
function jsonSafe(info: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(info)) as Record<string, unknown>;
}

interface StoredBest {
  miou: number;
  pixel_acc: number;
  iou: (number | null)[];
  protocol: string;
  iteration: number;
  net: string;
  n: number;
}

/** results.json of the whole pipeline: the final student's best validation, the summed time. */
async function writeResults(opts: PipelineOptions, name: string, markers: StageMarker[]): Promise<RunResults | undefined> {
  const last = markers[markers.length - 1]!;
  const best = last.info['best'] as StoredBest | null | undefined;
  if (!best) {
    opts.io.err('validation was off (train.val_every_epochs: 0): no results.json; run `sssseg eval` on the final checkpoint');
    return undefined;
  }
  const iterations = markers.reduce((s, m) => s + (typeof m.info['iterations'] === 'number' ? m.info['iterations'] : 0), 0);
  const results: RunResults = {
    method: name,
    split: opts.split.name,
    dataset: opts.data.name,
    metrics: { miou: best.miou, pixel_acc: best.pixel_acc, iou: best.iou.map((v) => v ?? Number.NaN) },
    protocol: `${best.protocol} (${best.net}, ${best.n} val images)`,
    wall_time_s: markers.reduce((s, m) => s + m.wallTimeS, 0),
    backend: opts.backend,
    iterations,
    checkpoint: String(last.info['checkpoint']),
    machine: machineName(),
    seed: opts.cfg.seed,
  };
  await writeRunResults(opts.outDir, results);
  return results;
}

function printSummary(io: Io, name: string, run: string, reports: StageReport[], results: RunResults | undefined): void {
  for (const r of reports) {
    const b = r.info['best'] as StoredBest | null | undefined;
    const val = b ? `, val mIoU ${(b.miou * 100).toFixed(2)}` : '';
    io.err(`  ${r.stage} ${r.name.padEnd(18)} ${r.wallTimeS.toFixed(1).padStart(8)} s${r.skipped ? ' (earlier run)' : ''}${val}`);
  }
  if (results) {
    io.out(`${name} ${results.split}: val mIoU ${(results.metrics.miou * 100).toFixed(2)} (${results.checkpoint}) in ${results.wall_time_s.toFixed(0)} s → ${run}`);
  }
}
