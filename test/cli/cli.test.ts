import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { run } from '../../src/cli/main.ts';
import { memoryIo } from '../helpers/io.ts';
import { REPO_ROOT } from '../helpers/shared.ts';

const REQUIRED = [
  'prepare-voc', 'prepare-cityscapes', 'prepare-camvid', 'synthetic', 'split', 'train',
  'train-sup', 'train-u2pl', 'st-plus-plus', 'eval', 'table', 'info',
];

test('--help lists every subcommand and exits 0', async () => {
  const io = memoryIo();
  assert.equal(await run(['--help'], io), 0);
  const help = io.stdout.join('\n');
  for (const cmd of REQUIRED) assert.match(help, new RegExp(`^\\s+${cmd}\\b`, 'm'), `missing ${cmd}`);
});

test('train --help offers --method', async () => {
  const io = memoryIo();
  assert.equal(await run(['train', '--help'], io), 0);
  assert.match(io.stdout.join('\n'), /--method <name>/);
});

test('unknown subcommand and unknown option exit 2 with commander\'s message', async () => {
  const io = memoryIo();
  assert.equal(await run(['frobnicate'], io), 2);
  assert.match(io.stderr.join('\n'), /unknown command 'frobnicate'/);
  const io2 = memoryIo();
  assert.equal(await run(['info', '--no-such-flag'], io2), 2);
  assert.match(io2.stderr.join('\n'), /unknown option '--no-such-flag'/);
});

test('a bad --backend value is one readable line and exit 1', async () => {
  const io = memoryIo();
  assert.equal(await run(['--backend', 'metal', 'info'], io), 1);
  assert.equal(io.stderr.length, 1);
  assert.match(io.stderr[0]!, /^sssseg: unknown backend "metal" from --backend/);
});

test('a backend that cannot load names the package to install', async () => {
  const io = memoryIo();
  assert.equal(await run(['--backend', 'tensorflow', 'info'], io), 1);
  assert.match(io.stderr.join('\n'), /@tensorflow\/tfjs-node-gpu/);
});

test('the bin launcher: info on wasm exits 0; usage errors exit 2', () => {
  const bin = path.join(REPO_ROOT, 'bin', 'sssseg.js');
  const ok = spawnSync(process.execPath, [bin, '--backend', 'wasm', 'info'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /backend:\s+wasm/);
  assert.match(ok.stdout, /tfjs:\s+4\.22\.0/);
  assert.match(ok.stdout, /wasm SIMD:\s+yes/);
  const bad = spawnSync(process.execPath, [bin, 'nope'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  const env = spawnSync(process.execPath, [bin, 'info'], { encoding: 'utf8', env: { ...process.env, SSSSEG_BACKEND: 'cpu' } });
  assert.equal(env.status, 0, env.stderr);
  assert.match(env.stdout, /backend:\s+cpu/);
  assert.match(env.stderr, /orders of magnitude slower/);
});
