import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildDirAtomic, writeFileAtomic } from '../../src/io/atomic.ts';
import { SsssegError } from '../../src/errors.ts';
import { useTestBackend } from '../helpers/backend.ts';
import { cliOk, memoryIo } from '../helpers/io.ts';
import { mountTmpfs } from '../helpers/mounts.ts';
import { REPO_ROOT } from '../helpers/shared.ts';
import { run } from '../../src/cli/main.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sssseg-atomic-'));

/** The pid of a process that has exited (the kernel does not hand it out again at once). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

function enospc(file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC', syscall: 'write', path: file });
}

test('disk full while writing: the error names the file and the bytes it needed, and the temp file is removed', async () => {
  const dir = path.join(tmp, 'full');
  const file = path.join(dir, 'last.bin');
  const data = new Uint8Array(3 * 1024 * 1024);
  // a writer that gets part of the data out, then finds the disk full (as a real write does)
  const failing = async (t: string) => {
    await writeFile(t, data.subarray(0, 1000));
    throw enospc(t);
  };
  await assert.rejects(writeFileAtomic(file, data, failing), (err: unknown) => {
    assert.ok(err instanceof SsssegError, String(err));
    assert.match(err.message, new RegExp(`^disk full writing ${file.replace(/[/.]/g, '\\$&')}: it needs 3\\.0 MiB, [\\d.]+ [KMGT]?i?B free$`));
    return true;
  });
  assert.deepEqual(readdirSync(dir), [], 'temp file left behind');
  assert.equal(existsSync(file), false);
});

test('stale temp files and partial folders of dead processes are removed on the next write into their folder; live ones stay', async () => {
  const dir = path.join(tmp, 'stale');
  await writeFileAtomic(path.join(dir, 'first.txt'), 'x'); // this process has now swept `dir` once
  const other = path.join(tmp, 'stale2');
  const dead = deadPid();
  const live = process.ppid;
  mkdirSync(other);
  writeFileSync(path.join(other, `last.bin.tmp-${dead}-1733221234567`), 'stale');
  writeFileSync(path.join(other, `best.bin.tmp-${dead}-1733221234567-3`), 'stale');
  writeFileSync(path.join(other, `last.bin.tmp-${live}-1733221234567-0`), 'live');
  mkdirSync(path.join(other, `data.partial-${dead}`));
  mkdirSync(path.join(other, `data2.partial-${live}`));
  writeFileSync(path.join(other, 'keep.tmp-notes'), 'not ours');
  await writeFileAtomic(path.join(other, 'config.yaml'), 'a: 1\n');
  assert.deepEqual(readdirSync(other).sort(), ['config.yaml', `data2.partial-${live}`, 'keep.tmp-notes', `last.bin.tmp-${live}-1733221234567-0`].sort());
});

test('a folder built atomically cleans a dead process\'s <out>.partial-<pid> beside it', async () => {
  const dead = deadPid();
  const stale = path.join(tmp, `made.partial-${dead}`);
  mkdirSync(stale);
  writeFileSync(path.join(stale, 'half.png'), 'x');
  await buildDirAtomic(path.join(tmp, 'made'), false, async (d) => writeFile(path.join(d, 'done'), 'y'));
  assert.equal(existsSync(stale), false);
  assert.ok(existsSync(path.join(tmp, 'made', 'done')));
});

test('train --out on a full 2 MB file system: one line naming the checkpoint and the space, no temp file, and room again for the next start', async (t) => {
  const small = mountTmpfs(path.join(tmp, 'small'), '2m');
  if (!small) return t.skip('needs root to mount a 2 MB tmpfs');
  await useTestBackend();
  const data = path.join(tmp, 'data');
  await cliOk('synthetic', '--out', data, '--n', '8', '--val', '2');
  await cliOk('split', '--data', data, '--labeled', '1/2');
  const out = path.join(small, 'run');
  const argv = ['--backend', 'wasm', 'train', '--config', path.join(REPO_ROOT, 'experiments', 'synthetic', 'sup.yaml'), '--data', data, '--split', '1/2', '--out', out, '--set', 'train.iterations=2', '--set', 'train.checkpoint_every=1'];
  const io = memoryIo();
  assert.equal(await run(argv, io), 1);
  const last = io.stderr.at(-1)!;
  assert.match(last, /^sssseg: disk full writing .*\/run\/(last|best)\.bin: it needs [\d.]+ MiB, [\d.]+ [KM]iB free/);
  assert.deepEqual(readdirSync(out).filter((f) => f.includes('.tmp-')), []);
  // a temp file a killed process left behind (as before this fix) fills the disk; the next start removes it
  writeFileSync(path.join(out, `last.bin.tmp-${deadPid()}-1-0`), new Uint8Array(1900 * 1024));
  await writeFileAtomic(path.join(out, 'config.yaml'), 'x: 1\n'.repeat(40_000));
  assert.deepEqual(readdirSync(out).filter((f) => f.includes('.tmp-')), []);
});
