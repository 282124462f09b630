/**
 * Small line charts as SVG text (sharp turns them into PNGs): axes with "nice" ticks, a title, a
 * legend when there are several series, and noisy curves drawn as a moving average over the faint
 * raw curve. No charting library: the report must work offline and these few shapes are enough.
 */
import type { Point } from './logs.ts';

export interface Series {
  label: string;
  points: Point[];
  color?: string;
  /** draw a centred moving average over the raw curve (loss curves) */
  smooth?: boolean;
}

export interface ChartSpec {
  title: string;
  xLabel?: string;
  yLabel?: string;
  series: Series[];
  /** SVG user units; the PNG is rendered at a multiple of this */
  width?: number;
  height?: number;
  /** extend the x axis to at least this (validation curves end where training does) */
  xMax?: number;
}

export interface Scale {
  domain: [number, number];
  range: [number, number];
  (v: number): number;
}

export interface Frame {
  left: number;
  top: number;
  right: number;
  bottom: number;
  x: Scale;
  y: Scale;
  xTicks: number[];
  yTicks: number[];
  /** rows of legend entries (empty with one series) */
  legend: { label: string; color: string; dash: string; x: number; y: number }[];
}

export const CHART_WIDTH = 640;
export const CHART_HEIGHT = 320;
/** matplotlib's tab10: distinct, and readable on white */
export const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const FONT = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\"";
const MARGIN = { left: 64, right: 18, top: 34, bottom: 44 };
const LEGEND_ROW = 18;
/** rough width of one 11 px character, to lay out legend entries without measuring text */
const CHAR_W = 6.6;
/** fewer points than this get a marker on each (validation curves) */
const MARKER_MAX = 40;

export function linearScale(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  const f = (v: number) => r0 + (v - d0) * k;
  return Object.assign(f, { domain, range });
}

/** Step of 1, 2 or 5 × 10^k nearest (in ratio) to `raw`. */
function niceStep(raw: number): number {
  const exp = Math.floor(Math.log10(raw));
  const f = raw / 10 ** exp;
  const m = f >= Math.sqrt(50) ? 10 : f >= Math.sqrt(10) ? 5 : f >= Math.sqrt(2) ? 2 : 1;
  return m * 10 ** exp;
}

/** About `target` round tick values covering [min, max]: the first ≤ min, the last ≥ max. */
export function niceTicks(min: number, max: number, target = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const pad = Math.abs(min) * 0.1 || 1;
    min -= pad;
    max += pad;
  }
  const step = niceStep((max - min) / Math.max(1, target - 1));
  const start = Math.floor(min / step + 1e-9);
  const end = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  // multiples of the step, rounded, so 0.1 + 0.2 prints as 0.3
  for (let i = start; i <= end; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** Tick label: as many decimals as the step needs; exponent form for tiny steps, "k" for big ones. */
export function formatTick(v: number, step: number): string {
  if (v === 0) return '0';
  if (step >= 1000 && Number.isInteger(v / 1000)) return `${v / 1000}k`;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  if (decimals > 4) return v.toExponential(3).replace(/\.?0+e/, 'e');
  return v.toFixed(decimals);
}

/** Centred moving average; the window shrinks at the ends so the curve keeps its length and has no lag. */
export function movingAverage(values: readonly number[], window: number): number[] {
  const half = Math.floor(Math.max(1, window) / 2);
  const prefix = [0];
  for (const v of values) prefix.push(prefix[prefix.length - 1]! + v);
  return values.map((_, i) => {
    const a = Math.max(0, i - half);
    const b = Math.min(values.length, i + half + 1);
    return (prefix[b]! - prefix[a]!) / (b - a);
  });
}

/** An odd window of about 1/30 of the curve: smooths per-batch noise, keeps the trend. */
export function smoothingWindow(n: number): number {
  return n < 20 ? 1 : 2 * Math.max(1, Math.round(n / 60)) + 1;
}

/** At most `max` points, keeping each bucket's lowest and highest so spikes stay visible. */
export function decimate(points: readonly Point[], max: number): Point[] {
  if (points.length <= max) return [...points];
  const size = Math.ceil(points.length / Math.max(1, Math.floor(max / 2)));
  const out: Point[] = [];
  for (let i = 0; i < points.length; i += size) {
    const bucket = points.slice(i, i + size);
    let lo = bucket[0]!;
    let hi = bucket[0]!;
    for (const p of bucket) {
      if (p.y < lo.y) lo = p;
      if (p.y > hi.y) hi = p;
    }
    const [first, second] = lo.x <= hi.x ? [lo, hi] : [hi, lo];
    out.push(first);
    if (second !== first) out.push(second);
  }
  return out;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
}

const smoothed = (s: Series): Point[] => {
  const ys = movingAverage(s.points.map((p) => p.y), smoothingWindow(s.points.length));
  return s.points.map((p, i) => ({ x: p.x, y: ys[i]! }));
};

/** y extent: raw spikes of a smoothed series beyond its 2–98 % range are clipped, not scaled to. */
function yExtent(series: Series[]): [number, number] {
  const ys: number[] = [];
  for (const s of series) {
    if (s.points.length === 0) continue;
    if (!s.smooth) {
      ys.push(...s.points.map((p) => p.y));
      continue;
    }
    const raw = s.points.map((p) => p.y).sort((a, b) => a - b);
    ys.push(quantile(raw, 0.02), quantile(raw, 0.98), ...smoothed(s).map((p) => p.y));
  }
  return ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
}

function legendLayout(series: Series[], width: number): { entries: Frame['legend']; rows: number } {
  if (series.length < 2) return { entries: [], rows: 0 };
  const entries: Frame['legend'] = [];
  let x = MARGIN.left;
  let row = 0;
  series.forEach((s, i) => {
    const w = 24 + s.label.length * CHAR_W + 14;
    if (x + w > width - MARGIN.right && x > MARGIN.left) {
      row++;
      x = MARGIN.left;
    }
    entries.push({ label: s.label, color: colorOf(s, i), dash: dashOf(i), x, y: MARGIN.top + row * LEGEND_ROW });
    x += w;
  });
  return { entries, rows: row + 1 };
}

const colorOf = (s: Series, i: number): string => s.color ?? COLORS[i % COLORS.length]!;
/** Past the palette, colours repeat: a dash pattern per round keeps the series apart. */
const dashOf = (i: number): string => (i < COLORS.length ? '' : ` stroke-dasharray="${6 + 3 * Math.floor(i / COLORS.length)} 3"`);

/** Plot area, scales and ticks: exported so tests can check where a value lands. */
export function chartFrame(spec: ChartSpec): Frame {
  const width = spec.width ?? CHART_WIDTH;
  const height = spec.height ?? CHART_HEIGHT;
  const xs = spec.series.flatMap((s) => s.points.map((p) => p.x));
  if (spec.xMax !== undefined && Number.isFinite(spec.xMax)) xs.push(spec.xMax);
  const [xMin, xMax] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  // x is iterations: start the axis at 0 so runs validated every N iterations line up with their start
  const xTicksAll = niceTicks(Math.min(0, xMin), xMax, 6);
  const xDomain: [number, number] = [xTicksAll[0]!, xMax > xTicksAll[0]! ? xMax : xTicksAll[xTicksAll.length - 1]!];
  const xTicks = xTicksAll.filter((t) => t <= xDomain[1] + 1e-9);
  const [yMin, yMax] = yExtent(spec.series);
  const yTicks = niceTicks(yMin, yMax, 5);
  const legend = legendLayout(spec.series, width);
  const top = MARGIN.top + legend.rows * LEGEND_ROW + (legend.rows ? 4 : 0);
  const left = MARGIN.left;
  const right = width - MARGIN.right;
  const bottom = height - MARGIN.bottom;
  return {
    left,
    top,
    right,
    bottom,
    x: linearScale(xDomain, [left, right]),
    y: linearScale([yTicks[0]!, yTicks[yTicks.length - 1]!], [bottom, top]),
    xTicks,
    yTicks,
    legend: legend.entries,
  };
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (v: number): string => (Math.round(v * 10) / 10).toString();
const pointsAttr = (pts: Point[], f: Frame): string => pts.map((p) => `${num(f.x(p.x))},${num(f.y(p.y))}`).join(' ');

function axes(f: Frame, spec: ChartSpec, width: number, height: number): string[] {
  const xStep = f.xTicks.length > 1 ? f.xTicks[1]! - f.xTicks[0]! : 1;
  const yStep = f.yTicks.length > 1 ? f.yTicks[1]! - f.yTicks[0]! : 1;
  const out: string[] = [];
  for (const t of f.yTicks) {
    const y = num(f.y(t));
    out.push(`<line x1="${f.left}" x2="${f.right}" y1="${y}" y2="${y}" stroke="#e6e6e6"/>`);
    out.push(`<text x="${f.left - 6}" y="${y}" dy="4" text-anchor="end" font-size="11" ${FONT} fill="#333">${formatTick(t, yStep)}</text>`);
  }
  for (const t of f.xTicks) {
    const x = num(f.x(t));
    out.push(`<line x1="${x}" x2="${x}" y1="${f.bottom}" y2="${f.bottom + 4}" stroke="#333"/>`);
    out.push(`<text x="${x}" y="${f.bottom + 17}" text-anchor="middle" font-size="11" ${FONT} fill="#333">${formatTick(t, xStep)}</text>`);
  }
  out.push(`<rect x="${f.left}" y="${f.top}" width="${f.right - f.left}" height="${f.bottom - f.top}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold" ${FONT}>${esc(spec.title)}</text>`);
  if (spec.xLabel) out.push(`<text x="${(f.left + f.right) / 2}" y="${height - 8}" text-anchor="middle" font-size="12" ${FONT}>${esc(spec.xLabel)}</text>`);
  if (spec.yLabel) {
    const cy = (f.top + f.bottom) / 2;
    out.push(`<text transform="translate(14 ${cy}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${esc(spec.yLabel)}</text>`);
  }
  return out;
}

/** Lines (clipped to the plot, so clipped raw spikes stay inside) and markers (not clipped: whole dots at the edges). */
function seriesShapes(s: Series, color: string, dash: string, f: Frame): { lines: string[]; markers: string[] } {
  if (s.points.length === 0) return { lines: [], markers: [] };
  const maxPts = Math.max(2, 2 * Math.round(f.right - f.left));
  if (s.smooth && s.points.length >= 20) {
    const raw = `<polyline class="raw" points="${pointsAttr(decimate(s.points, maxPts), f)}" fill="none" stroke="${color}" stroke-opacity="0.25" stroke-width="1"/>`;
    const smooth = `<polyline class="smooth" points="${pointsAttr(decimate(smoothed(s), maxPts), f)}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`;
    return { lines: [raw, smooth], markers: [] };
  }
  const lines = [`<polyline class="line" points="${pointsAttr(s.points, f)}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`];
  const markers = s.points.length <= MARKER_MAX ? s.points.map((p) => `<circle cx="${num(f.x(p.x))}" cy="${num(f.y(p.y))}" r="3" fill="${color}"/>`) : [];
  return { lines, markers };
}

function legendShapes(f: Frame): string[] {
  return f.legend.flatMap((e) => [
    `<line x1="${e.x}" x2="${e.x + 18}" y1="${e.y}" y2="${e.y}" stroke="${e.color}" stroke-width="3"${e.dash}/>`,
    `<text x="${e.x + 24}" y="${e.y}" dy="4" font-size="11" ${FONT} fill="#222">${esc(e.label)}</text>`,
  ]);
}

export function renderChart(spec: ChartSpec): string {
  const width = spec.width ?? CHART_WIDTH;
  const height = spec.height ?? CHART_HEIGHT;
  const f = chartFrame(spec);
  const shapes = spec.series.map((s, i) => seriesShapes(s, colorOf(s, i), dashOf(i), f));
  const empty = spec.series.every((s) => s.points.length === 0)
    ? [`<text x="${(f.left + f.right) / 2}" y="${(f.top + f.bottom) / 2}" text-anchor="middle" font-size="13" ${FONT} fill="#888">no data</text>`]
    : [];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<defs><clipPath id="plot"><rect x="${f.left}" y="${f.top}" width="${f.right - f.left}" height="${f.bottom - f.top}"/></clipPath></defs>`,
    ...axes(f, spec, width, height),
    `<g clip-path="url(#plot)">`,
    ...shapes.flatMap((sh) => sh.lines),
    `</g>`,
    ...shapes.flatMap((sh) => sh.markers),
    ...empty,
    ...legendShapes(f),
    `</svg>`,
  ].join('\n');
}
