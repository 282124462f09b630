import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { modelConfig, modelCost } from '../../src/models/index.ts';
import { modelCostDetailed } from '../../src/models/cost.ts';
import { parseInputSize } from '../../src/commands/info.ts';
import { run } from '../../src/cli/main.ts';
import { memoryIo } from '../helpers/io.ts';
import { REPO_ROOT } from '../helpers/shared.ts';

const PEER = path.join(REPO_ROOT, 'experiments', 'peer', 'u2pl-r50-c129.yaml');
const SMALL = path.join(REPO_ROOT, 'experiments', 'models', 'small-cpu.yaml');

test('U2PL ResNet-50 at 129×129 (experiments/peer) costs 33.1 GFLOPs ± 2 % per image, as PyTorch counts', async () => {
  // method sup: the check is about the model and the rest of the file, not the u2pl section
  const cfg = await loadConfig(PEER, [], 'sup');
  assert.equal(cfg.data.crop, 129);
  assert.equal(cfg.train.batch_size, 2);
  assert.equal(cfg.train.unlabeled_batch_size, 2);
  const { gflops, params } = modelCost(cfg.model, 21, 129, 129);
  assert.ok(Math.abs(gflops / 33.1 - 1) <= 0.02, `${gflops} GFLOPs`);
  assert.ok(params > 40e6 && params < 50e6, `${params} parameters`);
});

test('GFLOPs count every conv the forward runs: the representation head is part of U2PL\'s forward', () => {
  const base = { backbone: 'resnet50', deep_stem: true, output_stride: 8, multi_grid: true, head: 'deeplabv3plus_u2pl' } as const;
  const withRep = modelCostDetailed(modelConfig(base), 21, 129, 129);
  const noRep = modelCost(modelConfig({ ...base, rep_dim: null }), 21, 129, 129);
  const rep = [...withRep.perLayer].filter(([k]) => k.startsWith('decoder.representation.')).reduce((a, [, v]) => a + v, 0);
  assert.ok(Math.abs(withRep.gflops - noRep.gflops - (2 * rep) / 1e9) < 1e-9);
  // layer1's 3×3 conv of the first block: 33×33 outputs (ceil-mode pool), 64→64 channels
  assert.equal(withRep.perLayer.get('backbone.layer1.0.conv2'), 33 * 33 * 64 * 64 * 9);
});

test('torchvision ResNet parameter counts (no fc) come out exactly', () => {
  // torchvision_keys.json: resnet18 11,689,512 and resnet50 25,557,032 parameters with fc (512·1000+1000, 2048·1000+1000)
  const backboneParams = (backbone: 'resnet18' | 'resnet50') => {
    const { perLayer: _p, ...all } = modelCostDetailed(modelConfig({ backbone, head: 'deeplabv2' }), 1, 64, 64);
    const head = 4 * ((backbone === 'resnet18' ? 512 : 2048) * 9 + 1);
    return all.params - head;
  };
  assert.equal(backboneParams('resnet18'), 11689512 - 513000);
  assert.equal(backboneParams('resnet50'), 25557032 - 2049000);
});

test('parseInputSize accepts HxW and a single side', () => {
  assert.deepEqual(parseInputSize('513x257'), [513, 257]);
  assert.deepEqual(parseInputSize('321'), [321, 321]);
  assert.throws(() => parseInputSize('0x5'), /HxW/);
});

test('sssseg info --config --input --json prints the cost of a config that extends small-cpu.yaml', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sssseg-cost-'));
  const file = path.join(dir, 'exp.yaml');
  writeFileSync(file, `extends: ${SMALL}\nmethod: sup\ndata: {crop: 96}\ntrain: {iterations: 10}\n`);
  const io = memoryIo();
  assert.equal(await run(['info', '--config', file, '--input', '64x64', '--classes', '11', '--json'], io), 0, io.stderr.join('\n'));
  const got = JSON.parse(io.stdout.join('')) as { gflops: number; params: number };
  const cfg = await loadConfig(file);
  assert.equal(cfg.model.backbone, 'resnet18');
  assert.deepEqual({ gflops: got.gflops, params: got.params }, modelCost(cfg.model, 11, 64, 64));
  const text = memoryIo();
  assert.equal(await run(['info', '--config', file], text), 0);
  assert.match(text.stdout.join('\n'), /input:\s+96×96, 21 classes/);
  assert.match(text.stdout.join('\n'), /forward:\s+[\d.]+ GFLOPs per image/);
});
