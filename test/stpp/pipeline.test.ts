/**
 * CI smoke of the whole ST / ST++ pipelines on the synthetic set, through the CLI: every stage's
 * files, skipping of complete stages, and a run interrupted by SIGINT then started again ending
 * with the same files and numbers as the uninterrupted run.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../src/cli/main.ts';
import { decodePng } from '../../src/data/png.ts';
import { useTestBackend } from '../helpers/backend.ts';
import { memoryIo } from '../helpers/io.ts';
import { REPO_ROOT } from '../helpers/shared.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sssseg-stpp-'));
const data = path.join(tmp, 'data');
const stppYaml = path.join(REPO_ROOT, 'experiments', 'synthetic', 'stpp.yaml');
const stYaml = path.join(REPO_ROOT, 'experiments', 'synthetic', 'st.yaml');
const NUM_CLASSES = 4;

type MemIo = ReturnType<typeof memoryIo>;

async function cli(argv: string[], io: MemIo = memoryIo(), exitCode = 0): Promise<MemIo> {
  const code = await run(['--backend', 'wasm', ...argv], io);
  assert.equal(code, exitCode, `sssseg ${argv.join(' ')} exited ${code}:\n${io.stderr.join('\n')}`);
  return io;
}

const read = (...p: string[]) => readFileSync(path.join(...p));
const json = <T>(...p: string[]) => JSON.parse(readFileSync(path.join(...p), 'utf8')) as T;
const lines = (...p: string[]) => readFileSync(path.join(...p), 'utf8').split('\n').filter(Boolean);
interface Results {
  method: string;
  metrics: { miou: number };
  checkpoint: string;
  iterations: number;
}

let unlabeled: string[] = [];

before(async () => {
  await useTestBackend();
  await cli(['synthetic', '--out', data, '--n', '32', '--seed', '0']);
  await cli(['split', '--data', data, '--labeled', '1/4', '--seed', '0']);
  unlabeled = lines(data, 'splits', '1_4', 'unlabeled.txt');
});

const stpp = path.join(tmp, 'stpp');
const stppArgs = ['st-plus-plus', '--config', stppYaml, '--data', data, '--split', '1/4', '--out', stpp];

test('st-plus-plus: six stages, their files, and a rerun that skips them all', async () => {
  await cli([...stppArgs, '--previews']);
  for (const e of [1, 2, 3]) assert.ok(existsSync(path.join(stpp, 'stage1', `ckpt-e${e}.bin`)), `ckpt-e${e}`);
  for (const s of ['stage1', 'stage2', 'stage3']) assert.ok(existsSync(path.join(stpp, s, 'best.bin')), s);
  const rel = json<{ checkpoints: number[]; scores: { id: string; score: number; reliable: boolean }[] }>(stpp, 'reliability.json');
  assert.deepEqual(rel.checkpoints, [1, 2, 3]);
  assert.deepEqual(rel.scores.map((s) => s.id).sort(), [...unlabeled].sort());
  const reliable = lines(stpp, 'reliable.txt');
  const unreliable = lines(stpp, 'unreliable.txt');
  assert.equal(reliable.length, Math.floor(unlabeled.length / 2));
  assert.deepEqual([...reliable, ...unreliable], rel.scores.map((s) => s.id), 'lists follow the descending scores');
  for (let i = 1; i < rel.scores.length; i++) assert.ok(rel.scores[i - 1]!.score >= rel.scores[i]!.score);
  assert.deepEqual(readdirSync(path.join(stpp, 'pseudo')).sort(), unlabeled.map((id) => `${id}.png`).sort());
  for (const id of unlabeled) {
    const png = decodePng(read(stpp, 'pseudo', `${id}.png`), id);
    assert.equal(png.channels, 1);
    assert.ok(png.data.every((v) => v < NUM_CLASSES), `${id}: class ids only, no threshold`);
    assert.equal(decodePng(read(stpp, 'pseudo-color', `${id}.png`), id).channels, 3);
  }
  assert.equal(readdirSync(path.join(stpp, 'stages')).length, 6);
  const results = json<Results>(stpp, 'results.json');
  assert.equal(results.method, 'stpp');
  assert.equal(results.checkpoint, path.join('stage3', 'best.bin'));
  assert.ok(results.metrics.miou > 0 && results.metrics.miou <= 1);

  const again = await cli(stppArgs);
  assert.equal(again.stderr.filter((l) => /complete, skipped/.test(l)).length, 6);
  assert.deepEqual(json<Results>(stpp, 'results.json').metrics, results.metrics);
});

test('--from-stage 5, SIGINT in the last re-training, the same command again: same files and numbers as before', async () => {
  const before = {
    results: json<Results>(stpp, 'results.json'),
    pseudo: Object.fromEntries(unlabeled.map((id) => [id, read(stpp, 'pseudo', `${id}.png`)])),
    reliability: read(stpp, 'reliability.json'),
  };
  // redo stages 5–6 and interrupt the re-training after its first iteration, as Ctrl-C would
  const io = memoryIo();
  const err = io.err;
  let sent = false;
  io.err = (line) => {
    err(line);
    if (!sent && /^sup \d+\/\d+/.test(line) && io.stderr.some((l) => /stage 6\/6/.test(l))) {
      sent = true;
      process.emit('SIGINT');
    }
  };
  const removed: string[] = [];
  const watch = io.err;
  io.err = (line) => {
    // stage 5 starts from an empty slate: its masks were deleted with its marker
    if (/^stage 5\/6 pseudo-unreliable…/.test(line)) removed.push(...lines(stpp, 'unreliable.txt').filter((id) => !existsSync(path.join(stpp, 'pseudo', `${id}.png`))));
    watch(line);
  };
  // an interrupted run is not a success: 128 + SIGINT
  await cli([...stppArgs, '--from-stage', '5'], io, 130);
  assert.ok(sent);
  assert.deepEqual(removed, lines(stpp, 'unreliable.txt'));
  assert.match(io.stderr.join('\n'), /interrupted in stage 6/);
  assert.ok(existsSync(path.join(stpp, 'stage3', 'last.bin')), 'the interrupted training left its checkpoint');
  assert.ok(!existsSync(path.join(stpp, 'stages', '6-retrain3.done.json')));
  assert.ok(!existsSync(path.join(stpp, 'results.json')), 'results of the redone pipeline are not there yet');

  const resumed = await cli(stppArgs);
  assert.equal(resumed.stderr.filter((l) => /complete, skipped/.test(l)).length, 5);
  assert.match(resumed.stderr.join('\n'), /resuming/);
  assert.deepEqual(json<Results>(stpp, 'results.json').metrics, before.results.metrics);
  assert.deepEqual(read(stpp, 'reliability.json'), before.reliability);
  for (const id of unlabeled) assert.deepEqual(read(stpp, 'pseudo', `${id}.png`), before.pseudo[id], id);
});

test('train --method st: teacher → pseudo-label all → one re-training', async () => {
  const st = path.join(tmp, 'st');
  await cli(['train', '--config', stYaml, '--data', data, '--split', '1/4', '--out', st]);
  assert.deepEqual(readdirSync(path.join(st, 'stages')).sort(), ['1-teacher.done.json', '2-pseudo-all.done.json', '3-retrain2.done.json']);
  assert.equal(readdirSync(path.join(st, 'pseudo')).length, unlabeled.length);
  assert.ok(!existsSync(path.join(st, 'reliability.json')));
  const results = json<Results>(st, 'results.json');
  assert.equal(results.method, 'st');
  assert.equal(results.checkpoint, path.join('stage2', 'best.bin'));
});

test('a run folder started with other settings is refused; --from-stage out of range is an error', async () => {
  const io = memoryIo();
  assert.equal(await run(['--backend', 'wasm', ...stppArgs, '--set', 'stpp.reliable_fraction=0.25'], io), 1);
  assert.match(io.stderr.join('\n'), /different config/);
  const io2 = memoryIo();
  assert.equal(await run(['--backend', 'wasm', ...stppArgs, '--from-stage', '7'], io2), 1);
  assert.match(io2.stderr.join('\n'), /from-stage must be 1\.\.6/);
});
