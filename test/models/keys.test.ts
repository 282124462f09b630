import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resnetKeys } from '../helpers/golden-weights.ts';
import { modelConfig, type ModelConfigInput } from '../../src/models/config.ts';
import { buildArchitecture } from '../../src/models/architecture.ts';
import { ParamStore } from '../../src/models/nn/params.ts';

type KeyList = ReturnType<typeof resnetKeys>;

/** Our backbone parameters as PyTorch key → OIHW shape (the `backbone.` prefix removed). */
function ourBackbone(input: ModelConfigInput): Map<string, number[]> {
  const store = new ParamStore(null);
  buildArchitecture(store, modelConfig(input), 21);
  const out = new Map<string, number[]>();
  for (const p of store.params) {
    if (p.decl.group !== 'backbone') continue;
    assert.ok(p.decl.name.startsWith('backbone.'), p.decl.name);
    const s = p.decl.shape;
    out.set(p.decl.name.slice('backbone.'.length), s.length === 4 ? [s[3]!, s[2]!, s[0]!, s[1]!] : s);
  }
  return out;
}

function expected(list: KeyList, model: string): Map<string, number[]> {
  const keys = list[model]!.filter(([k]) => !k.endsWith('num_batches_tracked') && !k.startsWith('fc.'));
  return new Map(keys);
}

function assertSameKeys(ours: Map<string, number[]>, ref: Map<string, number[]>): void {
  assert.deepEqual([...ours.keys()], [...ref.keys()], 'same keys in state_dict order');
  for (const [k, shape] of ref) assert.deepEqual(ours.get(k), shape, k);
}

test('torchvision ResNet-18/50/101 keys and shapes map 1:1 onto our backbone', () => {
  const tv = resnetKeys('torchvision_keys.json');
  for (const backbone of ['resnet18', 'resnet50', 'resnet101'] as const) {
    assertSameKeys(ourBackbone({ backbone, output_stride: 8 }), expected(tv, backbone));
  }
});

test('U2PL deep-stem ResNet-50/101 keys and shapes map 1:1 (also with multi-grid OS8)', () => {
  const u2pl = resnetKeys('u2pl_deepstem_keys.json');
  assertSameKeys(ourBackbone({ backbone: 'resnet50', deep_stem: true }), expected(u2pl, 'resnet50'));
  assertSameKeys(ourBackbone({ backbone: 'resnet101', deep_stem: true }), expected(u2pl, 'resnet101'));
  assertSameKeys(
    ourBackbone({ backbone: 'resnet101', deep_stem: true, output_stride: 8, multi_grid: true }),
    expected(u2pl, 'resnet101'), // upstream's pascal config (multi-grid, OS 8) has the default keys (README)
  );
});

test('head parameters carry the upstream decoder names', () => {
  const names = (input: ModelConfigInput) => {
    const store = new ParamStore(null);
    buildArchitecture(store, modelConfig(input), 21);
    return store.params.filter((p) => p.decl.group === 'head').map((p) => p.decl.name);
  };
  const stpp = names({ backbone: 'resnet50', head: 'deeplabv3plus' });
  for (const k of ['head.b0.0.weight', 'head.b4.gap.1.weight', 'head.b4.gap.2.running_var', 'head.project.0.weight', 'reduce.0.weight', 'fuse.3.weight', 'fuse.4.bias', 'classifier.bias']) {
    assert.ok(stpp.includes(k), k);
  }
  const u2pl = names({ backbone: 'resnet50', head: 'deeplabv3plus_u2pl', aux: true });
  for (const k of ['decoder.low_conv.0.bias', 'decoder.aspp.conv1.1.weight', 'decoder.aspp.conv5.0.weight', 'decoder.head.0.weight', 'decoder.classifier.4.bias', 'decoder.classifier.8.weight', 'decoder.representation.8.bias', 'auxor.aux.0.bias', 'auxor.aux.4.weight']) {
    assert.ok(u2pl.includes(k), k);
  }
  assert.deepEqual(names({ backbone: 'resnet18', head: 'deeplabv2' }), ['classifier.0.weight', 'classifier.0.bias', 'classifier.1.weight', 'classifier.1.bias', 'classifier.2.weight', 'classifier.2.bias', 'classifier.3.weight', 'classifier.3.bias']);
  assert.ok(names({ backbone: 'resnet50', head: 'pspnet' }).includes('head.conv5.0.conv4.1.running_mean'));
});
