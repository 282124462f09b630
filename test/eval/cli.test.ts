/** The eval and table commands through the real CLI parser (in process). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { memoryIo } from '../helpers/io.ts';
import type { RunResults } from '../../src/io/results.ts';
import { makeRuns } from './runs.ts';
import { run } from '../../src/cli/main.ts';

function result(method: string, split: string, miou: number): RunResults {
  return {
    method,
    split,
    dataset: 'camvid',
    metrics: { miou, pixel_acc: miou + 0.2, iou: [miou] },
    protocol: 'whole, scales 1, no flip',
    wall_time_s: 1,
    backend: 'wasm',
    iterations: 40,
    checkpoint: 'best.bin',
  };
}

test('the CLI: `sssseg table <runs> --csv f` prints Markdown and writes the CSV; missing runs exit 1', async () => {
  const { root, dirs } = await makeRuns([result('sup', '1/8', 0.5), result('u2pl', '1/8', 0.6)]);
  const io = memoryIo();
  const csv = path.join(root, 't.csv');
  assert.equal(await run(['table', ...dirs, '--csv', csv], io), 0, io.stderr.join('\n'));
  assert.match(io.stdout.join('\n'), /\| U2PL \| 60\.00 \|/);
  assert.equal(readFileSync(csv, 'utf8').split('\n')[0], 'method,1/8');
  const io2 = memoryIo();
  assert.equal(await run(['table', path.join(root, 'nope')], io2), 1);
  assert.match(io2.stderr.join('\n'), /run folder .*nope does not exist/);
  const io3 = memoryIo();
  assert.equal(await run(['eval', '--help'], io3), 0);
  assert.match(io3.stdout.join('\n'), /--absent-as-zero/);
  assert.match(io3.stdout.join('\n'), /--save-pred <dir>/);
});
