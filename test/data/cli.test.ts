import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { run } from '../../src/cli/main.ts';
import { openDataset, resolveSplit } from '../../src/data/index.ts';
import { memoryIo } from '../helpers/io.ts';
import { tempDir } from './helpers.ts';

test('sssseg synthetic + split through the CLI; usage and data errors exit 2 and 1', async () => {
  const dir = path.join(await tempDir('cli'), 'syn');
  const io = memoryIo();
  assert.equal(await run(['synthetic', '--out', dir, '--n', '8', '--size', '32x32'], io), 0, io.stderr.join('\n'));
  assert.match(io.stdout[0]!, /wrote train 8, val 8 images of 32x32, 4 classes/);
  assert.equal(await run(['split', '--data', dir, '--labeled', '1/4', '--seed', '0'], io), 0, io.stderr.join('\n'));
  const split = await resolveSplit(await openDataset(dir), '1/4');
  assert.equal(split.labeled.length, 2);
  assert.equal(split.unlabeled.length, 6);
  const noData = memoryIo();
  assert.equal(await run(['split', '--labeled', '1/4'], noData), 2);
  assert.match(noData.stderr.join('\n'), /--data <dir>/);
  const exists = memoryIo();
  assert.equal(await run(['synthetic', '--out', dir], exists), 1);
  assert.match(exists.stderr[0]!, /already exists \(pass --force to replace it\)/);
  const bad = memoryIo();
  assert.equal(await run(['split', '--data', dir, '--import', 'deeplab', 'x'], bad), 1);
  assert.match(bad.stderr[0]!, /--import deeplab: expected u2pl \| stpp \| unimatch/);
});
