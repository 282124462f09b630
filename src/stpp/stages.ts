/**
 * The stages of ST and ST++ (docs/methods.md §2.3), each a function of the run folder: it reads
 * what the earlier stages wrote and writes its own outputs. `outputs` names what a redo must
 * delete.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Io } from '../output.ts';
import type { ExperimentConfig } from '../config/schema.ts';
import { normalize, readSample, type PreparedDataset, type ResolvedSplit } from '../data/index.ts';
import type { PredictFn } from '../eval/inference.ts';
import { loadNetFromCheckpoint } from '../models/checkpoint.ts';
import type { SegNet } from '../models/index.ts';
import { SsssegError } from '../errors.ts';
import { train } from '../train/trainer.ts';
import { checkpointEpochs, stageConfig, stageEpochs } from './config.ts';
import type { StConfig, StppConfig } from '../methods/pipelines.ts';
import { STPP_FILES, bestCheckpoint, ckptFile, pseudoFile, previewFile, readIdList, stageDir } from './layout.ts';
import { scoreImages, splitReliable, writeSelection, type ReadImage } from './select.ts';
import { writePseudoMasks } from './pseudo.ts';

export interface StageContext {
  run: string;
  cfg: ExperimentConfig;
  c: StConfig | StppConfig;
  data: PreparedDataset;
  split: ResolvedSplit;
  pretrained?: string;
  previews: boolean;
  io: Io;
  /** the tfjs backend's name, for logs and results */
  backend: string;
  signal?: AbortSignal;
}

/** What a completed stage reports (stored in its marker); undefined = interrupted. */
export type StageInfo = Record<string, unknown>;

export interface Stage {
  name: string;
  /** files and folders this stage writes; deleted when it (or an earlier stage) is redone */
  outputs(): Promise<string[]>;
  run(): Promise<StageInfo | undefined>;
}

const readImage = (data: PreparedDataset): ReadImage => async (id) => {
  const s = await readSample(data, id);
  return { image: normalize(s.image), h: s.h, w: s.w };
};

/** Progress on stderr about every 10 %, so long stages show they are alive without flooding logs. */
function progress(io: Io, what: string): (done: number, total: number) => void {
  let next = 0;
  return (done, total) => {
    if (done >= next || done === total) {
      io.err(`${what}: ${done}/${total}`);
      next = done + Math.max(1, Math.ceil(total / 10));
    }
  };
}

async function withNets<T>(files: string[], fn: (predicts: PredictFn[]) => Promise<T>): Promise<T> {
  const nets: SegNet[] = [];
  try {
    for (const f of files) nets.push((await loadNetFromCheckpoint(f)).net);
    return await fn(nets.map((net) => (x) => net.forward(x, { training: false }).logits));
  } finally {
    for (const n of nets) n.dispose();
  }
}

/** ST++ repeats the labeled ids ceil(|U|/|L|) times and appends U (dataset/semi.py, semi_train). */
export function retrainLabeled(labeled: readonly string[], pseudoCount: number): string[] {
  const times = Math.max(1, Math.ceil(pseudoCount / labeled.length));
  return Array.from({ length: times }, () => labeled).flat();
}

/** ST++ main.py doubles a labeled list shorter than 200 for the supervised teacher. */
export function teacherLabeled(labeled: readonly string[], below: number): string[] {
  return labeled.length < below ? [...labeled, ...labeled] : [...labeled];
}

/** Train stage `n` (folder stage<n>) with method sup; continue from its last.bin when one exists. */
function trainingStage(ctx: StageContext, n: number, pseudoIds: () => Promise<string[]>, teacherCkpts?: number[]): Stage {
  const dir = stageDir(ctx.run, n);
  return {
    name: n === 1 ? 'teacher' : `retrain${n}`,
    outputs: async () => [dir],
    async run() {
      const epochs = stageEpochs(ctx.cfg, ctx.c, n - 1);
      const ids = await pseudoIds();
      const labeled = n === 1 ? teacherLabeled(ctx.split.labeled, ctx.c.double_labeled_below) : retrainLabeled(ctx.split.labeled, ids.length);
      const resume = existsSync(path.join(dir, 'last.bin'));
      const summary = await train({
        cfg: stageConfig(ctx.cfg, epochs),
        data: ctx.data,
        split: { ...ctx.split, labeled, unlabeled: [] },
        outDir: dir,
        resume,
        force: !resume,
        pretrained: ctx.pretrained,
        io: ctx.io,
        backend: ctx.backend,
        signal: ctx.signal,
        pseudo: ids.length > 0 ? { dir: path.join(ctx.run, STPP_FILES.pseudo), ids, strong: ctx.c.sda } : undefined,
        saveAtEpochs: teacherCkpts,
      });
      if (!summary.completed) return undefined;
      for (const e of teacherCkpts ?? []) {
        if (!existsSync(ckptFile(dir, e))) {
          throw new SsssegError('stpp.missingCheckpoint', `the teacher finished without ${ckptFile(dir, e)}`, 'rerun with --from-stage 1');
        }
      }
      const b = summary.best;
      return {
        epochs,
        labeled: labeled.length,
        pseudo: ids.length,
        iterations: summary.iterations,
        trainWallTimeS: summary.wallTimeS,
        best: b ? { miou: b.miou, pixel_acc: b.pixelAcc, iou: b.iou, protocol: b.protocol, iteration: b.iteration, net: b.net, n: b.n } : null,
        checkpoint: path.relative(ctx.run, bestCheckpoint(dir)),
      };
    },
  };
}

/** Pseudo-masks for `ids()` from the best checkpoint of training stage `from`, with TTA. */
function pseudoStage(ctx: StageContext, name: string, from: number, ids: () => Promise<string[]>, ownsFolder: boolean): Stage {
  const folders = [path.join(ctx.run, STPP_FILES.pseudo), path.join(ctx.run, STPP_FILES.pseudoColor)];
  return {
    name,
    async outputs() {
      if (ownsFolder) return folders;
      const list = await ids().catch(() => [] as string[]);
      return list.flatMap((id) => [pseudoFile(ctx.run, id), previewFile(ctx.run, id)]);
    },
    async run() {
      const list = await ids();
      const ckpt = bestCheckpoint(stageDir(ctx.run, from));
      const written = await withNets([ckpt], ([predict]) =>
        writePseudoMasks(ctx.run, list, readImage(ctx.data), predict!, {
          scales: ctx.c.tta.scales,
          flip: ctx.c.tta.flip,
          palette: ctx.previews || ctx.c.previews ? ctx.data.meta.palette : undefined,
          signal: ctx.signal,
          onImage: progress(ctx.io, `${name} (${path.relative(ctx.run, ckpt)}, TTA ×${ctx.c.tta.scales.length * (ctx.c.tta.flip ? 2 : 1)})`),
        }),
      );
      if (written === undefined) return undefined;
      return { images: list.length, written, checkpoint: path.relative(ctx.run, ckpt), tta: ctx.c.tta };
    },
  };
}

/** ST++ step 2: stability of every unlabeled image over the teacher's checkpoints. */
function selectStage(ctx: StageContext, c: StppConfig): Stage {
  const files = [STPP_FILES.reliability, STPP_FILES.reliabilityPartial, STPP_FILES.reliable, STPP_FILES.unreliable];
  return {
    name: 'select',
    outputs: async () => files.map((f) => path.join(ctx.run, f)),
    async run() {
      const epochs = checkpointEpochs(stageEpochs(ctx.cfg, c, 0), c.checkpoints);
      const ckpts = epochs.map((e) => ckptFile(stageDir(ctx.run, 1), e));
      const ids = ctx.split.unlabeled;
      const scores = await withNets(ckpts, (predicts) =>
        scoreImages(ids, readImage(ctx.data), predicts, ctx.data.numClasses, {
          partialFile: path.join(ctx.run, STPP_FILES.reliabilityPartial),
          signal: ctx.signal,
          onImage: progress(ctx.io, `select (stability over epochs ${epochs.join(', ')})`),
        }),
      );
      if (!scores) return undefined;
      const split = splitReliable(scores, c.reliable_fraction);
      await writeSelection(ctx.run, split, epochs, c.reliable_fraction);
      const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
      const scoreOf = new Map(scores.map((s) => [s.id, s.score]));
      return {
        checkpoints: epochs,
        reliable: split.reliable.length,
        unreliable: split.unreliable.length,
        meanScoreReliable: mean(split.reliable.map((id) => scoreOf.get(id)!)),
        meanScoreUnreliable: mean(split.unreliable.map((id) => scoreOf.get(id)!)),
      };
    },
  };
}

/** ST: teacher → pseudo-label all → re-train. ST++: the six steps of docs/methods.md §2.3. */
export function pipelineStages(ctx: StageContext, kind: 'st' | 'stpp'): Stage[] {
  const all = async () => [...ctx.split.unlabeled];
  if (kind === 'st') {
    return withResults(ctx, [trainingStage(ctx, 1, async () => []), pseudoStage(ctx, 'pseudo-all', 1, all, true), trainingStage(ctx, 2, all)]);
  }
  const c = ctx.c as StppConfig;
  const reliable = () => readIdList(path.join(ctx.run, STPP_FILES.reliable));
  const unreliable = () => readIdList(path.join(ctx.run, STPP_FILES.unreliable));
  const teacherCkpts = [...new Set(checkpointEpochs(stageEpochs(ctx.cfg, c, 0), c.checkpoints))];
  return withResults(ctx, [
    trainingStage(ctx, 1, async () => [], teacherCkpts),
    selectStage(ctx, c),
    pseudoStage(ctx, 'pseudo-reliable', 1, reliable, true),
    trainingStage(ctx, 2, reliable),
    pseudoStage(ctx, 'pseudo-unreliable', 2, unreliable, false),
    trainingStage(ctx, 3, all),
  ]);
}

/** results.json describes the final student: it goes whenever the last stage is redone. */
function withResults(ctx: StageContext, stages: Stage[]): Stage[] {
  const last = stages[stages.length - 1]!;
  const outputs = async () => [...(await last.outputs()), path.join(ctx.run, STPP_FILES.results)];
  return [...stages.slice(0, -1), { ...last, outputs }];
}
