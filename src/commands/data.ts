/**
 * The logic behind `sssseg prepare-*`, `synthetic` and `split`: option checking and summary
 * lines. The files in src/cli/wiring only declare options and call these.
 */
import type { Io } from '../output.ts';
import { SsssegError } from '../errors.ts';
import { readDatasetMeta } from '../data/format.ts';
import { writePrepared, type PrepareResult, type SourceSpec } from '../data/prepare.ts';
import { importPartition, IMPORT_ORIGINS, type ImportOrigin } from '../data/split-import.ts';
import { parseLabeledSpec, randomPartition, randomPartitionName, savePartition, trainSplitOf } from '../data/split.ts';
import { writeSynthetic } from '../data/synthetic.ts';
import { camvidDev, camvidSource } from '../data/sources/camvid.ts';
import { cityscapesSource } from '../data/sources/cityscapes.ts';
import { vocSource } from '../data/sources/voc.ts';

/** What these commands print to: the lines of an `Io` (no progress bars here). */
type Lines = Pick<Io, 'out' | 'err'>;

/** `--size 180x240` (H x W). */
export function parseSize(text: string, flag = '--size'): { h: number; w: number } {
  const m = /^(\d+)x(\d+)$/i.exec(text.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new SsssegError('cli.badValue', `${flag} ${text}: expected HxW, e.g. 180x240`);
  return { h: Number(m[1]), w: Number(m[2]) };
}

export function parseInt10(text: string, flag: string, min = 0): number {
  if (!/^-?\d+$/.test(text.trim()) || Number(text) < min) throw new SsssegError('cli.badValue', `${flag} ${text}: expected an integer ≥ ${min}`);
  return Number(text);
}

export interface PrepareArgs {
  out: string;
  force?: boolean;
  skipBad?: boolean;
  size?: string;
  interp?: string;
}

async function prepare(spec: SourceSpec, args: PrepareArgs, io: Lines): Promise<PrepareResult> {
  const interp = args.interp ?? 'area';
  if (interp !== 'area' && interp !== 'bilinear') throw new SsssegError('cli.badValue', `--interp ${interp}: expected area or bilinear`);
  const result = await writePrepared(spec, {
    out: args.out,
    force: Boolean(args.force),
    skipBad: Boolean(args.skipBad),
    size: args.size ? parseSize(args.size) : undefined,
    interp,
    warn: (l) => io.err(l),
  });
  const counts = Object.entries(result.splits).map(([k, v]) => `${k} ${v}`).join(', ');
  io.out(`${spec.name}: wrote ${result.written} images (${counts}) to ${result.out}`);
  if (result.skipped.length > 0) io.err(`warning: skipped ${result.skipped.length} bad sample(s) (--skip-bad)`);
  return result;
}

export async function runPrepareVoc(args: PrepareArgs & { voc: string; aug?: string }, io: Lines): Promise<PrepareResult> {
  return prepare(await vocSource({ voc: args.voc, aug: args.aug }), args, io);
}

export async function runPrepareCityscapes(args: PrepareArgs & { root: string; labels?: string }, io: Lines): Promise<PrepareResult> {
  const labels = args.labels ?? 'auto';
  if (labels !== 'auto' && labels !== 'labelIds' && labels !== 'labelTrainIds') {
    throw new SsssegError('cli.badValue', `--labels ${labels}: expected auto, labelIds or labelTrainIds`);
  }
  return prepare(await cityscapesSource(args.root, labels), args, io);
}

export async function runPrepareCamvid(args: PrepareArgs & { root: string; dev?: string }, io: Lines): Promise<PrepareResult> {
  const spec = await camvidSource(args.root);
  return prepare(args.dev === undefined ? spec : camvidDev(spec, parseInt10(args.dev, '--dev', 1)), args, io);
}

export interface SyntheticArgs {
  out: string;
  n?: string;
  val?: string;
  size?: string;
  classes?: string;
  seed?: string;
  force?: boolean;
}

export async function runSynthetic(args: SyntheticArgs, io: Lines): Promise<void> {
  const n = parseInt10(args.n ?? '64', '--n', 1);
  const { h, w } = parseSize(args.size ?? '64x64');
  const val = args.val !== undefined ? parseInt10(args.val, '--val') : Math.max(8, Math.round(n / 4));
  const classes = parseInt10(args.classes ?? '4', '--classes', 2);
  const seed = parseInt10(args.seed ?? '0', '--seed');
  const r = await writeSynthetic({ out: args.out, n, val, h, w, classes, seed, force: Boolean(args.force) });
  io.out(`synthetic: wrote train ${r.train}, val ${r.val} images of ${h}x${w}, ${classes} classes, to ${args.out}`);
}

export interface SplitArgs {
  data: string;
  labeled?: string;
  seed?: string;
  from?: string;
  unlabeledFrom?: string;
  import?: string;
  name?: string;
  force?: boolean;
}

export async function runSplit(args: SplitArgs, source: string | undefined, io: Lines): Promise<{ name: string; labeled: number; unlabeled: number }> {
  if (args.import !== undefined) {
    if (args.labeled !== undefined) throw new SsssegError('cli.conflict', 'give either --labeled or --import, not both');
    if (!(IMPORT_ORIGINS as readonly string[]).includes(args.import)) {
      throw new SsssegError('cli.badValue', `--import ${args.import}: expected ${IMPORT_ORIGINS.join(' | ')}`);
    }
    if (!source) throw new SsssegError('cli.missingOption', '`sssseg split --import <origin>` needs the list file or folder as argument');
    const { name, entry } = await importPartition(args.data, { origin: args.import as ImportOrigin, source, name: args.name, from: args.from, force: Boolean(args.force) });
    io.out(`split ${name}: ${entry.labeled} labeled, ${entry.unlabeled} unlabeled → ${args.data}/${entry.dir}`);
    return { name, labeled: entry.labeled, unlabeled: entry.unlabeled };
  }
  if (args.labeled === undefined) throw new SsssegError('cli.missingOption', '`sssseg split` needs --labeled 1/N|<count> or --import u2pl|stpp|unimatch <list>');
  const spec = parseLabeledSpec(args.labeled);
  const seed = parseInt10(args.seed ?? '0', '--seed');
  const meta = await readDatasetMeta(args.data);
  const from = args.from ?? trainSplitOf(meta);
  // VOC convention (U2PL classic): labeled from the 1464 train images, unlabeled the rest of train_aug
  const unlabeledFrom = args.unlabeledFrom ?? (from === 'train' && 'train_aug' in meta.splits ? 'train_aug' : from);
  const part = randomPartition(meta, spec, seed, from, unlabeledFrom);
  const name = args.name ?? randomPartitionName(args.labeled, seed);
  const entry = await savePartition(args.data, {
    name,
    ...part,
    info: { from: unlabeledFrom === from ? from : `${from}+${unlabeledFrom}`, origin: 'random', seed },
    force: Boolean(args.force),
  });
  io.out(`split ${name}: ${entry.labeled} labeled, ${entry.unlabeled} unlabeled (seed ${seed}, from ${from}) → ${args.data}/${entry.dir}`);
  return { name, labeled: entry.labeled, unlabeled: entry.unlabeled };
}
