/**
 * `sssseg eval`: run one checkpoint over a split under a paper protocol, print the per-class
 * table and store JSON + CSV next to the checkpoint.
 */
import path from 'node:path';
import type { Io } from '../output.ts';
import { SsssegError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { ensureWritableDir } from '../io/writable.ts';
import { toJson } from '../io/results.ts';
import { evaluate, type EvalResult, type EvalSample } from '../eval/evaluate.ts';
import { chooseProtocol, type InferenceMode } from '../eval/protocol.ts';
import { evalCsv, evalJson, evalMarkdown, evalOutputPaths, type EvalContext } from '../eval/report.ts';
import { savePrediction } from '../eval/save-pred.ts';
import { defaultEvalSources, type EvalData, type EvalSources } from '../eval/sources.ts';

export interface EvalCommandOptions {
  checkpoint: string;
  /** prepared data folder; default: the one the checkpoint was trained on, when it records it */
  data?: string;
  split?: string;
  mode?: InferenceMode;
  crop?: number;
  stride?: number;
  sizeDivisor?: number;
  scales?: number[];
  flip?: boolean;
  absentAsZero?: boolean;
  /** network prefix inside the checkpoint (teacher, student, ...) */
  net?: string;
  /** folder for class-id and colour PNGs */
  savePred?: string;
  /** evaluate only the first N images of the split */
  limit?: number;
  /** backend name for the report */
  backend?: string;
}

export interface EvalCommandResult extends EvalResult {
  context: EvalContext;
  files: { json: string; csv: string; predictions?: string };
  markdown: string;
}

const PROGRESS_EVERY_MS = 5000;

export async function runEval(opts: EvalCommandOptions, io: Io, sources: EvalSources = defaultEvalSources): Promise<EvalCommandResult> {
  const split = opts.split ?? 'val';
  // before the long computation: a prediction folder that cannot be written fails now
  if (opts.savePred) await ensureWritableDir(opts.savePred, `prediction folder ${opts.savePred}`);
  const model = await sources.loadModel(opts.checkpoint, opts.net);
  try {
    const dataDir = opts.data ?? model.dataDir;
    if (!dataDir) {
      throw new SsssegError('eval.noData', `${opts.checkpoint} does not record its data folder`, 'pass --data <prepared data folder>');
    }
    const data = await sources.openData(dataDir);
    checkClasses(model.classes, data, opts.checkpoint, dataDir);
    const ids = splitIds(data, split, dataDir, opts.limit);
    const protocol = chooseProtocol(model.defaults, opts);
    const absentAsZero = opts.absentAsZero ?? model.defaults.absentAsZero ?? false;
    const progress = progressReporter(io, ids.length);
    const t0 = Date.now();
    const result = await evaluate({
      samples: readAll(data, ids),
      predict: model.predict,
      protocol,
      numClasses: data.classes.length,
      absentAsZero,
      onPrediction: async (p) => {
        if (opts.savePred) await savePrediction(opts.savePred, p.id, p.pred, p.h, p.w, data.palette);
        progress(p.index + 1);
      },
    });
    const context: EvalContext = {
      checkpoint: opts.checkpoint,
      net: opts.net,
      dataset: data.name,
      split,
      classes: data.classes,
      backend: opts.backend ?? 'unknown',
      wallTimeS: (Date.now() - t0) / 1000,
    };
    const files = evalOutputPaths(opts.checkpoint, split, opts.net);
    const markdown = evalMarkdown(result, context);
    // the table first: a checkpoint in a read-only folder must not cost the computed numbers
    io.out(markdown);
    await writeFileAtomic(files.json, toJson(evalJson(result, context)));
    await writeFileAtomic(files.csv, evalCsv(result, context));
    io.err(`wrote ${files.json} and ${path.basename(files.csv)}${opts.savePred ? `; predictions in ${opts.savePred}` : ''}`);
    return { ...result, context, files: { ...files, predictions: opts.savePred }, markdown };
  } finally {
    model.dispose();
  }
}

function checkClasses(modelClasses: string[], data: EvalData, checkpoint: string, dataDir: string): void {
  if (modelClasses.length !== data.classes.length) {
    throw new SsssegError(
      'eval.classMismatch',
      `${checkpoint} predicts ${modelClasses.length} classes but ${dataDir} (${data.name}) has ${data.classes.length}`,
      'evaluate on the data set the checkpoint was trained for',
    );
  }
}

function splitIds(data: EvalData, split: string, dataDir: string, limit?: number): string[] {
  const ids = data.splits[split];
  if (!ids) {
    throw new SsssegError(
      'data.missingSplit',
      `${dataDir} has no split "${split}" (it has: ${Object.keys(data.splits).join(', ') || 'none'})`,
      'pass --split with one of those',
    );
  }
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new SsssegError('eval.limit', `--limit must be a positive integer, got ${limit}`);
  }
  const chosen = limit !== undefined ? ids.slice(0, limit) : ids;
  if (chosen.length === 0) throw new SsssegError('data.emptySplit', `split "${split}" of ${dataDir} is empty`);
  return chosen;
}

async function* readAll(data: EvalData, ids: string[]): AsyncGenerator<EvalSample> {
  // read the next image while the current one is being predicted
  const prefetch = (i: number) => {
    const p = data.read(ids[i]!);
    // if the consumer stops early, a failed read-ahead must not become an unhandled rejection
    p.catch(() => undefined);
    return p;
  };
  let next = prefetch(0);
  for (let i = 0; i < ids.length; i++) {
    const current = await next;
    if (i + 1 < ids.length) next = prefetch(i + 1);
    yield current;
  }
}

/** A line on stderr every few seconds and at the end, so long evaluations show they are alive. */
function progressReporter(io: Io, total: number): (done: number) => void {
  const start = Date.now();
  let last = start;
  return (done) => {
    const now = Date.now();
    if (done < total && now - last < PROGRESS_EVERY_MS) return;
    last = now;
    const rate = done / Math.max((now - start) / 1000, 1e-3);
    io.err(`eval ${done}/${total} (${rate.toFixed(2)} img/s)`);
  };
}
