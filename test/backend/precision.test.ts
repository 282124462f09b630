import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { BF16_EMULATE_ENV, precisionProblem, supportedPrecisions, type PrecisionHost } from '../../src/backend/precision.ts';
import { run } from '../../src/cli/main.ts';
import { cliOk, memoryIo } from '../helpers/io.ts';

const avx2: PrecisionHost = { name: 'native', native: { loaded: true, isa: 'avx2', bf16: false } };
const amx: PrecisionHost = { name: 'native', native: { loaded: true, isa: 'avx512_core_amx', bf16: true } };
const wasm: PrecisionHost = { name: 'wasm', native: { loaded: false } };

test('bf16 runs where oneDNN has bf16 kernels; elsewhere one line says why, naming the ISA or backend', () => {
  const saved = process.env[BF16_EMULATE_ENV];
  delete process.env[BF16_EMULATE_ENV];
  try {
    assert.equal(precisionProblem('fp32', wasm), null);
    assert.equal(precisionProblem('bf16', amx), null);
    assert.equal(precisionProblem('bf16', avx2), "precision bf16 needs oneDNN bf16 kernels (ISA avx512_core_bf16 or avx512_core_amx); this CPU's oneDNN ISA is avx2");
    assert.match(precisionProblem('bf16', wasm) ?? '', /runs on backend native only \(this run uses wasm\)/);
    assert.deepEqual(supportedPrecisions(avx2), ['fp32']);
    assert.deepEqual(supportedPrecisions(amx), ['fp32', 'bf16']);
    // the test switch: bf16 numerics on any native CPU, never on another backend
    process.env[BF16_EMULATE_ENV] = '1';
    assert.deepEqual(supportedPrecisions(avx2), ['fp32', 'bf16 (emulated: SSSSEG_BF16_EMULATE=1)']);
    assert.notEqual(precisionProblem('bf16', wasm), null);
  } finally {
    if (saved === undefined) delete process.env[BF16_EMULATE_ENV];
    else process.env[BF16_EMULATE_ENV] = saved;
  }
});

test('train --precision bf16 on a backend without bf16 exits 1 with that line and creates no run folder', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'precision-'));
  const data = path.join(dir, 'syn');
  await cliOk('synthetic', '--out', data, '--n', '8');
  await cliOk('split', '--data', data, '--labeled', '1/4', '--seed', '0');
  const io = memoryIo();
  const out = path.join(dir, 'run');
  const code = await run(['--backend', 'wasm', 'train', '--config', 'experiments/synthetic/sup.yaml', '--data', data, '--split', '1/4', '--out', out, '--precision', 'bf16'], io);
  assert.equal(code, 1);
  assert.equal(io.stderr.length, 1, io.stderr.join('\n'));
  assert.match(io.stderr[0]!, /precision bf16 runs on backend native only \(this run uses wasm\)/);
  assert.ok(!existsSync(out));
  const bad = memoryIo();
  assert.equal(await run(['--backend', 'wasm', 'train', '--config', 'experiments/synthetic/sup.yaml', '--data', data, '--split', '1/4', '--out', out, '--precision', 'fp16'], bad), 1);
  assert.match(bad.stderr.join('\n'), /train\.precision.*"fp32"\|"bf16"/);
});
