/**
 * `sssseg report`: training curves and a prediction grid of one or more run folders, gathered in
 * one self-contained HTML page (plus the PNGs and a report.json listing them) — what researchers
 * would rather look at than read.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Io } from '../output.ts';
import type { BackendInfo } from '../backend/index.ts';
import { SsssegError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { ensureWritableDir } from '../io/writable.ts';
import { VERSION } from '../version.ts';
import { renderChart, type ChartSpec } from '../report/chart.ts';
import { overlaySpec, runCharts, safeName } from '../report/charts.ts';
import { renderHtml, type HtmlGrid, type HtmlImage, type HtmlRun } from '../report/html.ts';
import { pngSize, svgToPng } from '../report/raster.ts';
import { gridCheckpoint, loadRun, type ReportRun } from '../report/runs.ts';

export interface ReportOptions {
  runs: string[];
  /** output folder (created) */
  out: string;
  /** val images per run in the prediction grid; 0 = no grid (and no backend) */
  images?: number;
  /** prepared data folder for the grid, instead of the one the checkpoint records */
  data?: string;
  title?: string;
}

export interface ReportRunSummary {
  dir: string;
  name: string;
  /** the run's subfolder of --out */
  folder: string;
  method?: string;
  split?: string;
  charts: string[];
  grid: string[];
  checkpoint?: string;
}

export interface ReportResult {
  out: string;
  html: string;
  json: string;
  /** every file written, relative to `out` (report.json itself excluded) */
  files: string[];
  runs: ReportRunSummary[];
  overlay?: string;
}

export const DEFAULT_REPORT_IMAGES = 4;
export const REPORT_FILES = { html: 'index.html', json: 'report.json', overlay: 'overlay-val-miou.png' } as const;

/** `backend` is called only when the grid is drawn: curves alone need no tfjs backend. */
export async function runReport(opts: ReportOptions, io: Io, backend: () => Promise<BackendInfo>): Promise<ReportResult> {
  const images = opts.images ?? DEFAULT_REPORT_IMAGES;
  if (!Number.isInteger(images) || images < 0) throw new SsssegError('report.images', `--images must be a non-negative integer, got ${images}`);
  if (opts.runs.length === 0) throw new SsssegError('report.noRuns', 'no run folders given');
  // read every folder first: a typo in the last one should fail before minutes of inference
  const runs: ReportRun[] = [];
  for (const dir of opts.runs) runs.push(await loadRun(dir));
  if (images > 0) await backend();
  // everything is rendered in memory first: a failing grid must not leave half a report behind
  const writer = fileCollector();
  const folders = uniqueFolders(runs);
  const htmlRuns: HtmlRun[] = [];
  const summaries: ReportRunSummary[] = [];
  for (const [i, run] of runs.entries()) {
    const folder = folders[i]!;
    const charts = await writeCharts(run, folder, writer);
    const grid = images > 0 ? await writeGrid(run, folder, { ...opts, images }, writer, io) : undefined;
    htmlRuns.push(htmlRun(run, folder, charts.groups, grid?.html));
    summaries.push({
      dir: run.dir, name: run.name, folder, method: run.method, split: run.split,
      charts: charts.files, grid: grid?.files ?? [], checkpoint: grid?.html.checkpoint,
    });
  }
  const overlay = runs.length > 1 ? await writeOverlay(runs, writer) : undefined;
  const title = opts.title ?? (runs.length === 1 ? `sssseg report: ${runs[0]!.name}` : `sssseg report: ${runs.length} runs`);
  const html = renderHtml({ title, created: new Date().toISOString(), version: VERSION, overlay: overlay?.image, runs: htmlRuns });
  await writer.write(REPORT_FILES.html, html);
  const json = path.join(opts.out, REPORT_FILES.json);
  const result: ReportResult = { out: opts.out, html: path.join(opts.out, REPORT_FILES.html), json, files: writer.files, runs: summaries, overlay: overlay?.file };
  const previous = await previousFiles(opts.out);
  await writer.flush(opts.out);
  // report.json last: it lists only files that are all in place
  await writeFileAtomic(json, JSON.stringify({ version: VERSION, created: new Date().toISOString(), ...result }, null, 2) + '\n');
  await removeStale(opts.out, previous, writer.files);
  io.err(`wrote ${writer.files.length} files for ${runs.length} run${runs.length === 1 ? '' : 's'} to ${opts.out}`);
  io.out(result.html);
  return result;
}

interface FileWriter {
  /** paths relative to the output folder, in the order they were added */
  files: string[];
  write(rel: string, data: string | Uint8Array): Promise<void>;
  /** write every collected file (each atomically) under `out` */
  flush(out: string): Promise<void>;
}

function fileCollector(): FileWriter {
  const pending = new Map<string, string | Uint8Array>();
  return {
    get files() {
      return [...pending.keys()];
    },
    async write(rel, data) {
      pending.set(rel, data);
    },
    async flush(out) {
      await ensureWritableDir(out, `report folder ${out}`);
      for (const [rel, data] of pending) await writeFileAtomic(path.join(out, rel), data);
    },
  };
}

/** Output subfolder per run: its name, with -2, -3… when two folders share one. */
function uniqueFolders(runs: ReportRun[]): string[] {
  const used = new Set<string>([path.parse(REPORT_FILES.html).name]);
  return runs.map((r) => {
    const base = safeName(r.name);
    let name = base;
    for (let k = 2; used.has(name); k++) name = `${base}-${k}`;
    used.add(name);
    return name;
  });
}

async function chartImage(spec: ChartSpec): Promise<HtmlImage & { png: Buffer }> {
  const png = await svgToPng(renderChart(spec));
  return { png, ...(await pngSize(png)), alt: spec.title };
}

async function writeCharts(run: ReportRun, folder: string, writer: FileWriter): Promise<{ groups: HtmlRun['charts']; files: string[] }> {
  const groups: HtmlRun['charts'] = [];
  const files: string[] = [];
  for (const chart of runCharts(run)) {
    const img = await chartImage(chart.spec);
    const rel = path.join(folder, chart.file);
    await writer.write(rel, img.png);
    if (groups[groups.length - 1]?.section !== chart.section) groups.push({ section: chart.section, images: [] });
    groups[groups.length - 1]!.images.push(img);
    files.push(rel);
  }
  return { groups, files };
}

async function writeOverlay(runs: ReportRun[], writer: FileWriter): Promise<{ image: HtmlImage; file: string } | undefined> {
  const spec = overlaySpec(runs);
  if (spec.series.length === 0) return undefined;
  const image = await chartImage(spec);
  await writer.write(REPORT_FILES.overlay, image.png);
  return { image, file: REPORT_FILES.overlay };
}

async function writeGrid(
  run: ReportRun,
  folder: string,
  opts: ReportOptions & { images: number },
  writer: FileWriter,
  io: Io,
): Promise<{ html: HtmlGrid; files: string[] }> {
  const checkpoint = gridCheckpoint(run);
  // model and data code only when a grid is drawn
  const { predictGrid } = await import('../report/grid.ts');
  io.err(`report ${run.name}: predicting ${opts.images} val image${opts.images === 1 ? '' : 's'} with ${checkpoint}`);
  const t0 = Date.now();
  const g = await predictGrid({ checkpoint, data: opts.data, configData: run.configData, images: opts.images });
  const files: string[] = [];
  const rows: HtmlGrid['rows'] = [];
  for (const [i, row] of g.rows.entries()) {
    const rel = path.join(folder, `grid-${i + 1}.png`);
    await writer.write(rel, row.png);
    files.push(rel);
    rows.push({ id: row.id, png: row.png, width: row.width, height: row.height, alt: `${run.name} ${row.id}` });
  }
  io.err(`report ${run.name}: ${g.rows.length} predictions in ${((Date.now() - t0) / 1000).toFixed(1)} s (${g.dataDir})`);
  return { html: { checkpoint: g.checkpoint, net: g.net, protocol: g.protocol, dataDir: g.dataDir, rows }, files };
}

function htmlRun(run: ReportRun, folder: string, charts: HtmlRun['charts'], grid: HtmlGrid | undefined): HtmlRun {
  const notes = run.sections
    .filter((s) => s.log.badLines.length > 0)
    .map((s) => `${path.join(s.dir, 'log.jsonl')}: skipped ${s.log.badLines.length} unreadable line(s) (${s.log.badLines.slice(0, 5).join(', ')})`);
  return {
    id: folder, name: run.name, dir: run.dir, method: run.method, split: run.split, dataset: run.dataset ?? grid?.dataDir,
    results: run.results, bestVal: bestValidation(run), charts, grid, notes,
  };
}

function bestValidation(run: ReportRun): HtmlRun['bestVal'] {
  let best: HtmlRun['bestVal'];
  for (const s of run.sections) {
    for (const p of s.log.valMiou) if (!best || p.y > best.miou) best = { miou: p.y, iteration: p.x, stage: s.label };
  }
  return best;
}

/** Files of an earlier report into the same folder; only those are ever deleted. */
async function previousFiles(out: string): Promise<string[]> {
  const text = await fs.readFile(path.join(out, REPORT_FILES.json), 'utf8').catch(() => undefined);
  if (text === undefined) return [];
  try {
    const v = (JSON.parse(text) as { files?: unknown }).files;
    return Array.isArray(v) ? v.filter((f): f is string => typeof f === 'string' && !path.isAbsolute(f) && !f.split(/[\\/]/).includes('..')) : [];
  } catch {
    return [];
  }
}

async function removeStale(out: string, previous: string[], current: string[]): Promise<void> {
  const keep = new Set(current);
  for (const rel of previous) if (!keep.has(rel)) await fs.rm(path.join(out, rel), { force: true });
}
