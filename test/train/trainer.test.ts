import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { run } from '../../src/cli/main.ts';
import { loadConfig } from '../../src/config/load.ts';
import { openDataset, readSample, resolveSplit } from '../../src/data/index.ts';
import { readCheckpoint } from '../../src/models/checkpoint.ts';
import { train } from '../../src/train/trainer.ts';
import { initBackend } from '../../src/backend/index.ts';
import { useTestBackend } from '../helpers/backend.ts';
import { cliOk, memoryIo } from '../helpers/io.ts';
import { REPO_ROOT } from '../helpers/shared.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sssseg-train-'));
const data = path.join(tmp, 'data');
const config = path.join(REPO_ROOT, 'experiments', 'synthetic', 'sup.yaml');

const cli = cliOk;

before(async () => {
  await useTestBackend();
  await cli('synthetic', '--out', data, '--seed', '0');
  await cli('split', '--data', data, '--labeled', '1/4', '--seed', '0');
});

test('synthetic → split → train-sup → eval → table: files exist and mIoU is well above chance', async () => {
  const runDir = path.join(tmp, 'sup');
  await cli('train-sup', '--config', config, '--data', data, '--split', '1/4', '--out', runDir);
  for (const f of ['config.yaml', 'log.jsonl', 'last.bin', 'best.bin', 'results.json']) assert.ok(existsSync(path.join(runDir, f)), f);
  const evalIo = await cli('eval', path.join(runDir, 'best.bin'), '--data', data);
  assert.match(evalIo.stdout.join('\n'), /mIoU/);
  const results = JSON.parse(readFileSync(path.join(runDir, 'results.json'), 'utf8')) as { metrics: { miou: number } };
  // chance: always predicting the majority class (background) scores its IoU, its pixel share,
  // divided by the number of classes; a model that learned the objects must clearly beat that
  const ds = await openDataset(data);
  let bg = 0;
  let total = 0;
  for (const id of ds.split('val')) {
    const s = await readSample(ds, id);
    for (const v of s.label) if (v !== 255) (total++, v === 0 && bg++);
  }
  const chance = bg / total / ds.classes.length;
  assert.ok(results.metrics.miou > 2.5 * chance, `mIoU ${results.metrics.miou} vs chance ${chance}`);
  const table = await cli('table', runDir);
  assert.match(table.stdout.join('\n'), /SupOnly/);
});

test('a second run into the same folder refuses without --resume or --force', async () => {
  const runDir = path.join(tmp, 'twice');
  await cli('train-sup', '--config', config, '--data', data, '--split', '1/4', '--out', runDir, '--set', 'train.iterations=2');
  const io = memoryIo();
  const code = await run(['--backend', 'wasm', 'train-sup', '--config', config, '--data', data, '--split', '1/4', '--out', runDir], io);
  assert.equal(code, 1);
  assert.match(io.stderr.join('\n'), /already exists/);
});

test('an interrupted run resumed with --resume ends with the same weights as an uninterrupted one, without leaking tensors', async () => {
  const backend = await initBackend('wasm');
  const cfg = await loadConfig(config, ['train.iterations=10', 'train.checkpoint_every=0', 'train.val_every_epochs=0']);
  const ds = await openDataset(data);
  const split = await resolveSplit(ds, '1/4');
  const base = { cfg, data: ds, split, force: true, io: memoryIo(), backend: backend.name };
  const before = tf.memory().numTensors;
  await train({ ...base, outDir: path.join(tmp, 'straight'), resume: false });
  assert.equal(tf.memory().numTensors, before, 'tensors leaked by a training run');
  const cut = await train({ ...base, outDir: path.join(tmp, 'cut'), resume: false, stopAt: 4 });
  assert.equal(cut.completed, false);
  await train({ ...base, outDir: path.join(tmp, 'cut'), resume: true, force: false });
  const a = await readCheckpoint(path.join(tmp, 'straight', 'last.bin'));
  const b = await readCheckpoint(path.join(tmp, 'cut', 'last.bin'));
  assert.equal(b.meta.iteration, 10);
  assert.deepEqual([...a.tensors.keys()].sort(), [...b.tensors.keys()].sort());
  for (const [name, t] of a.tensors) assert.deepEqual(b.tensors.get(name)!.data, t.data, name);
});

for (const [signal, exitCode] of [['SIGTERM', 143], ['SIGUSR1', 138]] as const) {
  test(`${signal} (a scheduler's warning) writes last.bin, exits ${exitCode}, and --resume finishes the run`, async () => {
    const runDir = path.join(tmp, `signal-${signal}`);
    const io = memoryIo();
    const err = io.err;
    let sent = false;
    io.err = (line) => {
      err(line);
      // the reporter's first progress line: the run is inside its loop
      if (!sent && /^sup \d+\/40/.test(line)) {
        sent = true;
        process.emit(signal);
      }
    };
    const args = ['--backend', 'wasm', 'train-sup', '--config', config, '--data', data, '--split', '1/4', '--set', 'train.iterations=40', '--set', 'train.checkpoint_every=0'];
    assert.equal(await run([...args, '--out', runDir], io), exitCode);
    assert.ok(sent);
    const stopped = await readCheckpoint(path.join(runDir, 'last.bin'));
    assert.ok(stopped.meta.iteration > 0 && stopped.meta.iteration < 40, `stopped at ${stopped.meta.iteration}`);
    assert.ok(!existsSync(path.join(runDir, 'results.json')));
    assert.equal(process.listenerCount(signal), 0, 'the run removed its signal handler');
    await cliOk('train-sup', '--resume', runDir, '--data', data, '--split', '1/4');
    assert.equal((await readCheckpoint(path.join(runDir, 'last.bin'))).meta.iteration, 40);
    assert.ok(existsSync(path.join(runDir, 'results.json')));
  });
}
