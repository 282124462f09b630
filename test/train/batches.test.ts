import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { openDataset, resolveSplit } from '../../src/data/index.ts';
import { getMethod } from '../../src/methods/index.ts';
import { BatchStreams } from '../../src/train/batches.ts';
import { planSchedule } from '../../src/train/schedule-plan.ts';
import { useTestBackend } from '../helpers/backend.ts';
import { cliOk } from '../helpers/io.ts';
import { REPO_ROOT } from '../helpers/shared.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sssseg-batches-'));
const data = path.join(tmp, 'data');

before(async () => {
  await useTestBackend();
  await cliOk('synthetic', '--out', data, '--seed', '0', '--n', '16', '--val', '2');
  await cliOk('split', '--data', data, '--labeled', '1/4', '--seed', '0');
});

test('a missing unlabeled image rejects the batch with the file named, never as an unhandled rejection', async () => {
  // every unlabeled image gone: the unlabeled part fails while the labeled part is still decoding
  const unlabeled = readFileSync(path.join(data, 'splits', '1_4', 'unlabeled.txt'), 'utf8').trim().split('\n');
  for (const id of unlabeled) rmSync(path.join(data, 'images', `${id}.png`));
  const cfg = await loadConfig(path.join(REPO_ROOT, 'experiments', 'synthetic', 'mt.yaml'), ['data.prefetch=0']);
  const ds = await openDataset(data);
  const split = await resolveSplit(ds, '1/4');
  const needs = getMethod('mt').dataNeeds(cfg.methodConfig);
  const streams = new BatchStreams(ds, split, cfg, needs, planSchedule(cfg, split, needs));
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    await assert.rejects(streams.batch(0), /image .*train_\d+\.png not found/);
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    process.off('unhandledRejection', onUnhandled);
    streams.close();
  }
  assert.deepEqual(unhandled.map(String), []);
});
