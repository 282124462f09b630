import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { memoryIo } from '../helpers/io.ts';
import { runStages } from '../../src/stpp/pipeline.ts';
import type { Stage } from '../../src/stpp/stages.ts';
import { checkIdentity, readIdList, readMarker, writeIdList, markerFile } from '../../src/stpp/layout.ts';
import { retrainLabeled, teacherLabeled } from '../../src/stpp/stages.ts';

/** Stages that each write one file; `failAt` makes a stage return "interrupted". */
function fakeStages(run: string, log: string[], failAt?: { n: number }): Stage[] {
  return ['a', 'b', 'c'].map((name, i) => ({
    name,
    outputs: async () => [path.join(run, `${name}.out`)],
    async run() {
      log.push(name);
      if (failAt?.n === i + 1) return undefined;
      writeFileSync(path.join(run, `${name}.out`), name);
      return { value: i, nan: Number.NaN };
    },
  }));
}

const newRun = () => mkdtempSync(path.join(tmpdir(), 'stpp-run-'));

test('complete stages are skipped; an interrupted stage and the ones after it run again', async () => {
  const run = newRun();
  const log: string[] = [];
  const first = await runStages(run, fakeStages(run, log, { n: 2 }), { io: memoryIo() });
  assert.equal(first.completed, false);
  assert.deepEqual(log, ['a', 'b']);
  assert.ok(await readMarker(run, 1, 'a'));
  assert.equal(await readMarker(run, 2, 'b'), undefined);
  const second = await runStages(run, fakeStages(run, log), { io: memoryIo() });
  assert.equal(second.completed, true);
  assert.deepEqual(log, ['a', 'b', 'b', 'c']);
  assert.deepEqual(second.reports.map((r) => r.skipped), [true, false, false]);
  // markers are JSON: NaN became null, also in the fresh report
  assert.equal(second.reports[2]!.info['nan'], null);
  const third = await runStages(run, fakeStages(run, log), { io: memoryIo() });
  assert.deepEqual(log.length, 4, 'nothing to do');
  assert.deepEqual(third.reports.map((r) => r.info), second.reports.map((r) => r.info));
});

test('--from-stage removes the markers and outputs of stages N.. and redoes them', async () => {
  const run = newRun();
  const log: string[] = [];
  await runStages(run, fakeStages(run, log), { io: memoryIo() });
  writeFileSync(path.join(run, 'c.out'), 'stale');
  log.length = 0;
  const interrupted = await runStages(run, fakeStages(run, log, { n: 2 }), { fromStage: 2, io: memoryIo() });
  assert.equal(interrupted.completed, false);
  assert.ok(!existsSync(path.join(run, 'c.out')), 'later outputs are gone once an earlier stage is redone');
  assert.ok(!existsSync(markerFile(run, 3, 'c')));
  await runStages(run, fakeStages(run, log), { io: memoryIo() });
  assert.deepEqual(log, ['b', 'b', 'c']);
  assert.deepEqual(readdirSync(path.join(run, 'stages')).sort(), ['1-a.done.json', '2-b.done.json', '3-c.done.json']);
});

test('a damaged marker counts as missing', async () => {
  const run = newRun();
  const log: string[] = [];
  await runStages(run, fakeStages(run, log), { io: memoryIo() });
  writeFileSync(markerFile(run, 3, 'c'), '{"stage": 3, "na');
  await runStages(run, fakeStages(run, log), { io: memoryIo() });
  assert.deepEqual(log, ['a', 'b', 'c', 'c']);
});

test('a run folder refuses other settings unless stages are redone', async () => {
  const run = newRun();
  const id = { method: 'stpp', config: { seed: 0 }, dataset: 'syn', split: '1/4', labeled: ['a'], unlabeled: ['b', 'c'] };
  await checkIdentity(run, id, undefined);
  await checkIdentity(run, id, undefined);
  await assert.rejects(checkIdentity(run, { ...id, config: { seed: 1 } }, undefined), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'stpp.runMismatch');
    assert.match(e.message, /config/);
    return true;
  });
  await checkIdentity(run, { ...id, config: { seed: 1 } }, 3);
  await checkIdentity(run, { ...id, config: { seed: 1 } }, undefined);
});

test('id lists round-trip with a trailing newline; labeled lists repeat as ST++ does', async () => {
  const run = newRun();
  await writeIdList(path.join(run, 'x.txt'), ['a', 'b/c']);
  assert.deepEqual(await readIdList(path.join(run, 'x.txt')), ['a', 'b/c']);
  await writeIdList(path.join(run, 'y.txt'), []);
  assert.deepEqual(await readIdList(path.join(run, 'y.txt')), []);
  await assert.rejects(readIdList(path.join(run, 'none.txt')), { code: 'stpp.missingFile' });
  assert.deepEqual(retrainLabeled(['l1', 'l2'], 5), ['l1', 'l2', 'l1', 'l2', 'l1', 'l2']);
  assert.deepEqual(retrainLabeled(['l1', 'l2'], 1), ['l1', 'l2']);
  assert.deepEqual(teacherLabeled(['l1'], 200), ['l1', 'l1']);
  assert.deepEqual(teacherLabeled(['l1'], 0), ['l1']);
});
