/**
 * The Slurm executor without a cluster: the job script (syntax, directives, quoting, and what a task
 * does when bash runs it with stand-ins for node and scontrol), sweep.json and exit records, the
 * status of each run from a fake queue, and submission through a fake sbatch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jobScript, shq, type JobScriptOptions } from '../../src/commands/sweep/job-script.ts';
import { runSweep } from '../../src/commands/sweep.ts';
import type { RunSpec } from '../../src/commands/sweep/plan.ts';
import type { SlurmClient } from '../../src/commands/sweep/slurm.ts';
import { addSubmission, latestTasks, parseExitRecord, parseSqueue, readSweepFile, type QueueEntry } from '../../src/commands/sweep/state.ts';
import { describeExit } from '../../src/commands/sweep/status.ts';
import { run } from '../../src/cli/main.ts';
import { memoryIo } from '../helpers/io.ts';
import { REPO_ROOT } from '../helpers/shared.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sssseg-slurm-unit-'));

/**
 * A stand-in for node: logs its arguments, writes $FAKE_FINISH (a results.json) if set, then exits
 * with $FAKE_CODE; with FAKE_WAIT it waits for SIGUSR1 instead.
 */
function fakeNode(dir: string): string {
  const file = path.join(dir, 'fake-node');
  writeFileSync(
    file,
    `#!/bin/bash
echo "$*" >> "${dir}/calls"
if [ -n "\${FAKE_WAIT:-}" ]; then
  trap 'echo usr1 >> "${dir}/calls"; exit 138' USR1
  touch "${dir}/waiting"; while :; do sleep 0.05; done
fi
if [ -n "\${FAKE_FINISH:-}" ]; then echo '{}' > "$FAKE_FINISH"; fi
exit "\${FAKE_CODE:-0}"
`,
  );
  chmodSync(file, 0o755);
  return file;
}

function scriptFor(dir: string, runs: RunSpec[], extra: Partial<JobScriptOptions> = {}): string {
  const file = path.join(dir, 'job.sbatch');
  const text = jobScript({
    runs, allRuns: runs.map((r) => r.outDir), table: path.join(dir, 'table'), recordDir: path.join(dir, 'slurm'),
    workdir: dir, node: fakeNode(dir), bin: '/opt/sssseg/bin/sssseg.js', childFlags: ['--backend', 'wasm'],
    name: 'sssseg-grid', sbatch: {}, warnSeconds: 300, origin: 'test', ...extra,
  });
  writeFileSync(file, text);
  return file;
}

const spec = (dir: string, name: string, pipeline = false): RunSpec => ({
  config: path.join(dir, `${name}.yaml`), outDir: path.join(dir, 'runs', name), pipeline, trainFlags: ['--set', 'seed=1'],
});

/** Run the job script as array task `index` of job 7, with a fake scontrol on PATH. */
function task(dir: string, index: number, env: Record<string, string> = {}): { code: number; calls: string[] } {
  const bin = path.join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, 'scontrol'), `#!/bin/bash\necho "scontrol $*" >> "${dir}/calls"\n`, { mode: 0o755 });
  let code = 0;
  try {
    execFileSync('bash', [path.join(dir, 'job.sbatch')], {
      env: { ...process.env, PATH: `${bin}:${process.env['PATH']}`, SLURM_ARRAY_JOB_ID: '7', SLURM_ARRAY_TASK_ID: String(index), ...env },
      stdio: 'ignore',
    });
  } catch (err) {
    code = (err as { status: number }).status;
  }
  const calls = existsSync(path.join(dir, 'calls')) ? readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n') : [];
  writeFileSync(path.join(dir, 'calls'), '');
  return { code, calls: calls.filter(Boolean) };
}

test('the job script asks for an array throttled to --jobs, a warning signal, requeue, and the given resources', () => {
  const dir = mkdtempSync(path.join(tmp, 'directives-'));
  const text = readFileSync(scriptFor(dir, [spec(dir, 'a'), spec(dir, 'b'), spec(dir, 'c')], {
    throttle: 2, warnSeconds: 120,
    sbatch: { partition: 'gpu', time: '4:00:00', cpusPerTask: 8, mem: '32G', gres: 'gpu:1', extra: ['--qos=high'] },
  }), 'utf8');
  const directives = text.split('\n').filter((l) => l.startsWith('#SBATCH ')).map((l) => l.slice(8));
  assert.deepEqual(directives, [
    '--job-name=sssseg-grid', '--array=0-2%2', `--output=${dir}/slurm/%A_%a.out`, '--open-mode=append', `--chdir=${dir}`,
    '--requeue', '--signal=B:USR1@120', '--partition=gpu', '--time=4:00:00', '--cpus-per-task=8', '--mem=32G', '--gres=gpu:1', '--qos=high',
  ]);
  execFileSync('bash', ['-n', path.join(dir, 'job.sbatch')]);
});

test('shell quoting keeps paths with spaces and quotes literal', () => {
  assert.equal(shq('/a/b-c_1.yaml'), '/a/b-c_1.yaml');
  const odd = "/x y/it's $HOME";
  assert.equal(execFileSync('bash', ['-c', `printf %s ${shq(odd)}`], { encoding: 'utf8' }), odd);
  const dir = mkdtempSync(path.join(tmp, 'odd name '));
  scriptFor(dir, [{ ...spec(dir, "it's"), trainFlags: ['--set', 'run.split=1/8 x'] }]);
  const { code, calls } = task(dir, 0);
  assert.equal(code, 0);
  assert.equal(calls[0], `/opt/sssseg/bin/sssseg.js --backend wasm train --config ${dir}/it's.yaml --out ${dir}/runs/it's --set run.split=1/8 x`);
});

test('a task picks new, --resume or --force from its folder when it starts, and writes an exit record', () => {
  const dir = mkdtempSync(path.join(tmp, 'modes-'));
  const [a, b] = [spec(dir, 'a'), spec(dir, 'b', true)];
  scriptFor(dir, [a, b]);
  const record = () => JSON.parse(readFileSync(path.join(dir, 'slurm', '7_0.exit'), 'utf8')) as { task: string; code: number };
  let r = task(dir, 0);
  assert.equal(r.calls[0]!.split(' ').slice(3).join(' '), `train --config ${a.config} --out ${a.outDir} --set seed=1`);
  assert.deepEqual([record().task, record().code], ['7_0', 0]);
  assert.match(readFileSync(`${a.outDir}.log`, 'utf8'), /^== slurm task 7_0 on .*, start 1 at .*: sssseg train --config/m);

  mkdirSync(a.outDir, { recursive: true });
  writeFileSync(path.join(a.outDir, 'log.jsonl'), '');
  r = task(dir, 0, { FAKE_CODE: '3' });
  assert.equal(r.code, 3, 'the job ends with the run\'s exit code');
  assert.equal(r.calls[0]!.split(' ').at(-1), '--force');
  assert.equal(record().code, 3);

  writeFileSync(path.join(a.outDir, 'last.bin'), '');
  r = task(dir, 0);
  assert.deepEqual(r.calls[0]!.split(' ').slice(-2), ['--resume', a.outDir]);
  // a pipeline continues from its stage markers: the same command line whatever its folder holds
  mkdirSync(b.outDir, { recursive: true });
  writeFileSync(path.join(b.outDir, 'last.bin'), '');
  r = task(dir, 1);
  assert.equal(r.calls[0]!.split(' ').at(-1), 'seed=1');

  // finished runs exit at once; once every run is finished the table is written
  writeFileSync(path.join(a.outDir, 'results.json'), '{}');
  r = task(dir, 0);
  assert.deepEqual(r.calls, [], 'a finished run starts nothing');
  r = task(dir, 1, { FAKE_FINISH: path.join(b.outDir, 'results.json') });
  assert.equal(r.calls.at(-1), `/opt/sssseg/bin/sssseg.js --backend wasm table ${a.outDir} ${b.outDir} --out ${dir}/table`);
  assert.equal(task(dir, 5).code, 2, 'an index without a run is an error');
});

test('the time-limit warning reaches train; a task that made progress requeues itself', async () => {
  const dir = mkdtempSync(path.join(tmp, 'warn-'));
  const a = spec(dir, 'a');
  scriptFor(dir, [a]);
  mkdirSync(path.join(dir, 'bin'), { recursive: true });
  writeFileSync(path.join(dir, 'bin', 'scontrol'), `#!/bin/bash\necho "scontrol $*" >> "${dir}/calls"\n`, { mode: 0o755 });
  const env = { ...process.env, PATH: `${dir}/bin:${process.env['PATH']}`, SLURM_ARRAY_JOB_ID: '7', SLURM_ARRAY_TASK_ID: '0', FAKE_WAIT: '1' };
  const child = spawn('bash', [path.join(dir, 'job.sbatch')], { env, stdio: 'ignore' });
  while (!existsSync(path.join(dir, 'waiting'))) await new Promise((r) => setTimeout(r, 20));
  mkdirSync(a.outDir, { recursive: true });
  writeFileSync(path.join(a.outDir, 'last.bin'), 'progress');
  child.kill('SIGUSR1');
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  assert.equal(code, 138);
  const calls = readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n');
  assert.deepEqual(calls.slice(1), ['usr1', 'scontrol requeue 7_0']);
  assert.equal(JSON.parse(readFileSync(path.join(dir, 'slurm', '7_0.exit'), 'utf8')).code, 138);
});

test('squeue lines, exit records and sweep.json are read strictly', async () => {
  const q = parseSqueue('12_0|RUNNING|None|gpu07\n12_1|PENDING|Priority|\n13|RUNNING|None|gpu01\n\n');
  assert.deepEqual([...q], [['12_0', { state: 'RUNNING', reason: 'None', node: 'gpu07' }], ['12_1', { state: 'PENDING', reason: 'Priority', node: '' }]]);
  assert.deepEqual(parseExitRecord('{"task":"3_1","code":143,"host":"n1","restarts":0,"ended":"t"}', 'f').code, 143);
  assert.throws(() => parseExitRecord('{"task":"3_1","code":"x"}', '/s/3_1.exit'), /exit record \/s\/3_1\.exit: code/);
  assert.throws(() => parseExitRecord('{"task', '/s/3_1.exit'), /not valid JSON/);

  const dir = mkdtempSync(path.join(tmp, 'state-'));
  assert.deepEqual((await readSweepFile(dir)).submissions, []);
  const runs = (job: string, ...dirs: string[]) => ({ job_id: job, submitted: 't', script: 's', runs: dirs.map((d, index) => ({ index, config: 'c', out_dir: d, method: 'sup' })) });
  await addSubmission(dir, runs('5', '/r/a', '/r/b'));
  await addSubmission(dir, runs('9', '/r/b'));
  const latest = latestTasks(await readSweepFile(dir));
  assert.deepEqual([...latest].map(([d, t]) => [d, t.task]), [['/r/a', '5_0'], ['/r/b', '9_0']]);
  writeFileSync(path.join(dir, 'sweep.json'), JSON.stringify({ format: 'sssseg-sweep/1', executor: 'slurm', submissions: [], extra: 1 }));
  await assert.rejects(readSweepFile(dir), /sweep\.json: .*extra/);
});

test('an exit code reads as what stopped the run and whether the next sweep resumes it', () => {
  const dir = mkdtempSync(path.join(tmp, 'exit-'));
  assert.equal(describeExit(1, dir), 'exit 1');
  writeFileSync(path.join(dir, 'last.bin'), '');
  assert.equal(describeExit(143, dir), 'exit 143: stopped by SIGTERM; the next sweep resumes it from last.bin');
  assert.equal(describeExit(0, dir), 'exit 0 without results.json; the next sweep resumes it from last.bin');
});

/** Two run configs (their data folder need not exist to plan) and a fake Slurm. */
function grid(): { dir: string; configs: string; runs: string; slurm: SlurmClient & { scripts: string[]; queued: Map<string, QueueEntry> } } {
  const dir = mkdtempSync(path.join(tmp, 'submit-'));
  const configs = path.join(dir, 'grid');
  mkdirSync(configs);
  for (const m of ['sup', 'mt']) {
    writeFileSync(path.join(configs, `${m}.yaml`), `extends: [${path.join(REPO_ROOT, 'experiments/models/tiny-cpu.yaml')}, ${path.join(REPO_ROOT, 'experiments/synthetic/base.yaml')}]\nmethod: ${m}\nrun: { data: ${dir}/data, split: 1/4 }\n`);
  }
  const scripts: string[] = [];
  const queued = new Map<string, QueueEntry>();
  const slurm = { scripts, queued, sbatch: async (s: string) => (scripts.push(s), String(40 + scripts.length)), queue: async () => queued };
  return { dir, configs, runs: path.join(dir, 'runs'), slurm };
}

test('submitting writes the job script and sweep.json; a second sweep leaves queued runs alone and resubmits failed ones', async () => {
  const { configs, runs, slurm } = grid();
  let io = memoryIo();
  await runSweep({ targets: [configs], runs, executor: 'slurm', jobs: 1 }, io, slurm);
  const sweep = path.join(runs, 'grid');
  assert.deepEqual(slurm.scripts, [path.join(sweep, 'sweep-1.sbatch')]);
  assert.match(readFileSync(slurm.scripts[0]!, 'utf8'), /#SBATCH --array=0-1%1/);
  const state = await readSweepFile(sweep);
  assert.deepEqual(state.submissions[0]!.runs.map((r) => [r.index, r.method, r.out_dir]), [[0, 'mt', path.join(sweep, 'mt')], [1, 'sup', path.join(sweep, 'sup')]]);
  assert.match(io.stdout.join('\n'), /submitted job 41: 2 run\(s\)/);

  slurm.queued.set('41_0', { state: 'RUNNING', reason: 'None', node: 'gpu07' });
  mkdirSync(path.join(sweep, 'slurm'), { recursive: true });
  writeFileSync(path.join(sweep, 'slurm', '41_1.exit'), '{"task":"41_1","code":143,"host":"n1","restarts":0,"ended":"t"}\n');
  writeFileSync(path.join(sweep, 'sup.log'), 'line 1\nSIGTERM: finishing the current step and writing a checkpoint…\n');
  io = memoryIo();
  await runSweep({ targets: [configs], runs, status: true }, io, slurm);
  assert.match(io.stdout[0]!, /2 runs, 1 running, 1 failed/);
  assert.match(io.stdout.join('\n'), /running +mt +41_0 +running on gpu07/);
  assert.match(io.stdout.join('\n'), /failed +sup +41_1 +exit 143: stopped by SIGTERM \(on n1\)\n {6}\| line 1\n {6}\| SIGTERM: finishing/);

  io = memoryIo();
  await runSweep({ targets: [configs], runs, executor: 'slurm' }, io, slurm);
  assert.match(io.stdout.join('\n'), /running already as task 41_0/);
  assert.match(readFileSync(slurm.scripts[1]!, 'utf8'), /#SBATCH --array=0-0\n/);
  assert.deepEqual((await readSweepFile(sweep)).submissions[1]!.runs.map((r) => r.method), ['sup']);
});

test('with --seeds every config × seed is one array index, each training with its own seed into its own folder', async () => {
  const { configs, runs, slurm } = grid();
  const io = memoryIo();
  await runSweep({ targets: [configs], runs, executor: 'slurm', seeds: [0, 7] }, io, slurm);
  assert.match(io.stdout[0]!, /sweep: 4 runs \(2 configs × 2 seeds\), 4 not started; submitting 4 to Slurm/);
  assert.match(io.stdout.join('\n'), /--seeds 0,7 --status/);
  const sweep = path.join(runs, 'grid');
  const runsOf = (await readSweepFile(sweep)).submissions[0]!.runs.map((r) => [r.index, path.basename(r.out_dir)]);
  assert.deepEqual(runsOf, [[0, 'mt-s0'], [1, 'mt-s7'], [2, 'sup-s0'], [3, 'sup-s7']]);
  const script = readFileSync(slurm.scripts[0]!, 'utf8');
  assert.match(script, /#SBATCH --array=0-3\n/);
  assert.match(script, new RegExp(`  1\\) RUN=${path.join(sweep, 'mt-s7')}\\n +NEW=\\(.* --out ${path.join(sweep, 'mt-s7')} --set seed=7\\)`));
});

test('--dry-run prints the job script and submits nothing; an unwritable runs folder is refused before sbatch', async () => {
  const { dir, configs, slurm } = grid();
  const io = memoryIo();
  await runSweep({ targets: [configs], runs: path.join(dir, 'runs'), executor: 'slurm', dryRun: true }, io, slurm);
  assert.deepEqual(slurm.scripts, []);
  assert.ok(io.stdout.includes('#SBATCH --requeue'));
  assert.ok(!existsSync(path.join(dir, 'runs')), 'a dry run writes nothing');
  writeFileSync(path.join(dir, 'file'), '');
  await assert.rejects(runSweep({ targets: [configs], runs: path.join(dir, 'file'), executor: 'slurm' }, memoryIo(), slurm), /cannot create runs folder .*file\/grid: .*file is not a directory/);
  assert.deepEqual(slurm.scripts, []);
});

test('slurm options without --executor slurm, or a bad executor, are one-line usage errors', async () => {
  const { configs } = grid();
  for (const [argv, msg] of [
    [['--partition', 'gpu'], /--partition needs --executor slurm/],
    [['--wait', '--mem', '4G'], /--wait, --mem need --executor slurm/],
    [['--executor', 'pbs'], /--executor must be local or slurm/],
    [['--executor', 'slurm', '--sbatch-arg', 'qos'], /--sbatch-arg takes one sbatch option/],
  ] as const) {
    const io = memoryIo();
    assert.equal(await run(['sweep', configs, ...argv], io), 1);
    assert.match(io.stderr.join('\n'), msg);
  }
});
