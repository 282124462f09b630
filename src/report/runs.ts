/**
 * What the report needs from one run folder: its log(s), results, method, split, and the
 * checkpoint and data folder the prediction grid uses. A plain run has one log.jsonl; an ST/ST++
 * pipeline folder has one per training stage (stage1/, stage2/, …) and results.json at the top.
 */
import { promises as fs, existsSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { SsssegError } from '../errors.ts';
import { readRunResults, type RunResults } from '../io/results.ts';
import { RUN_FILES } from '../train/run-dir.ts';
import { stageDir } from '../stpp/layout.ts';
import { readLog, type RunLog } from './logs.ts';

export interface LogSection {
  /** "" for a plain run, "stage1", "stage2", … for a pipeline stage */
  label: string;
  dir: string;
  log: RunLog;
}

export interface ReportRun {
  dir: string;
  /** the folder's name, as shown in the page and the chart legends */
  name: string;
  method?: string;
  split?: string;
  dataset?: string;
  results?: RunResults;
  sections: LogSection[];
  /** where the run says its data lives (config `run.data`), for when the checkpoint does not */
  configData?: string;
}

/** More stages than any pipeline has; the search stops at the first missing one anyway. */
const MAX_STAGES = 9;

export async function loadRun(dir: string): Promise<ReportRun> {
  const stat = await fs.stat(dir).catch(() => undefined);
  if (!stat) throw new SsssegError('report.noRun', `run folder ${dir} does not exist`);
  if (!stat.isDirectory()) throw new SsssegError('report.noRun', `${dir} is not a folder`, 'pass run folders, not files in them');
  const sections = await findSections(dir);
  if (sections.length === 0) {
    throw new SsssegError(
      'report.noLog',
      `run folder ${dir} has no ${RUN_FILES.log} (nor stage*/${RUN_FILES.log})`,
      'pass folders written by `sssseg train` or `sssseg st-plus-plus`',
    );
  }
  const results = existsSync(path.join(dir, RUN_FILES.results)) ? await readRunResults(dir) : undefined;
  const config = await readConfig(path.join(dir, RUN_FILES.config));
  const run = asRecord(config['run']);
  return {
    dir,
    name: path.basename(path.resolve(dir)),
    method: results?.method ?? str(config['method']),
    split: results?.split ?? str(run['split']),
    dataset: results?.dataset,
    results,
    sections,
    configData: str(run['data']),
  };
}

async function findSections(dir: string): Promise<LogSection[]> {
  const own = path.join(dir, RUN_FILES.log);
  if (existsSync(own)) return [{ label: '', dir, log: await readLog(own) }];
  const sections: LogSection[] = [];
  for (let n = 1; n <= MAX_STAGES; n++) {
    const sdir = stageDir(dir, n);
    const file = path.join(sdir, RUN_FILES.log);
    if (!existsSync(file)) {
      // a pipeline stops at its last stage; later stage numbers cannot exist without this one
      if (!existsSync(sdir)) break;
      continue;
    }
    sections.push({ label: path.basename(sdir), dir: sdir, log: await readLog(file) });
  }
  return sections;
}

/** The checkpoint the grid shows: results.json's, else best.bin, else last.bin of the last stage. */
export function gridCheckpoint(run: ReportRun): string {
  const fromResults = run.results?.checkpoint ? path.join(run.dir, run.results.checkpoint) : undefined;
  if (fromResults && existsSync(fromResults)) return fromResults;
  for (const section of [...run.sections].reverse()) {
    for (const f of [RUN_FILES.best, RUN_FILES.last]) {
      const file = path.join(section.dir, f);
      if (existsSync(file)) return file;
    }
  }
  throw new SsssegError(
    'report.noCheckpoint',
    `run folder ${run.dir} has neither ${RUN_FILES.best} nor ${RUN_FILES.last}`,
    'pass --no-images for curves only',
  );
}

/** config.yaml is informative here: a missing or foreign one just leaves method and split unknown. */
async function readConfig(file: string): Promise<Record<string, unknown>> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return {};
  try {
    return asRecord(yaml.load(text));
  } catch {
    return {};
  }
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
