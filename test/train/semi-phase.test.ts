import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.ts';
import { cliOk } from '../helpers/io.ts';
import { REPO_ROOT } from '../helpers/shared.ts';
import { semiSchema } from '../../src/config/schema.ts';
import { planSemiPhase, resetTeachers, studentsOf, unlabeledScale } from '../../src/train/semi-phase.ts';
import { mt } from '../../src/methods/mt.ts';
import { cps } from '../../src/methods/cps.ts';
import { u2pl } from '../../src/methods/u2pl.ts';
import { modelConfig } from '../../src/models/index.ts';
import { buildSegNet } from '../../src/models/index.ts';
import { Rng } from '../../src/util/rng.ts';
import { disposeNets, fakeInit, values } from '../methods/semi-fakes.ts';

before(async () => {
  await useTestBackend();
});

test('plan: warm-up and ramp-up in iterations or as a fraction; the method\'s own supervised epochs count too', () => {
  const off = planSemiPhase(semiSchema.parse({}), 480, 0);
  assert.deepEqual([off.warmup, off.start, off.rampup], [0, 0, 0]);
  assert.equal(unlabeledScale(off, 0), 1);
  const p = planSemiPhase(semiSchema.parse({ warmup_fraction: 0.25, rampup_iters: 100, rampup_shape: 'linear' }), 480, 32);
  assert.deepEqual([p.warmup, p.start, p.rampup], [120, 120, 100]);
  assert.deepEqual([0, 120, 170, 220, 400].map((it) => unlabeledScale(p, it)), [0, 0, 0.5, 1, 1]);
  // U2PL's supervised epoch is longer than the trainer's warm-up: the phase starts after it
  assert.equal(planSemiPhase(semiSchema.parse({ warmup_iters: 10 }), 480, 64).start, 64);
  const sig = planSemiPhase(semiSchema.parse({ rampup_iters: 10 }), 100, 0);
  assert.ok(Math.abs(unlabeledScale(sig, 0) - Math.exp(-5)) < 1e-12 && unlabeledScale(sig, 10) === 1);
  assert.throws(() => semiSchema.parse({ warmup_iters: 10, warmup_fraction: 0.1 }), /not both/);
});

test('students and teachers: EMA teachers follow their student, independent branches are all trained', async () => {
  const m = await mt.init(fakeInit(3), mt.configSchema.parse({}));
  assert.deepEqual(studentsOf(mt, m), [m.nets.student]);
  assert.deepEqual(mt.teachers!(m), [[m.nets.teacher, m.nets.student]]);
  const c = await cps.init(fakeInit(3), cps.configSchema.parse({}));
  assert.deepEqual(studentsOf(cps, c), [c.nets.left, c.nets.right]);
  assert.deepEqual(cps.teachers!(c), []);
  disposeNets(mt, m);
  disposeNets(cps, c);
});

test('teacher reset: the teacher becomes its student, BN running statistics included (U2PL copies parameters only)', async () => {
  const model = modelConfig({ backbone: 'resnet18', base_width: 4, aspp_channels: 4, head_channels: 4, head: 'deeplabv3plus_u2pl', rep_dim: 4 });
  let k = 0;
  const s = await u2pl.init({ model, source: 't.yaml', numClasses: 3, rng: new Rng(0), buildNet: async () => buildSegNet(model, 3, k++) }, u2pl.configSchema.parse({}));
  // a student that has moved on: weights and BN statistics differ from the teacher's
  for (const p of s.nets.student.params()) p.variable.assign(tf.add(p.variable, 0.25));
  const bn = (net: typeof s.nets.student) => net.params().filter((p) => p.kind === 'running_var').map((p) => values(p.variable));
  assert.notDeepEqual(bn(s.nets.teacher), bn(s.nets.student));
  assert.equal(resetTeachers(u2pl, s), 1);
  assert.deepEqual(bn(s.nets.teacher), bn(s.nets.student));
  s.nets.teacher.params().forEach((p, i) => assert.deepEqual(values(p.variable), values(s.nets.student.params()[i]!.variable), p.name));
  disposeNets(u2pl, s);
});

test('a run with train.semi: supervised warm-up (student validated), then the unlabeled term ramped in', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sssseg-semi-'));
  const data = path.join(tmp, 'data');
  await cliOk('synthetic', '--out', data, '--seed', '0', '--n', '16', '--val', '4');
  await cliOk('split', '--data', data, '--labeled', '1/4', '--seed', '0');
  const run = path.join(tmp, 'mt');
  const io = await cliOk('train', '--config', path.join(REPO_ROOT, 'experiments', 'synthetic', 'mt.yaml'), '--data', data, '--split', '1/4', '--out', run,
    '--set', 'train.iterations=12', '--set', 'train.epoch_length=16', '--set', 'train.val_every_epochs=1',
    '--set', 'train.semi.warmup_iters=4', '--set', 'train.semi.teacher_reset=full', '--set', 'train.semi.rampup_iters=4', '--set', 'train.semi.rampup_shape=linear', '--set', 'mt.eval_net=teacher');
  assert.match(io.stderr.join('\n'), /iteration 4: the semi-supervised phase starts; teachers reset/);
  const lines = readFileSync(path.join(run, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const steps = lines.filter((l) => 'lr' in l);
  assert.deepEqual(steps.slice(0, 4).map((l) => Object.keys(l).filter((k) => k.startsWith('loss'))), [['loss_sup'], ['loss_sup'], ['loss_sup'], ['loss_sup']]);
  assert.deepEqual(steps.slice(4).map((l) => l['unsup_scale']), [0, 0.25, 0.5, 0.75, 1, 1, 1, 1]);
  assert.ok(steps.slice(4).every((l) => typeof l['loss_cons'] === 'number'));
  const vals = lines.filter((l) => 'val_miou' in l);
  // the teacher has learnt nothing during the warm-up: its student is validated then
  assert.deepEqual(vals.map((l) => [l['it'], l['val_net']]), [[4, 'student'], [8, 'teacher'], [12, 'teacher']]);
});
