/**
 * index.html of a report: one self-contained page (PNGs as data URIs, inline CSS, nothing
 * fetched), so it can be mailed, attached to an issue or opened from an archive as is.
 */
import type { RunResults } from '../io/results.ts';
import { displayMethod } from '../methods/index.ts';
import { CHART_SCALE } from './raster.ts';

export interface HtmlImage {
  png: Uint8Array;
  /** pixel size of the PNG */
  width: number;
  height: number;
  alt: string;
}

export interface HtmlGrid {
  checkpoint: string;
  net: string;
  protocol: string;
  dataDir: string;
  rows: (HtmlImage & { id: string })[];
}

export interface HtmlRun {
  /** unique among the page's runs (two folders may share a name): the section anchor */
  id: string;
  name: string;
  dir: string;
  method?: string;
  split?: string;
  dataset?: string;
  results?: RunResults;
  /** best validation found in the log, for runs without results.json */
  bestVal?: { miou: number; iteration: number; stage: string };
  /** charts by log section: one group for a plain run, one per stage of a pipeline */
  charts: { section: string; images: HtmlImage[] }[];
  grid?: HtmlGrid;
  notes: string[];
}

export interface HtmlPage {
  title: string;
  created: string;
  version: string;
  overlay?: HtmlImage;
  runs: HtmlRun[];
}

/** Rows lower than this are shown enlarged (pixelated), so 64-pixel smoke images stay visible. */
const MIN_ROW_DISPLAY = 128;

const CSS = `
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:24px auto;max-width:1360px;padding:0 16px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:36px;border-bottom:1px solid #ccc;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;font-size:13px}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:8px}.charts img{border:1px solid #eee}
img.crisp{image-rendering:pixelated}.note{color:#a15c00;font-size:13px}.meta{color:#666;font-size:12px}
code{background:#f4f4f4;padding:0 3px}`;

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

export const dataUri = (png: Uint8Array): string => `data:image/png;base64,${Buffer.from(png).toString('base64')}`;

const pct = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(2)} %` : '–');

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '–';
  if (s < 60) return `${s.toFixed(0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s - m * 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

function chartImg(img: HtmlImage): string {
  const w = Math.round(img.width / CHART_SCALE);
  const h = Math.round(img.height / CHART_SCALE);
  return `<img src="${dataUri(img.png)}" width="${w}" height="${h}" alt="${esc(img.alt)}">`;
}

function rowImg(img: HtmlImage): string {
  const k = img.height < MIN_ROW_DISPLAY ? Math.ceil(MIN_ROW_DISPLAY / img.height) : 1;
  const cls = k > 1 ? ' class="crisp"' : '';
  return `<img${cls} src="${dataUri(img.png)}" width="${img.width * k}" height="${img.height * k}" alt="${esc(img.alt)}">`;
}

function summaryTable(runs: HtmlRun[]): string {
  const rows = runs.map((r) => {
    const miou = r.results ? pct(r.results.metrics.miou) : r.bestVal ? `${pct(r.bestVal.miou)} (log)` : '–';
    const time = r.results ? formatDuration(r.results.wall_time_s) : '–';
    return `<tr><td><a href="#${anchor(r)}">${esc(r.name)}</a></td><td>${esc(methodName(r))}</td><td>${esc(r.split ?? '–')}</td><td class="num">${miou}</td><td class="num">${time}</td></tr>`;
  });
  return `<table><tr><th>run</th><th>method</th><th>split</th><th>val mIoU</th><th>wall time</th></tr>${rows.join('')}</table>`;
}

const methodName = (r: HtmlRun): string => (r.method ? displayMethod(r.method) : '–');
const anchor = (r: HtmlRun): string => `run-${r.id}`;

function resultsTable(r: HtmlRun): string {
  const cells: [string, string][] = [
    ['folder', `<code>${esc(r.dir)}</code>`],
    ['method', esc(methodName(r))],
    ['split', esc(r.split ?? '–')],
  ];
  if (r.dataset) cells.push(['data set', esc(r.dataset)]);
  const res = r.results;
  if (res) {
    cells.push(
      ['val mIoU', pct(res.metrics.miou)],
      ['val pixel accuracy', pct(res.metrics.pixel_acc)],
      ['wall time', formatDuration(res.wall_time_s)],
      ['iterations', String(res.iterations)],
      ['backend', esc(res.backend)],
      ['protocol', esc(res.protocol)],
    );
  } else {
    cells.push(['results', 'no results.json (run not finished?)']);
    if (r.bestVal) cells.push(['best val mIoU in log', `${pct(r.bestVal.miou)} at iteration ${r.bestVal.iteration}${r.bestVal.stage ? ` (${esc(r.bestVal.stage)})` : ''}`]);
  }
  return `<table>${cells.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table>`;
}

function gridTable(g: HtmlGrid): string {
  const rows = g.rows.map((row) => `<tr class="grid-row"><td><code>${esc(row.id)}</code></td><td>${rowImg(row)}</td></tr>`);
  return [
    `<h3>Predictions</h3>`,
    `<p class="meta">${esc(g.checkpoint)}, network ${esc(g.net)}, ${esc(g.protocol)}; data ${esc(g.dataDir)}. Ignore pixels are black.</p>`,
    `<table><tr><th>val id</th><th>image · ground truth · prediction</th></tr>${rows.join('')}</table>`,
  ].join('\n');
}

function runSection(r: HtmlRun): string {
  return [
    `<section id="${anchor(r)}">`,
    `<h2>${esc(r.name)}</h2>`,
    resultsTable(r),
    ...r.notes.map((n) => `<p class="note">${esc(n)}</p>`),
    ...r.charts.map((g) => `${g.section ? `<h3>${esc(g.section)}</h3>` : ''}<div class="charts">${g.images.map(chartImg).join('\n')}</div>`),
    r.grid ? gridTable(r.grid) : '',
    `</section>`,
  ].join('\n');
}

export function renderHtml(page: HtmlPage): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(page.title)}</title><style>${CSS}</style></head><body>`,
    `<h1>${esc(page.title)}</h1>`,
    `<p class="meta">written ${esc(page.created)} by sssseg ${esc(page.version)}</p>`,
    page.runs.length > 1 ? summaryTable(page.runs) : '',
    page.overlay ? `<div class="charts">${chartImg(page.overlay)}</div>` : '',
    ...page.runs.map(runSection),
    '</body></html>',
    '',
  ].join('\n');
}
