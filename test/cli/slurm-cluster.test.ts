/**
 * `sssseg sweep --executor slurm` against a real one-node Slurm cluster started on this machine:
 * two tiny synthetic runs go in as one array job; mid-run one is cancelled with scancel and the other
 * gets the time-limit warning (SIGUSR1 to the batch shell), so it checkpoints and requeues itself;
 * the next sweep resubmits only the cancelled one, both continue from the checkpoints written on
 * the signals, and the table equals the local executor's for the same configs and seeds; stopping
 * the cluster ends everything it started and nothing else. Needs root (and apt when Slurm is
 * missing); otherwise skipped with one line.
 */
import { test } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runSweep } from '../../src/commands/sweep.ts';
import { planSweep } from '../../src/commands/sweep/plan.ts';
import { slurmCommands } from '../../src/commands/sweep/slurm.ts';
import { readSweepFile } from '../../src/commands/sweep/state.ts';
import { sweepStatus, type RunStatus } from '../../src/commands/sweep/status.ts';
import { cliOk, memoryIo } from '../helpers/io.ts';
import { REPO_ROOT } from '../helpers/shared.ts';
import { slurmUnavailable, startCluster, type Cluster, type Host } from '../helpers/slurm-cluster.ts';

const skip = slurmUnavailable();

const ITERATIONS = { sup: 16, mt: 16 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, seconds: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (const t0 = Date.now(); Date.now() - t0 < seconds * 1000; await sleep(200)) {
    const v = await probe();
    if (v !== undefined) return v;
  }
  throw new Error(`timed out after ${seconds} s waiting for ${what}`);
}

/** The training lines of a run's log.jsonl (one per iteration; validation lines left out). */
const logLines = (dir: string): { it: number; time: string }[] =>
  existsSync(path.join(dir, 'log.jsonl'))
    ? readFileSync(path.join(dir, 'log.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((l) => 'lr' in l)
    : [];

const miou = (dir: string): number => (JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as { metrics: { miou: number } }).metrics.miou;

test('a Slurm sweep survives scancel and the time-limit warning, resumes exactly, and tables like the local executor', { skip, timeout: 8 * 60_000 }, async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sssseg-slurm-'));
  let cluster: Cluster | undefined;
  const savedConf = process.env['SLURM_CONF'];
  // bystanders named like the daemons (copies of sleep): what a kill by name would hit
  const decoys: ChildProcess[] = [];
  t.after(async () => {
    await cluster?.stop();
    for (const d of decoys) d.kill();
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
      `extends: [${base.join(', ')}]\nmethod: ${method}\nrun: { data: ${data}, split: 1/4 }\ntrain: { iterations: ${iterations}, checkpoint_every: 1000 }\n`,
    );
  }
  mkdirSync(path.join(tmp, 'decoys'));
  for (const name of ['munged', 'slurmctld', 'slurmd', 'slurmstepd']) {
    copyFileSync('/bin/sleep', path.join(tmp, 'decoys', name));
    decoys.push(spawn(path.join(tmp, 'decoys', name), ['600'], { stdio: 'ignore' }).on('error', () => undefined));
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
  // 1. both runs as one array job; once both are mid-run (no periodic checkpoint yet), cancel Mean
  //    Teacher with scancel and give SupOnly the time-limit warning (SIGUSR1 to the batch shell only)
  const io = memoryIo();
  await runSweep(sweep, io);
  assert.match(io.stdout.join('\n'), /submitted job (\d+): 2 run\(s\)/);
  const job = (await readSweepFile(path.join(runs, 'grid'))).submissions[0]!;
  const byMethod = (m: string) => job.runs.find((r) => r.method === m)!;
  const [mt, sup] = [byMethod('mt'), byMethod('sup')];
  const task = (r: { index: number }) => `${job.job_id}_${r.index}`;
  await until('both runs to be mid-run', 180, () => (logLines(mt.out_dir).length >= 3 && logLines(sup.out_dir).length >= 3 ? true : undefined));
  phase('both mid-run');
  assert.ok(!existsSync(path.join(mt.out_dir, 'last.bin')) && !existsSync(path.join(sup.out_dir, 'last.bin')));
  const cancelledAt = new Date();
  await cluster.client('scancel', [task(mt)]);
  await cluster.client('scancel', ['--batch', '--signal=USR1', task(sup)]);
  const first = await until('the cancelled run to end and the warned one to requeue itself', 180, async () => {
    const s = await status();
    return s.get('mt')!.state === 'failed' && s.get('sup')!.state === 'pending' ? s : undefined;
  });
  phase('mt cancelled, sup requeued');
  assert.equal(first.get('mt')!.code, 143, 'the exit record says SIGTERM');
  assert.match(first.get('mt')!.detail, /exit 143: stopped by SIGTERM; the next sweep resumes it from last\.bin/);
  assert.equal(JSON.parse(readFileSync(path.join(runs, 'grid', 'slurm', `${task(sup)}.exit`), 'utf8')).code, 138);
  assert.match(readFileSync(path.join(runs, 'grid', 'slurm', `${task(sup)}.out`), 'utf8'), new RegExp(`requeued ${task(sup)}`));
  for (const r of [mt, sup]) {
    // the checkpoint was written on the signal, at the iteration the run had reached
    const stoppedAt = logLines(r.out_dir).at(-1)!.it;
    assert.ok(stoppedAt < ITERATIONS[r.method as 'mt' | 'sup'], `stopped mid-run (at iteration ${stoppedAt})`);
    assert.match(readFileSync(`${r.out_dir}.log`, 'utf8'), new RegExp(`SIG(TERM|USR1): finishing the current step[^]*checkpoint written at iteration ${stoppedAt}\\b`));
  }
  // what a user sees
  const shown = memoryIo();
  await runSweep({ targets: [configs], runs, status: true }, shown);
  for (const line of shown.stdout) t.diagnostic(line);
  assert.match(shown.stdout[0]!, /: 2 runs, 1 pending, 1 failed$/);
  assert.match(shown.stdout.join('\n'), /failed +mt +\d+_\d+ +exit 143: stopped by SIGTERM; .*\n {6}\| /);
  // Slurm holds a requeued job back for a while; start it now rather than wait that out
  await cluster.client('scontrol', ['update', `JobId=${task(sup)}`, 'StartTime=now']);

  // 2. the next sweep leaves the requeued run alone and submits only the cancelled one; both continue
  //    from their checkpoints and every iteration is trained exactly once
  const again = memoryIo();
  await runSweep({ ...sweep, wait: true, pollSeconds: 1 }, again);
  phase('both resumed and finished');
  assert.match(again.stdout[0]!, /2 configs, 1 pending, 1 failed; submitting 1 to Slurm/);
  assert.match(again.stdout.join('\n'), new RegExp(`pending already as task ${task(sup)}`));
  for (const r of [mt, sup]) {
    assert.match(readFileSync(`${r.out_dir}.log`, 'utf8'), new RegExp(`== slurm task \\d+_\\d+ .*start \\d at .*: sssseg train .* --resume ${r.out_dir}\\n`));
    const its = logLines(r.out_dir).map((l) => l.it);
    assert.deepEqual(its, Array.from({ length: ITERATIONS[r.method as 'mt' | 'sup'] }, (_, i) => i + 1), `${r.method}: iterations 1..N once each`);
    assert.ok(new Date(logLines(r.out_dir)[0]!.time) < cancelledAt, 'the run folder was kept, not started over');
  }
  assert.match(readFileSync(`${sup.out_dir}.log`, 'utf8'), /== slurm task \d+_\d+ .*start 2 at/, 'the requeued task is the same task, started again');
  const table = path.join(runs, 'grid', 'table.csv');
  assert.ok(existsSync(table), 'the table is written when the last run ends');

  // 3. the local executor on the same configs and seeds: the same numbers, to the last bit
  const local = path.join(tmp, 'local-runs');
  await runSweep({ targets: [configs], runs: local, jobs: 2, childFlags: ['--backend', 'wasm'] }, memoryIo());
  phase('local sweep ended');
  assert.equal(readFileSync(table, 'utf8'), readFileSync(path.join(local, 'grid', 'table.csv'), 'utf8'));
  for (const m of ['sup', 'mt']) assert.equal(miou(path.join(runs, 'grid', m)), miou(path.join(local, 'grid', m)), m);

  // 4. stopping the cluster ends every daemon, job step and run it started, and nothing else
  await cluster.stop();
  phase('cluster stopped');
  assert.deepEqual(cluster.leftovers(), [], 'no process of this cluster is left');
  for (const d of decoys) assert.ok(d.exitCode === null && d.signalCode === null, `${d.spawnfile}, not started by the cluster, still runs`);
});

test('the cluster test says in one line why it cannot run, and installs Slurm with apt when it can', () => {
  const all = ['/usr/sbin/munged', '/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/bin/sbatch', '/usr/bin/apt-get'];
  /** a machine with the files `has`, whose commands answer `outcomes` in turn (undefined = success) */
  const host = (has: string[], outcomes: (string | undefined)[] = [], over: Partial<Host> = {}) => {
    const calls: string[] = [];
    const h: Host = { platform: 'linux', uid: 0, exists: (f) => has.includes(f), run: (cmd, args) => (calls.push(`${cmd} ${args[0]}`), outcomes.shift()), ...over };
    return { h, calls };
  };
  assert.equal(slurmUnavailable(host(all, [], { platform: 'darwin' }).h), 'a Slurm test cluster needs Linux (this is darwin)');
  assert.equal(slurmUnavailable(host(all, [], { uid: 1000 }).h), 'starting a Slurm node (slurmd) needs root');
  const noApt = host(['/usr/sbin/munged']);
  assert.equal(slurmUnavailable(noApt.h), 'Slurm is not installed and there is no apt-get to install slurmctld slurmd slurm-client munge');
  const installed = host(all);
  assert.equal(slurmUnavailable(installed.h), undefined);
  assert.deepEqual([...noApt.calls, ...installed.calls], [], 'apt is not touched when it is missing or not needed');
  // a fresh container has no package lists yet: install fails, update, install again
  const fresh = host(['/usr/bin/apt-get'], ['E: Unable to locate package slurmd', undefined, undefined]);
  assert.equal(slurmUnavailable(fresh.h), undefined);
  assert.deepEqual(fresh.calls, ['apt-get install', 'apt-get update', 'apt-get install']);
  const offline = host(['/usr/bin/apt-get'], ['E: Unable to locate package slurmd', 'E: Failed to fetch', 'E: Unable to locate package slurmd']);
  assert.equal(slurmUnavailable(offline.h), 'apt-get could not install slurmctld slurmd slurm-client munge: E: Failed to fetch');
});
