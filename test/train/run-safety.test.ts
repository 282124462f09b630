import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../src/cli/main.ts';
import { loadConfig } from '../../src/config/load.ts';
import { openDataset, resolveSplit } from '../../src/data/index.ts';
import { readCheckpoint } from '../../src/models/checkpoint.ts';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.ts';
import { train } from '../../src/train/trainer.ts';
import { useTestBackend } from '../helpers/backend.ts';
import { cliOk, memoryIo } from '../helpers/io.ts';
import { REPO_ROOT } from '../helpers/shared.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sssseg-runsafety-'));
const data = path.join(tmp, 'data');
const configs = path.join(REPO_ROOT, 'experiments', 'synthetic');
const sup = path.join(configs, 'sup.yaml');
const BIN = path.join(REPO_ROOT, 'bin', 'sssseg.js');

before(async () => {
  await useTestBackend();
  await cliOk('synthetic', '--out', data, '--n', '16', '--val', '4');
  await cliOk('split', '--data', data, '--labeled', '1/4');
});

const trainArgs = (out: string, ...more: string[]) => ['train', '--config', sup, '--data', data, '--split', '1/4', '--out', out, ...more];

async function sssseg(...argv: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const io = memoryIo();
  const code = await run(['--backend', 'wasm', ...argv], io);
  return { code, stderr: io.stderr.join('\n'), stdout: io.stdout.join('\n') };
}

/** `sssseg argv` as its own process with piped output; `waitFor` resolves once the output matches. */
function spawnCli(argv: string[]): { child: ChildProcess; waitFor(re: RegExp): Promise<void>; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, '--backend', 'wasm', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const onData = (d: Buffer) => {
    text += d.toString();
    for (const w of waiters.filter((w) => w.re.test(text))) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exit,
    waitFor: (re) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(text)) return resolve();
        waiters.push({ re, resolve });
        void exit.then(() => reject(new Error(`exited before printing ${re}:\n${text}`)));
      }),
  };
}

const logIterations = (dir: string) =>
  readFileSync(path.join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { it: number; val_miou?: number; sec?: number });
const snapshot = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(path.join(dir, f)).toString('base64')]));

test('--force replaces only a recognisable run folder: a data set or a folder with other files stays as it was', async () => {
  const copy = path.join(tmp, 'data-copy');
  cpSync(data, copy, { recursive: true });
  const before = readdirSync(copy).sort();
  const r = await sssseg(...trainArgs(copy, '--force', '--set', 'train.iterations=2'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--force replaces only run folders of sssseg, and .*data-copy also holds dataset\.json, images, labels, splits/);
  assert.deepEqual(readdirSync(copy).sort(), before);
  const st = await sssseg('st-plus-plus', '--config', path.join(configs, 'stpp.yaml'), '--data', data, '--split', '1/4', '--out', copy, '--force');
  assert.equal(st.code, 1);
  assert.match(st.stderr, /--force replaces only run folders of sssseg/);
  assert.deepEqual(readdirSync(copy).sort(), before);
  // a run folder with a note in it: the note is named and nothing is removed
  const runDir = path.join(tmp, 'noted');
  await cliOk(...trainArgs(runDir, '--set', 'train.iterations=2'));
  writeFileSync(path.join(runDir, 'notes.txt'), 'mine');
  assert.match((await sssseg(...trainArgs(runDir, '--force', '--set', 'train.iterations=2'))).stderr, /also holds notes\.txt/);
  assert.ok(existsSync(path.join(runDir, 'last.bin')));
  // without it, the run folder is replaced
  renameSync(path.join(runDir, 'notes.txt'), path.join(tmp, 'notes.txt'));
  await cliOk(...trainArgs(runDir, '--force', '--set', 'train.iterations=3'));
  assert.deepEqual(logIterations(runDir).filter((l) => l.sec !== undefined).map((l) => l.it), [1, 2, 3]);
});

test('a run folder in use is refused naming the pid, even with --force; Ctrl-C with the output pipe gone still checkpoints and exits 130', async () => {
  const dir = path.join(tmp, 'busy');
  const a = spawnCli(trainArgs(dir, '--set', 'train.iterations=400', '--set', 'train.checkpoint_every=1000'));
  try {
    await a.waitFor(/sup 20\/400/);
    const pid = a.child.pid!;
    const resume = await sssseg('train', '--resume', dir, '--data', data, '--split', '1/4');
    assert.equal(resume.code, 1);
    assert.match(resume.stderr, new RegExp(`run folder .*busy is in use by pid ${pid} `));
    const force = await sssseg(...trainArgs(dir, '--force', '--set', 'train.iterations=2'));
    assert.match(force.stderr, new RegExp(`is in use by pid ${pid} `));
    // `| tee` dies with the same Ctrl-C: the reader is gone before the run logs the interrupt
    a.child.stdout!.destroy();
    a.child.stderr!.destroy();
    a.child.kill('SIGINT');
    assert.equal(await a.exit, 130);
  } finally {
    a.child.kill('SIGKILL');
  }
  const ck = await readCheckpoint(path.join(dir, 'last.bin'));
  assert.ok(ck.meta.iteration >= 20 && ck.meta.iteration < 400, `checkpoint at ${ck.meta.iteration}`);
  assert.equal(existsSync(path.join(dir, 'run.lock')), false, 'lock left behind');
});

test('after kill -9: --resume takes over the stale lock and the log holds every iteration once', async () => {
  const dir = path.join(tmp, 'killed');
  const k = spawnCli(trainArgs(dir, '--set', 'train.iterations=20', '--set', 'train.checkpoint_every=4'));
  await k.waitFor(/sup 6\/20/);
  k.child.kill('SIGKILL');
  await k.exit;
  const ckIt = (await readCheckpoint(path.join(dir, 'last.bin'))).meta.iteration;
  const logged = Math.max(...logIterations(dir).map((l) => l.it));
  assert.ok(logged > ckIt, `precondition: the log (${logged}) runs past the checkpoint (${ckIt})`);
  assert.ok(existsSync(path.join(dir, 'run.lock')));
  const r = await sssseg('train', '--resume', dir, '--data', data, '--split', '1/4');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`taking over the lock of .*killed: pid ${k.child.pid} is no longer running`));
  const its = logIterations(dir).filter((l) => l.sec !== undefined).map((l) => l.it);
  assert.deepEqual(its, Array.from({ length: 20 }, (_, i) => i + 1));
  assert.equal(existsSync(path.join(dir, 'run.lock')), false);
});

test('wall time adds up over the segments of an interrupted run', async () => {
  const cfg = await loadConfig(sup, ['train.iterations=10', 'train.checkpoint_every=0', 'train.val_every_epochs=0']);
  const ds = await openDataset(data);
  const base = { cfg, data: ds, split: await resolveSplit(ds, '1/4'), io: memoryIo(), backend: 'wasm', outDir: path.join(tmp, 'segments') };
  const cut = await train({ ...base, resume: false, force: false, stopAt: 5 });
  assert.equal(cut.completed, false);
  const done = await train({ ...base, resume: true, force: false });
  const secs = logIterations(base.outDir).reduce((s, l) => s + (l.sec ?? 0), 0);
  // every iteration's seconds lie inside one of the two segments; the second alone holds only half
  assert.ok(done.wallTimeS >= secs, `wall time ${done.wallTimeS} s < ${secs} s of logged iterations`);
  assert.ok(done.wallTimeS > cut.wallTimeS);
});

test('--resume checks before it writes: another method or config is refused and a finished run is left alone', async () => {
  const dir = path.join(tmp, 'finished');
  await cliOk(...trainArgs(dir, '--set', 'train.iterations=8'));
  const before = snapshot(dir);
  const other = await sssseg('train', '--config', path.join(configs, 'u2pl.yaml'), '--data', data, '--split', '1/4', '--resume', dir);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /cannot resume .*finished: its checkpoint is a sup run, the config trains u2pl/);
  assert.deepEqual(snapshot(dir), before);
  const shorter = await sssseg('train', '--resume', dir, '--data', data, '--split', '1/4', '--set', 'train.iterations=4');
  assert.match(shorter.stderr, /cannot resume .* with a different config: train\.iterations 8 → 4/);
  assert.deepEqual(snapshot(dir), before);
  const again = await sssseg('train', '--resume', dir, '--data', data, '--split', '1/4');
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /is finished \(iteration 8\/8, results\.json written\): nothing to do/);
  assert.deepEqual(snapshot(dir), before);
});

test('a run whose final validation failed finishes on --resume, and a missing validation is run again', async () => {
  const dir = path.join(tmp, 'val-failed');
  const copy = path.join(tmp, 'data-val');
  cpSync(data, copy, { recursive: true });
  const valImage = path.join(copy, 'images', 'val_0001.png');
  renameSync(valImage, `${valImage}.away`);
  const argv = ['train', '--config', sup, '--data', copy, '--split', '1/4', '--out', dir, '--set', 'train.iterations=16', '--set', 'train.checkpoint_every=8'];
  const failed = await sssseg(...argv);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /val_0001\.png not found/);
  renameSync(`${valImage}.away`, valImage);
  const resumed = await sssseg('train', '--resume', dir, '--data', copy, '--split', '1/4');
  assert.equal(resumed.code, 0, resumed.stderr);
  for (const f of ['results.json', 'best.bin']) assert.ok(existsSync(path.join(dir, f)), f);
  // a checkpoint whose validation never made it into the log (a crash between the two)
  const log = logIterations(dir);
  writeFileSync(path.join(dir, 'log.jsonl'), log.filter((l) => l.val_miou === undefined).map((l) => JSON.stringify(l) + '\n').join(''));
  renameSync(path.join(dir, 'results.json'), path.join(tmp, 'results-was.json'));
  const again = await sssseg('train', '--resume', dir, '--data', copy, '--split', '1/4');
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(logIterations(dir).filter((l) => l.val_miou !== undefined).map((l) => l.it), [16]);
  assert.ok(existsSync(path.join(dir, 'results.json')));
});

test('a non-finite loss stops the run naming iteration and term, keeps the last good checkpoint, and eval refuses non-finite weights', async () => {
  const dir = path.join(tmp, 'diverged');
  const argv = trainArgs(dir, '--set', 'train.lr=1e8', '--set', 'train.iterations=16', '--set', 'train.checkpoint_every=1');
  const r = await sssseg(...argv);
  assert.equal(r.code, 1);
  const line = /training diverged at iteration (\d+): (loss_sup is (NaN|-?Infinity)|weights of \S+ are not finite).*; the last good checkpoint is last\.bin at iteration (\d+)/.exec(r.stderr);
  assert.ok(line, r.stderr);
  assert.equal(Number(line[4]), Number(line[1]) - 1);
  assert.equal(existsSync(path.join(dir, 'results.json')), false);
  const ck = await readCheckpoint(path.join(dir, 'last.bin'));
  assert.equal(ck.meta.iteration, Number(line[4]));
  for (const [name, t] of ck.tensors) if (t.dtype === 'F32') assert.ok((t.data as Float32Array).every(Number.isFinite), name);
  // configurable: stop without failing the command
  const stop = await sssseg(...trainArgs(path.join(tmp, 'diverged-stop'), '--set', 'train.lr=1e8', '--set', 'train.iterations=16', '--set', 'train.on_nonfinite=stop'));
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stderr, /stopped: training diverged at iteration \d+: loss_sup is/);
  // a checkpoint with a NaN weight
  const st = await readSafetensors(path.join(dir, 'last.bin'));
  const [key, t] = [...st.tensors].find(([k, v]) => k.startsWith('student/') && v.dtype === 'F32')!;
  (t.data as Float32Array)[0] = Number.NaN;
  const bad = path.join(tmp, 'nan.bin');
  await writeSafetensors(bad, st.tensors, st.metadata);
  const ev = await sssseg('eval', bad, '--data', data);
  assert.equal(ev.code, 1);
  assert.match(ev.stderr, new RegExp(`nan\\.bin: network student has non-finite weights \\(${key.replace(/[.]/g, '\\.')}\\[0\\] is NaN\\)`));
  assert.equal(ev.stdout, '');
});
