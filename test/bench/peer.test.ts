import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestBackend } from '../helpers/backend.ts';
import { loadConfig } from '../../src/config/load.ts';
import { u2plConfigSchema } from '../../src/methods/u2pl/config.ts';
import { checkError, findTorchPython, Peer, peerUnsupported } from '../../bench/peer.ts';

await useTestBackend();

/** The peer config's architecture at a width and crop that run in a second on either side. */
const TINY = [
  'model.base_width=8', 'model.stem_width=8', 'model.aspp_channels=8', 'model.head_channels=8',
  'model.low_level_channels=8', 'model.rep_dim=8', 'data.crop=65',
];

const py = findTorchPython();
const skip = 'unavailable' in py ? `PyTorch peer not available: ${py.unavailable}` : false;

test('the PyTorch peer builds our network: same forward for shared weights, and its steps run', { skip }, async () => {
  const cfg = await loadConfig('experiments/peer/u2pl-r50-c129.yaml', TINY);
  assert.equal(peerUnsupported(cfg), null);
  const python = py as { python: string; torch: string };
  const { peer, check } = await Peer.start(python, cfg, {
    threads: 1, numClasses: 5, u2pl: u2plConfigSchema.parse({}), epoch: 1, totalEpochs: 80,
  });
  try {
    // random BN statistics and affine parameters make every layer count in the comparison
    assert.ok(check.logits.max_abs > 0.1 && check.rep.max_abs > 0.1, JSON.stringify(check));
    assert.ok(checkError(check) < 1e-4, `relative forward difference ${checkError(check)}`);
    assert.equal(peer.info.threads, 1);
    for (const kind of ['sup', 'u2pl'] as const) assert.ok((await peer.step(kind)) > 0, kind);
  } finally {
    peer.close();
  }
});

test('the peer refuses architectures it does not build, naming why', async () => {
  const cfg = await loadConfig('experiments/peer/u2pl-r50-c129.yaml', [...TINY, 'model.backbone=resnet18']);
  assert.match(peerUnsupported(cfg) ?? '', /backbone resnet18/);
  const textbook = await loadConfig('experiments/peer/u2pl-r50-c129.yaml', [...TINY, 'model.head=deeplabv3plus']);
  assert.match(peerUnsupported(textbook) ?? '', /deeplabv3plus_u2pl/);
});
