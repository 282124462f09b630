import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { SsssegError } from '../../src/errors.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sssseg-config-'));

function yamlFile(name: string, text: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, text);
  return file;
}

const BASE = `model: { backbone: resnet18, head: deeplabv3plus, base_width: 8, aspp_channels: 8, head_channels: 8 }
train: { iterations: 4 }
`;

/** The error loadConfig throws, as a one-line message. */
async function failure(file: string, sets: string[] = []): Promise<string> {
  const err = await loadConfig(file, sets).then(
    () => assert.fail('the config was accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof SsssegError, String(err));
  return err.message;
}

test('keys are snake_case: a camelCase augmentation key is an unknown key named with its file', async () => {
  const file = yamlFile('camel.yaml', `${BASE}method: sup\ndata: { weak: { padAlign: center } }\n`);
  assert.equal(await failure(file), `${file}: unknown key "data.weak.padAlign"`);
  const ok = await loadConfig(yamlFile('snake.yaml', `${BASE}method: sup\ndata: { weak: { pad_align: center }, strong: { color_jitter: { p: 0.1 } } }\n`));
  assert.equal(ok.data.weak.pad_align, 'center');
  assert.equal(ok.data.strong.color_jitter.p, 0.1);
});

test('a CutMix box generator other than the method\'s is an error, auto resolves to it', async () => {
  const file = yamlFile('u2pl-boxes.yaml', `${BASE}method: u2pl\nu2pl: { contrastive: { enabled: false } }\ndata: { strong: { cutmix: { box: unimatch } } }\n`);
  assert.match(await failure(file), new RegExp(`^${file.replace(/[.]/g, '\\.')}: key "data\\.strong\\.cutmix\\.box": u2pl mixes with u2pl boxes, not unimatch$`));
  const auto = await loadConfig(yamlFile('u2pl-auto.yaml', `${BASE}method: u2pl\nu2pl: { contrastive: { enabled: false } }\n`));
  assert.equal(auto.data.strong.cutmix.box, 'auto');
  // methods that draw no boxes in the loader leave the key alone
  await loadConfig(file, ['method=mt']);
});

test('the method section is validated by the method\'s own schema', async () => {
  const file = yamlFile('mt.yaml', `${BASE}method: mt\nmt: { ema_decay: 2 }\n`);
  assert.match(await failure(file), /key "mt\.ema_decay"/);
  const unknown = yamlFile('mt-unknown.yaml', `${BASE}method: mt\nmt: { decay: 0.9 }\n`);
  assert.equal(await failure(unknown), `${unknown}: unknown key "mt.decay"`);
});

test('a layer that sets one of two alternative keys drops the other from the layers below; one layer with both is an error', async () => {
  const base = yamlFile('alt-base.yaml', `model: { backbone: resnet18, head: deeplabv3plus, base_width: 8, aspp_channels: 8, head_channels: 8 }
train: { epochs: 3, semi: { warmup_fraction: 0.5, rampup_fraction: 0.25 } }
`);
  const leaf = yamlFile('alt-leaf.yaml', `extends: alt-base.yaml\nmethod: mt\ntrain: { semi: { rampup_iters: 7 } }\n`);
  const cfg = await loadConfig(leaf, ['train.iterations=40', 'train.semi.warmup_iters=4']);
  assert.equal(cfg.train.iterations, 40);
  assert.equal(cfg.train.epochs, undefined);
  assert.deepEqual([cfg.train.semi.warmup_iters, cfg.train.semi.warmup_fraction], [4, undefined]);
  assert.deepEqual([cfg.train.semi.rampup_iters, cfg.train.semi.rampup_fraction], [7, undefined]);
  // without overrides the base's keys stay
  const plain = await loadConfig(base.replace('alt-base', 'alt-base'), [], 'sup');
  assert.deepEqual([plain.train.epochs, plain.train.semi.warmup_fraction], [3, 0.5]);
  const both = yamlFile('alt-both.yaml', `extends: alt-base.yaml\nmethod: mt\ntrain: { semi: { warmup_iters: 4, warmup_fraction: 0.1 } }\n`);
  assert.match(await failure(both), /set warmup_iters or warmup_fraction, not both/);
});
