/**
 * `sssseg eval` on the real checkpoint and data modules: a tiny SegNet saved with saveCheckpoint
 * must evaluate exactly like the in-memory net it was saved from, through the API and the CLI.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useTestBackend } from '../helpers/backend.ts';
import { memoryIo } from '../helpers/io.ts';
import { Rng } from '../../src/util/rng.ts';
import { buildSegNet, modelConfigSchema, type SegNet } from '../../src/models/index.ts';
import { saveCheckpoint } from '../../src/models/checkpoint.ts';
import { encodePng, decodePng } from '../../src/data/png.ts';
import { runEval } from '../../src/commands/eval.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { defaultEvalSources } from '../../src/eval/sources.ts';
import { run } from '../../src/cli/main.ts';

before(() => useTestBackend());

const SIZE = 32;
const CLASSES = ['bg', 'disc', 'bar'];
const IDS = ['img0', 'img1'];

/** A prepared folder with two random 32×32 images and labels (one ignore stripe). */
function makeData(root: string): string {
  const dir = path.join(root, 'data');
  mkdirSync(path.join(dir, 'images'), { recursive: true });
  mkdirSync(path.join(dir, 'labels'));
  const rng = new Rng(3);
  for (const id of IDS) {
    const img = Uint8Array.from({ length: SIZE * SIZE * 3 }, () => Math.floor(rng.next() * 256));
    const label = Uint8Array.from({ length: SIZE * SIZE }, (_, i) => (i % SIZE === 0 ? 255 : Math.floor(rng.next() * 3)));
    writeFileSync(path.join(dir, 'images', `${id}.png`), encodePng(img, SIZE, SIZE, 3));
    writeFileSync(path.join(dir, 'labels', `${id}.png`), encodePng(label, SIZE, SIZE, 1));
  }
  const meta = {
    format: 'sssseg-prepared/1', name: 'tiny', classes: CLASSES, palette: [[0, 0, 0], [255, 0, 0], [0, 0, 255]],
    ignoreIndex: 255, imageExt: 'png', splits: { val: IDS }, partitions: {}, source: {},
  };
  writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify(meta));
  return dir;
}

function tinyNet(): SegNet {
  const cfg = modelConfigSchema.parse({
    backbone: 'resnet18', output_stride: 16, aspp_channels: 8, head_channels: 8, low_level_channels: 8, rep_dim: null,
  });
  return buildSegNet(cfg, CLASSES.length, 7);
}

test('a saved checkpoint evaluates exactly like the net it came from; the CLI prints and writes the same', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'sssseg-eval-real-'));
  const dataDir = makeData(root);
  const net = tinyNet();
  const checkpoint = path.join(root, 'run', 'best.bin');
  try {
    await saveCheckpoint(checkpoint, { student: net }, {
      method: 'sup',
      config: { eval: { mode: 'whole', scales: [1], flip: false, absent_as_zero: false }, data: { crop: 24 } },
      dataset: { name: 'tiny', classes: CLASSES, dir: dataDir },
      epoch: 1, iteration: 10, rng: null, metrics: {}, extra: {}, evalNet: 'student',
    });
    const data = await defaultEvalSources.openData(dataDir);
    const direct = await evaluate({
      samples: await Promise.all(IDS.map((id) => data.read(id))),
      predict: (x) => net.forward(x, { training: false }).logits,
      protocol: { mode: 'whole' },
      numClasses: CLASSES.length,
    });

    const io = memoryIo();
    const viaFile = await runEval({ checkpoint, backend: 'wasm' }, io);
    assert.deepEqual(viaFile.confusion, direct.confusion);
    assert.equal(viaFile.miou, direct.miou);
    assert.equal(viaFile.n, 2);
    // every non-ignored pixel was scored: 2 images × 32 rows × 31 columns
    assert.equal(viaFile.confusion.flat().reduce((a, b) => a + b, 0), 2 * SIZE * (SIZE - 1));

    const cli = memoryIo();
    const preds = path.join(root, 'preds');
    const code = await run(['--backend', 'wasm', 'eval', checkpoint, '--save-pred', preds, '--absent-as-zero'], cli);
    assert.equal(code, 0, cli.stderr.join('\n'));
    assert.match(cli.stdout.join('\n'), /\*\*best\.bin\*\* on tiny\/val: 2 images, protocol whole, scales 1, no flip; absent classes count as 0/);
    const json = JSON.parse(readFileSync(path.join(root, 'run', 'best.eval-val.json'), 'utf8')) as { confusion_rows_gt_cols_pred: number[][] };
    assert.deepEqual(json.confusion_rows_gt_cols_pred, direct.confusion);
    assert.ok(existsSync(path.join(root, 'run', 'best.eval-val.csv')));
    const ids = decodePng(readFileSync(path.join(preds, 'ids', 'img1.png')), 'img1.png');
    assert.equal(ids.width, SIZE);
    assert.ok(ids.data.every((v) => v < CLASSES.length));
    assert.ok(existsSync(path.join(preds, 'color', 'img0.png')));
  } finally {
    net.dispose();
  }
});
