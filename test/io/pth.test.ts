import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePth, readPth } from '../../src/io/pth.ts';
import { SsssegError } from '../../src/errors.ts';

// made by fixtures/make_pth.py: real Python pickles with torch.save's globals and layouts
const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

const expectTiny = (m: Map<string, { dtype: string; shape: number[]; data: ArrayLike<number | bigint> }>) => {
  assert.deepEqual([...m.keys()], ['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.num_batches_tracked', 'fc.weight']);
  const conv = m.get('conv1.weight')!;
  assert.equal(conv.dtype, 'F32');
  assert.deepEqual(conv.shape, [4, 3, 3, 3]);
  assert.deepEqual(Array.from(conv.data as Float32Array), Array.from({ length: 108 }, (_, i) => i));
  // two tensors sharing one storage at offsets 0 and 4
  assert.deepEqual(Array.from(m.get('bn1.weight')!.data as Float32Array), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(m.get('bn1.bias')!.data as Float32Array), [0, -0.5, -1, -1.5]);
  const nbt = m.get('bn1.num_batches_tracked')!;
  assert.equal(nbt.dtype, 'I64');
  assert.deepEqual(nbt.shape, []);
  assert.equal((nbt.data as BigInt64Array)[0], 7n);
  // a transposed (non-contiguous) view comes out row-major
  const fc = m.get('fc.weight')!;
  assert.deepEqual(fc.shape, [3, 2]);
  assert.deepEqual(Array.from(fc.data as Float32Array), [0, 3, 1, 4, 2, 5]);
};

test('reads the zip format (torch >= 1.6)', async () => {
  expectTiny(await readPth(path.join(FIX, 'tiny_zip.pth')));
});

test('reads the legacy format (torchvision 2017 weights)', async () => {
  expectTiny(await readPth(path.join(FIX, 'tiny_legacy.pth')));
});

test('finds the state dict nested in a training checkpoint and ignores other entries', async () => {
  expectTiny(await readPth(path.join(FIX, 'tiny_nested.pth')));
});

test('truncated or foreign files give one SsssegError naming the file', async () => {
  for (const name of ['tiny_zip.pth', 'tiny_legacy.pth']) {
    const bytes = new Uint8Array(await fs.readFile(path.join(FIX, name)));
    for (const cut of [40, Math.floor(bytes.length / 2), bytes.length - 30]) {
      assert.throws(
        () => decodePth(bytes.subarray(0, cut), `cut-${name}`),
        (e: unknown) => e instanceof SsssegError && e.code === 'io.corruptPth' && e.message.includes(`cut-${name}`),
        `${name} cut at ${cut}`,
      );
    }
  }
  assert.throws(() => decodePth(new TextEncoder().encode('hello world, not a pth'), 'x.pth'), /x\.pth is not a PyTorch file/);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pth-'));
  await assert.rejects(readPth(path.join(dir, 'none.pth')), /cannot read .*none\.pth/);
});
