/**
 * `sssseg report`: the chart maths on their own, then the whole command on a real (tiny) run
 * trained here on the synthetic set: PNGs that decode to the promised sizes and are not blank, a
 * grid whose ground truth is the data set's label in its palette, a page that embeds everything,
 * an ST/ST++-shaped folder plotted per stage, and a folder without a log refused by name.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { run } from '../../src/cli/main.ts';
import { initBackend, type BackendChoice, type BackendInfo } from '../../src/backend/index.ts';
import { openDataset, readSample } from '../../src/data/index.ts';
import { SsssegError } from '../../src/errors.ts';
import { runReport } from '../../src/commands/report.ts';
import { CHART_HEIGHT, CHART_WIDTH, COLORS, chartFrame, decimate, formatTick, movingAverage, niceTicks, renderChart } from '../../src/report/chart.ts';
import { parseLog } from '../../src/report/logs.ts';
import { GRID_IGNORE_RGB, MAX_ROW_HEIGHT, spreadIds } from '../../src/report/grid.ts';
import { colorize } from '../../src/eval/save-pred.ts';
import { CHART_SCALE, PANEL_GAP } from '../../src/report/raster.ts';
import { useTestBackend } from '../helpers/backend.ts';
import { cliOk, memoryIo } from '../helpers/io.ts';
import { REPO_ROOT } from '../helpers/shared.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sssseg-report-'));
const data = path.join(tmp, 'data');
const runDir = path.join(tmp, 'sup');
const SIZE = 64;
const ITERS = 24;

let backendCalls = 0;
const backend = (): Promise<BackendInfo> => {
  backendCalls++;
  return initBackend((process.env['SSSSEG_TEST_BACKEND'] as BackendChoice | undefined) ?? 'wasm');
};

const cli = cliOk;

before(async () => {
  await useTestBackend();
  await cli('synthetic', '--out', data, '--n', '16', '--val', '4', '--seed', '0');
  await cli('split', '--data', data, '--labeled', '1/4', '--seed', '0');
  // 8 iterations an epoch, validation after each: three points on the mIoU curve
  await cli(
    'train', '--config', path.join(REPO_ROOT, 'experiments', 'synthetic', 'sup.yaml'), '--data', data, '--split', '1/4', '--out', runDir,
    '--set', `train.iterations=${ITERS}`, 'train.epoch_length=32', 'train.val_every_epochs=1', 'train.checkpoint_every=0',
  );
});

after(() => rmSync(tmp, { recursive: true, force: true }));

// ---- chart maths ----

test('niceTicks: round steps of 1, 2 or 5 covering the range', () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  // 2.27 / 4 = 0.57 → step 0.5, from the tick below 0.13 to the one above 2.4
  assert.deepEqual(niceTicks(0.13, 2.4, 5), [0, 0.5, 1, 1.5, 2, 2.5]);
  assert.deepEqual(niceTicks(1, 192, 6), [0, 50, 100, 150, 200]);
  // a flat series still gets an axis around its value
  const flat = niceTicks(3, 3, 5);
  assert.ok(flat[0]! < 3 && flat[flat.length - 1]! > 3);
  assert.equal(formatTick(0.015, 0.005), '0.015');
  assert.equal(formatTick(4e-5, 2e-5), '4e-5');
  assert.equal(formatTick(20000, 5000), '20k');
});

test('movingAverage is centred, keeps the length and shrinks its window at the ends', () => {
  assert.deepEqual(movingAverage([0, 0, 3, 0, 0], 3), [0, 1, 1, 1, 0]);
  assert.deepEqual(movingAverage([2, 2, 2, 2], 5), [2, 2, 2, 2]);
  assert.deepEqual(movingAverage([1, 5], 1), [1, 5]);
});

test('decimate keeps the spikes of a long curve', () => {
  const pts = Array.from({ length: 10000 }, (_, i) => ({ x: i, y: i === 4321 ? 100 : 1 }));
  const d = decimate(pts, 200);
  assert.ok(d.length <= 200);
  assert.ok(d.some((p) => p.x === 4321 && p.y === 100));
  assert.ok(d.every((p, i) => i === 0 || p.x > d[i - 1]!.x), 'still in x order');
});

test('a line lands where the scales put it; several series get a legend', () => {
  const spec = { title: 'T', series: [{ label: 'a', points: [{ x: 0, y: 0 }, { x: 10, y: 1 }] }] };
  const f = chartFrame(spec);
  assert.deepEqual(f.yTicks, [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.equal(f.x(0), f.left);
  assert.equal(f.x(10), f.right);
  assert.equal(f.y(0), f.bottom);
  assert.equal(f.y(1), f.top);
  const svg = renderChart(spec);
  const m = /<polyline class="line" points="([^"]+)"/.exec(svg);
  assert.ok(m, 'one polyline for the series');
  assert.equal(m[1], `${f.left},${f.bottom} ${f.right},${f.top}`);
  assert.match(svg, /<text[^>]*>T<\/text>/);
  assert.doesNotMatch(svg, /font-size="11"[^>]*>a<\/text>/, 'no legend for one series');
  const two = renderChart({ title: 'T', series: [...spec.series, { label: 'b & c', points: [{ x: 5, y: 0.5 }] }] });
  assert.match(two, />b &amp; c<\/text>/, 'legend entry, escaped');
  // more series than colours: the ones that repeat a colour are dashed, in the legend too
  const many = Array.from({ length: COLORS.length + 1 }, (_, i) => ({ label: `s${i}`, points: [{ x: 0, y: i }, { x: 1, y: i }] }));
  const svg11 = renderChart({ title: 'T', series: many });
  assert.equal((svg11.match(/<polyline class="line"[^>]*stroke-dasharray/g) ?? []).length, 1);
  assert.equal((svg11.match(/<line [^>]*stroke-dasharray/g) ?? []).length, 1);
});

test('a smoothed curve is drawn over its faint raw curve', () => {
  const points = Array.from({ length: 60 }, (_, i) => ({ x: i, y: 1 + (i % 2 === 0 ? 0.5 : -0.5) }));
  const svg = renderChart({ title: 'noisy', series: [{ label: 'loss', points, smooth: true }] });
  const raw = /<polyline class="raw" points="([^"]+)"[^>]*stroke-opacity="0.25"/.exec(svg);
  const smooth = /<polyline class="smooth" points="([^"]+)"/.exec(svg);
  assert.ok(raw && smooth);
  const ys = (attr: string) => attr.split(' ').map((p) => Number(p.split(',')[1]));
  const spread = (v: number[]) => Math.max(...v) - Math.min(...v);
  assert.ok(spread(ys(smooth[1]!)) < spread(ys(raw[1]!)) / 3, 'the average is much flatter than the zig-zag');
});

test('parseLog: loss terms found by name, a resumed run\'s repeated iterations replaced, bad lines counted', () => {
  const text = [
    '{"it":1,"epoch":0,"lr":0.1,"loss_sup":2,"loss_cps":0.5,"sec":1,"time":"t"}',
    '{"it":2,"epoch":0,"lr":0.09,"loss_sup":1.8,"loss_cps":0.4,"sec":1,"time":"t"}',
    '{"it":2,"epoch":0,"val_miou":0.3,"val_pixel_acc":0.7,"val_net":"student"}',
    '{"it":3,"epoch":0,"lr":0.08,"loss_sup":9,"loss_cps":null,"sec":1,"time":"t"}',
    // resumed from iteration 2: iteration 3 again, the later record wins
    '{"it":3,"epoch":0,"lr":0.08,"loss_sup":1.5,"loss_cps":0.3,"sec":1,"time":"t"}',
    '{"it":4,"epoch":0,"lr":0.0',
  ].join('\n');
  const log = parseLog(text);
  assert.deepEqual([...log.losses.keys()], ['loss_sup', 'loss_cps']);
  assert.deepEqual(log.losses.get('loss_sup'), [{ x: 1, y: 2 }, { x: 2, y: 1.8 }, { x: 3, y: 1.5 }]);
  assert.deepEqual(log.lr.map((p) => p.x), [1, 2, 3]);
  assert.deepEqual(log.valMiou, [{ x: 2, y: 0.3 }]);
  assert.equal(log.valNet, 'student');
  assert.deepEqual(log.badLines, [6]);
});

test('grid ids are spread over the val split, first one included', () => {
  const ids = Array.from({ length: 10 }, (_, i) => `f${i}`);
  assert.deepEqual(spreadIds(ids, 4), ['f0', 'f2', 'f5', 'f7']);
  assert.deepEqual(spreadIds(ids, 1), ['f0']);
  assert.deepEqual(spreadIds(ids.slice(0, 2), 4), ['f0', 'f1']);
});

// ---- the command on a real run ----

const PNG_URI = /data:image\/png;base64,[A-Za-z0-9+/=]+/g;

async function notBlank(file: string): Promise<boolean> {
  const stats = await sharp(file).stats();
  return stats.channels.some((c) => c.stdev > 0);
}

test('report of one run: charts, a grid of N rows with the palette ground truth, one self-contained page', async () => {
  const out = path.join(tmp, 'report');
  const io = memoryIo();
  const calls = backendCalls;
  const images = 3;
  const r = await runReport({ runs: [runDir], out, images }, io, backend);
  assert.equal(backendCalls, calls + 1);
  const [summary] = r.runs;
  assert.ok(summary);
  assert.deepEqual(summary.charts.map((f) => path.basename(f)), ['loss_sup.png', 'lr.png', 'val-miou.png']);
  for (const rel of summary.charts) {
    const file = path.join(out, rel);
    const meta = await sharp(file).metadata();
    assert.equal(meta.width, CHART_WIDTH * CHART_SCALE, rel);
    assert.equal(meta.height, CHART_HEIGHT * CHART_SCALE, rel);
    assert.ok(await notBlank(file), `${rel} is not blank`);
  }
  assert.equal(summary.grid.length, images);
  const rowHeight = Math.min(SIZE, MAX_ROW_HEIGHT);
  for (const rel of summary.grid) {
    const meta = await sharp(path.join(out, rel)).metadata();
    assert.equal(meta.width, 3 * SIZE + 2 * PANEL_GAP, rel);
    assert.equal(meta.height, rowHeight, rel);
  }
  // the middle panel of row 1 is the first val image's label in the palette (255 → black)
  const ds = await openDataset(data);
  const first = await readSample(ds, ds.split('val')[0]!);
  const { data: pixels } = await sharp(path.join(out, summary.grid[0]!)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const expected = colorize(first.label, ds.palette, GRID_IGNORE_RGB);
  const rowWidth = 3 * SIZE + 2 * PANEL_GAP;
  for (let y = 0; y < SIZE; y++) {
    const start = (y * rowWidth + SIZE + PANEL_GAP) * 3;
    assert.deepEqual([...pixels.subarray(start, start + SIZE * 3)], [...expected.subarray(y * SIZE * 3, (y + 1) * SIZE * 3)], `GT row ${y}`);
  }

  const html = readFileSync(r.html, 'utf8');
  assert.equal(html.match(PNG_URI)?.length, summary.charts.length + images, 'every chart and grid row embedded');
  assert.equal(html.match(/<tr class="grid-row">/g)?.length, images);
  for (const id of spreadIds(ds.split('val'), images)) assert.match(html, new RegExp(`<code>${id}</code>`));
  assert.match(html, /<h2>sup<\/h2>/);
  assert.doesNotMatch(html, /(src|href)="(?!data:|#)/, 'no external resources');
  assert.doesNotMatch(html, /<link|<script/);
  const listed = JSON.parse(readFileSync(r.json, 'utf8')) as { files: string[] };
  assert.deepEqual(listed.files.sort(), [...summary.charts, ...summary.grid, 'index.html'].sort());
  assert.ok(io.stderr.some((l) => /report sup: predicting 3 val images/.test(l)), 'progress line on stderr');
});

test('--no-images through the CLI: per-stage charts of a pipeline folder, an overlay, stale files of an older report removed', async () => {
  // an ST++-shaped folder: stage logs and results.json at the top, from the real run's files
  const pipe = path.join(tmp, 'pipe');
  for (const stage of ['stage1', 'stage2']) {
    mkdirSync(path.join(pipe, stage), { recursive: true });
    copyFileSync(path.join(runDir, 'log.jsonl'), path.join(pipe, stage, 'log.jsonl'));
  }
  const results = JSON.parse(readFileSync(path.join(runDir, 'results.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(path.join(pipe, 'results.json'), JSON.stringify({ ...results, method: 'stpp', checkpoint: 'stage2/best.bin' }));
  const out = path.join(tmp, 'report-cli');
  mkdirSync(path.join(out, 'sup'), { recursive: true });
  writeFileSync(path.join(out, 'sup', 'grid-9.png'), 'old');
  writeFileSync(path.join(tmp, 'keep.txt'), 'not ours');
  writeFileSync(path.join(out, 'report.json'), JSON.stringify({ files: ['sup/grid-9.png', '../keep.txt'] }));

  const calls = backendCalls;
  const io = await cli('report', runDir, pipe, runDir, '--out', out, '--no-images');
  assert.equal(backendCalls, calls);
  assert.equal(io.stdout.at(-1), path.join(out, 'index.html'));
  for (const f of ['overlay-val-miou.png', 'pipe/stage1-loss_sup.png', 'pipe/stage2-val-miou.png', 'sup-2/lr.png']) {
    assert.ok(existsSync(path.join(out, f)), f);
  }
  assert.ok(await notBlank(path.join(out, 'overlay-val-miou.png')));
  assert.ok(!existsSync(path.join(out, 'sup', 'grid-9.png')), 'a file of the older report is gone');
  assert.ok(existsSync(path.join(tmp, 'keep.txt')), 'nothing outside --out is touched');
  const html = readFileSync(path.join(out, 'index.html'), 'utf8');
  assert.match(html, /ST\+\+/);
  assert.match(html, /<h2>pipe<\/h2>/);
  assert.match(html, /<h3>stage1<\/h3>[\s\S]*<h3>stage2<\/h3>/, 'one section per stage');
  assert.equal(html.match(/<tr class="grid-row">/g), null);
});

test('a folder without log.jsonl is an error naming it; a failing grid leaves no partial report', async () => {
  const empty = path.join(tmp, 'not-a-run');
  mkdirSync(empty);
  await assert.rejects(
    runReport({ runs: [runDir, empty], out: path.join(tmp, 'never'), images: 0 }, memoryIo(), backend),
    (err: unknown) => err instanceof SsssegError && err.code === 'report.noLog' && err.message.includes(empty),
  );
  assert.ok(!existsSync(path.join(tmp, 'never')), 'nothing written');
  // a grid that cannot be drawn fails before anything is written
  await assert.rejects(
    runReport({ runs: [runDir], out: path.join(tmp, 'never'), images: 1, data: path.join(tmp, 'no-data') }, memoryIo(), backend),
    (err: unknown) => err instanceof SsssegError && err.message.includes('no-data'),
  );
  assert.ok(!existsSync(path.join(tmp, 'never')), 'nothing written');
  const io = memoryIo();
  assert.equal(await run(['report', empty, '--out', path.join(tmp, 'never')], io), 1);
  assert.equal(io.stderr.length, 1);
  assert.match(io.stderr[0]!, new RegExp(`^sssseg: run folder ${empty.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} has no log\\.jsonl`));
});
