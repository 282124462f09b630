import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../src/cli/main.ts';
import { useTestBackend } from '../helpers/backend.ts';
import { cliOk, memoryIo } from '../helpers/io.ts';
import { readOnlyDir } from '../helpers/mounts.ts';
import { REPO_ROOT, sharedPath } from '../helpers/shared.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sssseg-writable-'));
const data = path.join(tmp, 'data');
const aFile = path.join(tmp, 'a-file');
const config = path.join(REPO_ROOT, 'experiments', 'synthetic', 'sup.yaml');
const run1 = path.join(tmp, 'run');
const hasProc = existsSync('/proc/self');

before(async () => {
  await useTestBackend();
  writeFileSync(aFile, 'not a folder');
  await cliOk('synthetic', '--out', data, '--n', '8', '--val', '2');
  await cliOk('split', '--data', data, '--labeled', '1/2');
  await cliOk('train', '--config', config, '--data', data, '--split', '1/2', '--out', run1, '--set', 'train.iterations=2');
});

/** Runs `sssseg argv`; asserts exit 1 and that stderr is exactly one line matching `line`. */
async function failsWith(argv: string[], line: RegExp): Promise<ReturnType<typeof memoryIo>> {
  const io = memoryIo();
  const code = await run(['--backend', 'wasm', ...argv], io);
  assert.equal(code, 1, `sssseg ${argv.join(' ')} exited ${code}: ${io.stderr.join('\n')}`);
  const errors = io.stderr.filter((l) => l.startsWith('sssseg:'));
  assert.equal(errors.length, 1, io.stderr.join('\n'));
  assert.match(errors[0]!, line);
  assert.doesNotMatch(io.stderr.join('\n'), /internal error/);
  return io;
}

const trainTo = (out: string) => ['train', '--config', config, '--data', data, '--split', '1/2', '--out', out, '--set', 'train.iterations=2'];

test('outputs under a file: one line naming the path that is not a folder', async () => {
  const under = path.join(aFile, 'x');
  const notDir = /a-file is not a directory$/;
  await failsWith(['synthetic', '--out', under], new RegExp(`cannot create output ${under}: .*${notDir.source}`));
  await failsWith(trainTo(under), new RegExp(`cannot create run folder ${under}: .*${notDir.source}`));
  await failsWith(['eval', path.join(run1, 'last.bin'), '--save-pred', under], new RegExp(`cannot create prediction folder ${under}: .*${notDir.source}`));
});

test('outputs under /proc are refused at once (recursive mkdir there never settles)', { timeout: 60_000 }, async (t) => {
  if (!hasProc) return t.skip('no /proc on this system');
  const proc = /is on a proc file system, not a writable file system$/;
  await failsWith(['synthetic', '--out', '/proc/x'], proc);
  await failsWith(trainTo('/proc/self/run'), proc);
  await failsWith(['eval', path.join(run1, 'last.bin'), '--save-pred', '/proc/self/x'], proc);
  const camvid = sharedPath('data', 'camvid');
  if (camvid) await failsWith(['prepare-camvid', '--root', camvid, '--out', '/proc/x'], proc);
  else t.diagnostic('prepare-camvid case skipped: needs ../shared/data/camvid');
});

test('read-only targets: prepare, train, split, save-pred name the path and the cause', async (t) => {
  const ro = path.join(tmp, 'ro');
  const cause = await readOnlyDir(ro, async (d) => cpSync(data, path.join(d, 'data'), { recursive: true }));
  if (!cause) return t.skip('cannot make a read-only folder here');
  await failsWith(['synthetic', '--out', path.join(ro, 'new')], new RegExp(`${ro}/new: ${cause.source}`));
  await failsWith(trainTo(path.join(ro, 'run')), new RegExp(`cannot create run folder ${ro}/run: ${cause.source}`));
  await failsWith(['split', '--data', path.join(ro, 'data'), '--labeled', '1/4'], new RegExp(`${ro}/data/splits/1_4.*: ${cause.source}`));
  await failsWith(['eval', path.join(run1, 'last.bin'), '--save-pred', path.join(ro, 'pred')], new RegExp(`prediction folder ${ro}/pred: ${cause.source}`));
});

test('eval of a checkpoint in a read-only folder prints its table, then one line naming the file it could not write', async (t) => {
  const ro = path.join(tmp, 'ro-ckpt');
  const cause = await readOnlyDir(ro, async (d) => cpSync(path.join(run1, 'last.bin'), path.join(d, 'last.bin')));
  if (!cause) return t.skip('cannot make a read-only folder here');
  const io = await failsWith(['eval', path.join(ro, 'last.bin'), '--data', data], new RegExp(`cannot write ${ro}/last\\.eval-val\\.json: ${cause.source}`));
  assert.match(io.stdout.join('\n'), /\*\*mIoU\*\* \| \*\*\d+\.\d\d\*\*/);
});
