/**
 * The prediction grid: for N val images of a run's data set (spread over the split), one PNG row of
 * image | ground truth | prediction, with the network `sssseg eval` would evaluate and the
 * protocol its checkpoint records. Loaded lazily: `report --no-images` needs no model code.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SsssegError } from '../errors.ts';
import { openDataset, readSample, normalize, type PreparedDataset } from '../data/index.ts';
import { loadNetFromCheckpoint, type CheckpointMeta } from '../models/checkpoint.ts';
import { segment } from '../eval/inference.ts';
import { evalDefaultsFromConfig } from '../eval/sources.ts';
import { chooseProtocol, describeProtocol } from '../eval/protocol.ts';
import { colorize } from '../eval/save-pred.ts';
import { stripPng, type Strip } from './raster.ts';

export interface GridOptions {
  checkpoint: string;
  /** --data: wins over what the checkpoint and the config record */
  data?: string;
  /** the run config's `run.data`, used when the checkpoint records no folder */
  configData?: string;
  images: number;
}

export interface GridRow extends Strip {
  id: string;
}

export interface GridResult {
  checkpoint: string;
  dataDir: string;
  dataset: string;
  net: string;
  protocol: string;
  rows: GridRow[];
}

/** Rows taller than this are scaled down (Cityscapes is 1024 high); smaller ones are kept. */
export const MAX_ROW_HEIGHT = 240;
/** Colour of ignore (255) pixels in ground truth and prediction: black beside the photo. */
export const GRID_IGNORE_RGB = [0, 0, 0] as const;

export async function predictGrid(opts: GridOptions): Promise<GridResult> {
  const { net, meta } = await loadNetFromCheckpoint(opts.checkpoint);
  try {
    const dataDir = chooseDataDir(opts, meta);
    const data = await openDataset(dataDir);
    checkClasses(meta, data, opts.checkpoint, dataDir);
    const ids = spreadIds(data.split('val'), opts.images);
    if (ids.length === 0) throw new SsssegError('report.noVal', `the val split of ${dataDir} is empty`, 'pass --no-images');
    const protocol = chooseProtocol(evalDefaultsFromConfig(meta.config), {});
    const predict = (x: Parameters<typeof net.forward>[0]) => net.forward(x, { training: false }).logits;
    const rows: GridRow[] = [];
    for (const id of ids) {
      const s = await readSample(data, id);
      const seg = await segment(normalize(s.image), s.h, s.w, predict, protocol);
      const strip = await stripPng(
        [
          { data: s.image, w: s.w, h: s.h, crisp: false },
          { data: colorize(s.label, data.palette, GRID_IGNORE_RGB), w: s.w, h: s.h, crisp: true },
          { data: colorize(seg.pred, data.palette, GRID_IGNORE_RGB), w: s.w, h: s.h, crisp: true },
        ],
        Math.min(s.h, MAX_ROW_HEIGHT),
      );
      rows.push({ id, ...strip });
    }
    const netName = meta.evalNet ?? Object.keys(meta.nets)[0] ?? 'net';
    return { checkpoint: opts.checkpoint, dataDir, dataset: data.name, net: netName, protocol: describeProtocol(protocol), rows };
  } finally {
    net.dispose();
  }
}

function chooseDataDir(opts: GridOptions, meta: CheckpointMeta): string {
  const candidates = [opts.data, meta.dataset.dir, opts.configData].filter((d): d is string => Boolean(d));
  // --data is taken as given (a wrong one should fail loudly); recorded folders may have moved
  const dir = opts.data ?? candidates.find((d) => existsSync(path.join(d, 'dataset.json')));
  if (!dir) {
    const tried = candidates.length ? ` (recorded: ${candidates.join(', ')}, not found)` : '';
    throw new SsssegError('report.noData', `cannot find the data folder of ${opts.checkpoint}${tried}`, 'pass --data <prepared data folder> or --no-images');
  }
  return dir;
}

function checkClasses(meta: CheckpointMeta, data: PreparedDataset, checkpoint: string, dataDir: string): void {
  if (meta.dataset.classes.length !== data.classes.length) {
    throw new SsssegError(
      'report.classMismatch',
      `${checkpoint} predicts ${meta.dataset.classes.length} classes but ${dataDir} (${data.name}) has ${data.classes.length}`,
      'pass the --data folder the run was trained on',
    );
  }
}

/**
 * `n` ids spread evenly over the split, starting with the first: consecutive ids of video data
 * sets (CamVid, Cityscapes sequences) are near-identical frames and would show one scene n times.
 */
export function spreadIds(ids: readonly string[], n: number): string[] {
  if (n >= ids.length) return [...ids];
  return Array.from({ length: n }, (_, i) => ids[Math.floor((i * ids.length) / n)]!);
}
