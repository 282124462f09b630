/** `sssseg table` and the results.json it gathers (written by the trainer through writeRunResults). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { memoryIo } from '../helpers/io.ts';
import { runTable } from '../../src/commands/table.ts';
import { markdownTable, readRunResults, toCsv, type RunResults } from '../../src/io/results.ts';
import { makeRuns } from './runs.ts';
import { SsssegError } from '../../src/errors.ts';

function result(method: string, split: string, miou: number, dataset = 'camvid'): RunResults {
  return {
    method,
    split,
    dataset,
    metrics: { miou, pixel_acc: miou + 0.2, iou: [miou, Number.NaN] },
    protocol: 'whole, scales 1, no flip',
    wall_time_s: 12.5,
    backend: 'wasm',
    iterations: 40,
    checkpoint: 'best.bin',
  };
}

test('results.json round-trips; NaN per-class IoU is stored as null', async () => {
  const { dirs } = await makeRuns([result('sup', '1/8', 0.5)]);
  const text = readFileSync(path.join(dirs[0]!, 'results.json'), 'utf8');
  assert.match(text, /"iou": \[\n\s+0\.5,\n\s+null\n\s+\]/);
  const back = await readRunResults(dirs[0]!);
  assert.equal(back.method, 'sup');
  assert.ok(Number.isNaN(back.metrics.iou[1]!));
  assert.equal(back.metrics.miou, 0.5);
});

test('method × split table: SupOnly first, splits by label fraction, repeated runs averaged, gains over SupOnly', async () => {
  const { root, dirs } = await makeRuns([
    result('u2pl', '1/4', 0.7),
    result('sup', '1/4', 0.6),
    result('u2pl', '1/8', 0.6),
    result('sup', '1/8', 0.5),
    result('u2pl', '1/8', 0.62),
    result('sup', 'all', 0.75),
  ]);
  const io = memoryIo();
  const out = path.join(root, 'table');
  const csvFile = path.join(root, 'extra.csv');
  const t = await runTable({ runs: dirs, out, csv: csvFile }, io);
  assert.deepEqual(t.methods, ['sup', 'u2pl']);
  assert.deepEqual(t.columns, ['1/8', '1/4', 'all']);
  assert.ok(Math.abs(t.cells['u2pl']!['1/8']!.value - 0.61) < 1e-12);
  assert.equal(t.cells['u2pl']!['1/8']!.runs, 2);
  assert.ok(Math.abs(t.cells['u2pl']!['1/8']!.std - Math.SQRT2 * 0.01) < 1e-12, 'sample standard deviation over the seeds');
  assert.ok(Math.abs(t.gains['u2pl']!['1/8']! - 0.11) < 1e-12);
  assert.equal(t.gains['u2pl']!['all'], undefined);

  const md = io.stdout.join('\n');
  assert.match(md, /^mIoU \(%\)/);
  assert.match(md, /\| Method \| 1\/8 \| 1\/4 \| all \|/);
  assert.match(md, /\| SupOnly \| 50\.00 \| 60\.00 \| 75\.00 \|/);
  assert.match(md, /\| U2PL \| 61\.00 ± 1\.41 \(n=2\) \| 70\.00 \| – \|/);
  assert.match(md, /\| gain of U2PL over SupOnly \| \+11\.00 \| \+10\.00 \| – \|/);
  // every fake run took 12.5 s: the wall-time table shows minutes per cell
  assert.match(md, /wall time \(min\)\n\n\| Method \| 1\/8 \| 1\/4 \| all \|[\s\S]*\| U2PL \| 0\.2 \| 0\.2 \| – \|/);
  assert.match(md, /backend: wasm$/);

  const csv =
    'method,1/8,1/8 std,1/8 n,1/4,1/4 std,1/4 n,all,all std,all n\n' +
    'SupOnly,50.00,0.00,1,60.00,0.00,1,75.00,0.00,1\nU2PL,61.00,1.41,2,70.00,0.00,1,,,\ngain U2PL over SupOnly,11.00,,,10.00,,,,,\n';
  assert.equal(t.csv, csv);
  assert.equal(readFileSync(`${out}.csv`, 'utf8'), csv);
  assert.equal(readFileSync(csvFile, 'utf8'), csv);
  assert.equal(readFileSync(`${out}.md`, 'utf8'), md + '\n');
  assert.deepEqual(t.files, [`${out}.md`, `${out}.csv`, csvFile]);
});

test('imported partitions order by label count; mixed data sets get dataset/split columns; pixel accuracy on request', async () => {
  const { dirs } = await makeRuns([
    result('sup', 'u2pl/1464', 0.7, 'voc'),
    result('sup', 'u2pl/92', 0.4, 'voc'),
    result('sup', '1/8', 0.5, 'camvid'),
  ]);
  const t = await runTable({ runs: dirs, metric: 'pixel_acc' }, memoryIo());
  assert.deepEqual(t.columns, ['voc/u2pl/92', 'voc/u2pl/1464', 'camvid/1/8']);
  assert.ok(Math.abs(t.cells['sup']!['voc/u2pl/92']!.value - 0.6) < 1e-12);
  assert.match(t.markdown, /^pixel accuracy \(%\)/);
});

test('a folder without results.json is an error naming it, or a warning with --skip-missing', async () => {
  const { root, dirs } = await makeRuns([result('sup', '1/8', 0.5)]);
  const empty = path.join(root, 'unfinished');
  mkdirSync(empty);
  await assert.rejects(runTable({ runs: [...dirs, empty] }, memoryIo()), (e: unknown) =>
    e instanceof SsssegError && e.code === 'results.missing' && e.message.includes(empty));
  const io = memoryIo();
  const t = await runTable({ runs: [...dirs, empty], skipMissing: true }, io);
  assert.deepEqual(t.skipped, [empty]);
  assert.match(io.stderr.join('\n'), /warning: skipping .*unfinished/);
  await assert.rejects(runTable({ runs: [empty], skipMissing: true }, memoryIo()), (e: unknown) =>
    e instanceof SsssegError && e.code === 'table.empty');
});

test('a malformed results.json names the file and the key', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'sssseg-table-'));
  const bad = { ...result('sup', '1/8', 0.5), metrics: { miou: 'high', pixel_acc: 0.9, iou: [] } };
  writeFileSync(path.join(root, 'results.json'), JSON.stringify(bad));
  await assert.rejects(readRunResults(root), (e: unknown) =>
    e instanceof SsssegError && e.code === 'results.malformed' && /results\.json: key "metrics\.miou"/.test(e.message));
  writeFileSync(path.join(root, 'results.json'), '{ nope');
  await assert.rejects(readRunResults(root), (e: unknown) => e instanceof SsssegError && /not valid JSON/.test(e.message));
});

test('Markdown and CSV helpers escape what needs escaping', () => {
  assert.equal(markdownTable(['a', 'b'], [['x|y', '1']], ['left', 'right']), '| a | b |\n|---|---:|\n| x\\|y | 1 |');
  assert.equal(toCsv([['a,b', 'say "hi"', Number.NaN, 0.5]]), '"a,b","say ""hi""",,0.5\n');
});

test('two runs of one method and split with the same seed are an error naming both; different seeds average', async () => {
  const seeded = (miou: number, seed: number): RunResults => ({ ...result('u2pl', '1/8', miou), seed });
  const { dirs } = await makeRuns([result('sup', '1/8', 0.5), seeded(0.6, 0), seeded(0.8, 0)]);
  const err = await runTable({ runs: dirs }, memoryIo()).then(
    () => assert.fail('the table was written'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof SsssegError);
  assert.equal(err.code, 'table.sameSeed');
  assert.ok(err.message.includes(dirs[1]!) && err.message.includes(dirs[2]!), err.message);
  const ok = await makeRuns([result('sup', '1/8', 0.5), seeded(0.6, 0), seeded(0.8, 1)]);
  const t = await runTable({ runs: ok.dirs }, memoryIo());
  assert.ok(Math.abs(t.cells['u2pl']!['1/8']!.value - 0.7) < 1e-12);
});
