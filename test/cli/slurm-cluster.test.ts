/**
 * `sssseg sweep --executor slurm` against a real one-node Slurm cluster started on this machine:
 * two tiny synthetic runs go in as one array job, one is cancelled mid-run with scancel, the next
 * sweep resumes it from its checkpoint, and the table equals the local executor's for the same
 * configs and seeds. Needs root (and apt when Slurm is missing); otherwise skipped with one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runSweep } from '../../src/commands/sweep.ts';
import { planSweep } from '../../src/commands/sweep/plan.ts';
import { slurmCommands } from '../../src/commands/sweep/slurm.ts';
import { readSweepFile } from '../../src/commands/sweep/state.ts';
import { sweepStatus, type RunStatus } from '../../src/commands/sweep/status.ts';
import { cliOk, memoryIo } from '../helpers/io.ts';
import { REPO_ROOT } from '../helpers/shared.ts';
import { slurmUnavailable, startCluster, type Cluster } from '../helpers/slurm-cluster.ts';

const skip = slurmUnavailable();
if (skip) console.log(`# slurm cluster test skipped: ${skip}`);

const ITERATIONS = { sup: 8, mt: 16 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, seconds: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (const t0 = Date.now(); Date.now() - t0 < seconds * 1000; await sleep(200)) {
    const v = await probe();
    if (v !== undefined) return v;
  }
  throw new Error(`timed out after ${seconds} s waiting for ${what}`);
}

const logLines = (dir: string): { it?: number; time?: string }[] =>
  existsSync(path.join(dir, 'log.jsonl')) ? readFileSync(path.join(dir, 'log.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];

const miou = (dir: string): number => (JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as { metrics: { miou: number } }).metrics.miou;

test('a Slurm sweep survives a scancel, resumes on the next sweep, and tables like the local executor', { skip, timeout: 8 * 60_000 }, async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sssseg-slurm-'));
  let cluster: Cluster | undefined;
  const savedConf = process.env['SLURM_CONF'];
  t.after(async () => {
    await cluster?.stop();
    if (savedConf === undefined) delete process.env['SLURM_CONF'];
    else process.env['SLURM_CONF'] = savedConf;
    rmSync(tmp, { recursive: true, force: true });
  });
  const data = path.join(tmp, 'data');
  await cliOk('synthetic', '--out', data, '--seed', '0');
  await cliOk('split', '--data', data, '--labeled', '1/4', '--seed', '0');
  const configs = path.join(tmp, 'grid');
  mkdirSync(configs);
  for (const [method, iterations] of Object.entries(ITERATIONS)) {
    const base = ['models/tiny-cpu.yaml', 'synthetic/base.yaml'].map((f) => path.join(REPO_ROOT, 'experiments', f));
    writeFileSync(
      path.join(configs, `${method}.yaml`),
      `extends: [${base.join(', ')}]\nmethod: ${method}\nrun: { data: ${data}, split: 1/4 }\ntrain: { iterations: ${iterations}, checkpoint_every: 4 }\n`,
    );
  }
  cluster = await startCluster();
  process.env['SLURM_CONF'] = cluster.conf;
  const runs = path.join(tmp, 'slurm-runs');
  const sweep = { targets: [configs], runs, executor: 'slurm' as const, childFlags: ['--backend', 'wasm'] };
  const status = async (): Promise<Map<string, RunStatus>> => {
    const entries = await planSweep({ targets: [configs], runs });
    return new Map((await sweepStatus(entries, path.join(runs, 'grid'), slurmCommands.queue)).map((s) => [s.entry.method, s]));
  };

  const t0 = Date.now();
  const phase = (name: string) => t.diagnostic(`${name} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  phase('cluster up');
  // 1. both runs as one array job; cancel Mean Teacher once it has a checkpoint and is past it
  const io = memoryIo();
  await runSweep(sweep, io);
  assert.match(io.stdout.join('\n'), /submitted job (\d+): 2 run\(s\)/);
  const job = (await readSweepFile(path.join(runs, 'grid'))).submissions[0]!;
  const mt = job.runs.find((r) => r.method === 'mt')!;
  await until('Mean Teacher to pass its first checkpoint', 180, () =>
    existsSync(path.join(mt.out_dir, 'last.bin')) && logLines(mt.out_dir).length >= 6 ? true : undefined,
  );
  phase('mt checkpointed');
  const cancelledAt = new Date();
  await cluster.client('scancel', [`${job.job_id}_${mt.index}`]);
  const first = await until('the first job to end', 180, async () => {
    const s = await status();
    return [...s.values()].some((r) => r.state === 'pending' || r.state === 'running') ? undefined : s;
  });
  phase('first job ended');
  assert.equal(first.get('sup')!.state, 'done');
  assert.equal(first.get('mt')!.state, 'failed');
  assert.equal(first.get('mt')!.code, 143, 'the exit record says SIGTERM');
  assert.match(first.get('mt')!.detail, /stopped by SIGTERM; the next sweep resumes it from last\.bin/);
  assert.ok(!existsSync(path.join(mt.out_dir, 'results.json')));
  const stoppedAt = logLines(mt.out_dir).at(-1)!.it!;
  assert.ok(stoppedAt < ITERATIONS.mt, `cancelled mid-run (at iteration ${stoppedAt})`);

  // 2. the next sweep submits only the cancelled run, which continues from its checkpoint
  const again = memoryIo();
  await runSweep({ ...sweep, wait: true, pollSeconds: 1 }, again);
  phase('resumed job ended');
  assert.match(again.stdout[0]!, /2 configs, 1 done, 1 failed; submitting 1 to Slurm/);
  assert.match(readFileSync(`${mt.out_dir}.log`, 'utf8'), new RegExp(`== slurm task \\d+_0 .*: sssseg train .* --resume ${mt.out_dir}\\n`));
  const log = logLines(mt.out_dir);
  assert.ok(new Date(log[0]!.time!) < cancelledAt, 'the run folder was kept, not started over');
  assert.equal(log.at(-1)!.it, ITERATIONS.mt);
  const table = path.join(runs, 'grid', 'table.csv');
  assert.ok(existsSync(table), 'the table is written when the last run ends');

  // 3. the local executor on the same configs and seeds: the same numbers, to the last bit
  const local = path.join(tmp, 'local-runs');
  await runSweep({ targets: [configs], runs: local, jobs: 2, childFlags: ['--backend', 'wasm'] }, memoryIo());
  phase('local sweep ended');
  assert.equal(readFileSync(table, 'utf8'), readFileSync(path.join(local, 'grid', 'table.csv'), 'utf8'));
  for (const m of ['sup', 'mt']) assert.equal(miou(path.join(runs, 'grid', m)), miou(path.join(local, 'grid', m)), m);
});
