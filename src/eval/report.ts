/**
 * How one evaluation is shown and stored: a Markdown table for the terminal, and JSON + CSV files
 * named after the checkpoint so several evaluations of one run sit side by side.
 */
import path from 'node:path';
import { markdownTable, percent, toCsv } from '../io/results.ts';
import type { EvalResult } from './evaluate.ts';

export interface EvalContext {
  checkpoint: string;
  /** which network of the checkpoint (teacher, student, ...), when it holds several */
  net?: string;
  dataset: string;
  split: string;
  classes: string[];
  backend: string;
  wallTimeS: number;
}

/** `<dir>/<name>.eval-<split>.{json,csv}` for checkpoint `<dir>/<name>.bin`. */
export function evalOutputPaths(checkpoint: string, split: string, net?: string): { json: string; csv: string } {
  const dir = path.dirname(checkpoint);
  const base = path.basename(checkpoint).replace(/\.bin$/i, '');
  // a split or net name must not become a path component
  const safe = (s: string) => s.replace(/[^\w.-]+/g, '_');
  const stem = `${base}${net ? `.${safe(net)}` : ''}.eval-${safe(split)}`;
  return { json: path.join(dir, `${stem}.json`), csv: path.join(dir, `${stem}.csv`) };
}

function ruleText(r: EvalResult): string {
  return r.absentAsZero ? 'absent classes count as 0 (U2PL rule)' : 'absent classes excluded (ST++ rule)';
}

export function evalMarkdown(r: EvalResult, c: EvalContext): string {
  const who = `${path.basename(c.checkpoint)}${c.net ? ` (${c.net})` : ''}`;
  const head =
    `**${who}** on ${c.dataset}/${c.split}: ${r.n} images, protocol ${r.protocol}; ${ruleText(r)}; ` +
    `backend ${c.backend}, ${c.wallTimeS.toFixed(1)} s`;
  const rows = c.classes.map((name, i) => [name, percent(r.iou[i]!), percent(r.acc[i]!)]);
  rows.push(['**mIoU**', `**${percent(r.miou)}**`, '']);
  rows.push(['pixel accuracy', percent(r.pixelAcc), '']);
  rows.push(['mean class accuracy', '', percent(r.meanAcc)]);
  return `${head}\n\n${markdownTable(['class', 'IoU (%)', 'acc (%)'], rows, ['left', 'right', 'right'])}`;
}

/** The JSON record; fractions in [0, 1], NaN (excluded class) as null. */
export function evalJson(r: EvalResult, c: EvalContext): Record<string, unknown> {
  return {
    checkpoint: c.checkpoint,
    net: c.net ?? null,
    dataset: c.dataset,
    split: c.split,
    protocol: r.protocol,
    absent_as_zero: r.absentAsZero,
    images: r.n,
    miou: r.miou,
    pixel_acc: r.pixelAcc,
    mean_acc: r.meanAcc,
    classes: c.classes,
    iou: r.iou,
    acc: r.acc,
    confusion_rows_gt_cols_pred: r.confusion,
    backend: c.backend,
    wall_time_s: c.wallTimeS,
    created: new Date().toISOString(),
  };
}

/** One row per class, then the summary rows; empty cells for excluded classes. */
export function evalCsv(r: EvalResult, c: EvalContext): string {
  const rows: (string | number)[][] = [['class', 'iou', 'acc']];
  c.classes.forEach((name, i) => rows.push([name, r.iou[i]!, r.acc[i]!]));
  rows.push(['mIoU', r.miou, '']);
  rows.push(['pixel_acc', r.pixelAcc, '']);
  rows.push(['mean_acc', '', r.meanAcc]);
  return toCsv(rows);
}
