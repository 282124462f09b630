/**
 * The files of an ST/ST++ run folder and the stage markers. A stage counts as complete only when
 * its marker exists; the marker is written last (atomically), so a process killed anywhere leaves
 * the stage incomplete and the next run redoes (or continues) it.
 */
import { promises as fs, existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SsssegError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { pseudoMaskName } from '../train/batches.ts';

export const STPP_FILES = {
  pipeline: 'pipeline.json',
  /** the resolved config, as `--resume <run>` reads it */
  config: 'config.yaml',
  reliability: 'reliability.json',
  /** scores appended as they are computed, so a killed selection continues where it stopped */
  reliabilityPartial: 'reliability.partial.jsonl',
  reliable: 'reliable.txt',
  unreliable: 'unreliable.txt',
  pseudo: 'pseudo',
  pseudoColor: 'pseudo-color',
  markers: 'stages',
  results: 'results.json',
} as const;

/** Training stage folders: stage1 = teacher, stage2/stage3 = re-trainings. */
export const stageDir = (run: string, n: number): string => path.join(run, `stage${n}`);
export const ckptFile = (dir: string, epoch: number): string => path.join(dir, `ckpt-e${epoch}.bin`);
/** The trainer reads pseudo-masks by this name (ids with '/', e.g. Cityscapes `city/frame`, are flattened). */
export const pseudoFile = (run: string, id: string): string => path.join(run, STPP_FILES.pseudo, pseudoMaskName(id));
export const previewFile = (run: string, id: string): string => path.join(run, STPP_FILES.pseudoColor, pseudoMaskName(id));

/** The checkpoint a stage hands on: best validation, or the last one when validation was off. */
export function bestCheckpoint(dir: string): string {
  const best = path.join(dir, 'best.bin');
  if (existsSync(best)) return best;
  const last = path.join(dir, 'last.bin');
  if (existsSync(last)) return last;
  throw new SsssegError('stpp.noCheckpoint', `${dir} has neither best.bin nor last.bin`, 'rerun the pipeline with --from-stage of that training');
}

const markerSchema = z.object({
  stage: z.number().int().positive(),
  name: z.string(),
  completedAt: z.string(),
  wallTimeS: z.number(),
  info: z.record(z.string(), z.unknown()),
});
export type StageMarker = z.infer<typeof markerSchema>;

export const markerFile = (run: string, stage: number, name: string): string =>
  path.join(run, STPP_FILES.markers, `${stage}-${name}.done.json`);

/** The stage's marker, or undefined when the stage has not completed. A damaged marker counts as absent. */
export async function readMarker(run: string, stage: number, name: string): Promise<StageMarker | undefined> {
  const text = await fs.readFile(markerFile(run, stage, name), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const r = markerSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

export async function writeMarker(run: string, m: StageMarker): Promise<void> {
  await writeFileAtomic(markerFile(run, m.stage, m.name), JSON.stringify(m, null, 1) + '\n');
}

/** Remove the markers of stages >= `from`; their outputs are removed by the caller. */
export async function clearMarkersFrom(run: string, from: number): Promise<void> {
  const dir = path.join(run, STPP_FILES.markers);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const n = Number.parseInt(name, 10);
    if (Number.isInteger(n) && n >= from) await fs.rm(path.join(dir, name), { force: true });
  }
}

export async function removePaths(paths: string[]): Promise<void> {
  for (const p of paths) await fs.rm(p, { recursive: true, force: true });
}

/** One id per line, trailing newline (ST++'s files lack it, which trips `wc -l`). */
export async function writeIdList(file: string, ids: readonly string[]): Promise<void> {
  await writeFileAtomic(file, ids.length ? ids.join('\n') + '\n' : '');
}

export async function readIdList(file: string): Promise<string[]> {
  const text = await fs.readFile(file, 'utf8').catch(() => {
    throw new SsssegError('stpp.missingFile', `${file} not found`, 'rerun the pipeline with --from-stage of the stage that writes it');
  });
  return text.split('\n').map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * What a run folder was started with. A rerun with other settings would mix stages of two
 * experiments, so it is refused unless the user says which stages to redo (--from-stage).
 */
export interface PipelineIdentity {
  method: string;
  config: unknown;
  dataset: string;
  split: string;
  labeled: string[];
  unlabeled: string[];
}

export async function checkIdentity(run: string, id: PipelineIdentity, fromStage: number | undefined): Promise<void> {
  const file = path.join(run, STPP_FILES.pipeline);
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  const now = JSON.stringify(id, null, 1) + '\n';
  if (text !== undefined && text !== now && fromStage === undefined) {
    const before = JSON.parse(text) as Partial<PipelineIdentity>;
    const what = (Object.keys(id) as (keyof PipelineIdentity)[]).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(id[k]));
    throw new SsssegError(
      'stpp.runMismatch',
      `run folder ${run} was started with a different ${what.join(', ') || 'setup'}`,
      'pass --force to start over, --from-stage N to redo stages N.. with the new settings, or another --out',
    );
  }
  if (text !== now) await writeFileAtomic(file, now);
}
