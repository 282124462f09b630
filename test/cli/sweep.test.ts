/** `sssseg sweep`: runs what has no result, skips what has, continues what was interrupted. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../src/cli/main.ts';
import { planSweep } from '../../src/commands/sweep.ts';
import { memoryIo } from '../helpers/io.ts';
import { REPO_ROOT } from '../helpers/shared.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sssseg-sweep-'));
const data = path.join(tmp, 'data');
const configs = path.join(tmp, 'grid');
const runs = path.join(tmp, 'runs');

async function cli(...argv: string[]): Promise<ReturnType<typeof memoryIo> & { code: number }> {
  const io = memoryIo();
  const code = await run(['--backend', 'wasm', ...argv], io);
  return Object.assign(io, { code });
}

function writeConfig(name: string, method: string, extra = ''): void {
  const models = path.join(REPO_ROOT, 'experiments', 'models', 'tiny-cpu.yaml');
  const base = path.join(REPO_ROOT, 'experiments', 'synthetic', 'base.yaml');
  writeFileSync(
    path.join(configs, name),
    `extends: [${models}, ${base}]\nmethod: ${method}\ntrain: { iterations: 4, checkpoint_every: 2 }\n${extra}`,
  );
}

before(async () => {
  for (const argv of [['synthetic', '--out', data, '--seed', '0'], ['split', '--data', data, '--labeled', '1/4', '--seed', '0']]) {
    const r = await cli(...argv);
    assert.equal(r.code, 0, r.stderr.join('\n'));
  }
  mkdirSync(configs);
  writeConfig('sup-1-4.yaml', 'sup', `run: { data: ${data}, split: 1/4 }\n`);
  writeConfig('mt-1-4.yaml', 'mt', `run: { data: ${data}, split: 1/4 }\n`);
  // a fragment without a run: section is not a run
  writeFileSync(path.join(configs, 'fragment.yaml'), 'seed: 3\n');
});

test('a sweep trains every run config in its own process, then writes the table; a second sweep runs nothing', async () => {
  const first = await cli('sweep', configs, '--runs', runs, '--jobs', '2');
  assert.equal(first.code, 0, first.stderr.join('\n'));
  assert.match(first.stdout[0]!, /2 configs, 0 finished, 2 to run \(2 at a time\)/);
  for (const name of ['sup-1-4', 'mt-1-4']) {
    const results = JSON.parse(readFileSync(path.join(runs, 'grid', name, 'results.json'), 'utf8')) as { method: string; iterations: number };
    assert.equal(results.iterations, 4);
    assert.ok(existsSync(path.join(runs, 'grid', `${name}.log`)), 'each run keeps its output beside its folder');
  }
  const table = readFileSync(path.join(runs, 'grid', 'table.md'), 'utf8');
  assert.match(table, /\| SupOnly \| \d+\.\d\d \|/);
  assert.match(table, /\| Mean Teacher \| \d+\.\d\d \|/);

  const again = await cli('sweep', configs, '--runs', runs);
  assert.equal(again.code, 0, again.stderr.join('\n'));
  assert.match(again.stdout[0]!, /2 configs, 2 finished, 0 to run/);
});

test('an interrupted run continues from its last checkpoint; one that never wrote a checkpoint starts over', async () => {
  const dir = path.join(runs, 'grid', 'sup-1-4');
  if (!existsSync(path.join(dir, 'results.json'))) await cli('sweep', configs, '--runs', runs);
  rmSync(path.join(dir, 'results.json'));
  let plan = await planSweep({ targets: [configs], runs });
  const sup = plan.find((e) => e.method === 'sup')!;
  assert.equal(sup.state, 'resume');
  assert.deepEqual(sup.argv.slice(-2), ['--resume', dir]);
  assert.equal(plan.find((e) => e.method === 'mt')!.state, 'done');

  const resumed = await cli('sweep', configs, '--runs', runs);
  assert.equal(resumed.code, 0, resumed.stderr.join('\n'));
  assert.ok(existsSync(path.join(dir, 'results.json')));

  rmSync(dir, { recursive: true });
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'log.jsonl'), '');
  plan = await planSweep({ targets: [configs], runs });
  assert.equal(plan.find((e) => e.method === 'sup')!.argv.at(-1), '--force');
  // overrides reach every run, and are validated when the sweep plans
  plan = await planSweep({ targets: [configs], runs, trainFlags: ['--set', 'train.iterations=3', '--pretrained', 'w.pth'] });
  assert.deepEqual(plan.find((e) => e.method === 'mt')!.argv.slice(5), ['--set', 'train.iterations=3', '--pretrained', 'w.pth']);
  await assert.rejects(planSweep({ targets: [configs], runs, trainFlags: ['--set', 'train.nope=1'] }), /unknown key "train\.nope"/);
});

test('a folder without run configs, or a run config without a split, is an error that names it', async () => {
  const empty = path.join(tmp, 'empty');
  mkdirSync(empty);
  const r = await cli('sweep', empty, '--runs', runs);
  assert.equal(r.code, 1);
  assert.match(r.stderr.join('\n'), /no run configs .*empty/);
  const bad = path.join(tmp, 'bad');
  mkdirSync(bad);
  writeFileSync(path.join(bad, 'x.yaml'), `extends: ${path.join(configs, 'fragment.yaml')}\nmethod: sup\nrun: { data: ${data} }\ntrain: { iterations: 2 }\nmodel: { backbone: resnet18 }\n`);
  const b = await cli('sweep', bad, '--runs', runs);
  assert.equal(b.code, 1);
  assert.match(b.stderr.join('\n'), /x\.yaml: a sweep config needs run\.data and run\.split/);
});

test('--seeds runs every config once per seed into <name>-s<seed>, resumes each, and tables them as mean ± std', async () => {
  const seeded = path.join(tmp, 'seeded');
  mkdirSync(seeded);
  writeFileSync(path.join(seeded, 'sup.yaml'), readFileSync(path.join(configs, 'sup-1-4.yaml')));
  const dir = (k: number) => path.join(runs, 'seeded', `sup-s${k}`);
  const seedOf = (k: number) => (JSON.parse(readFileSync(path.join(dir(k), 'results.json'), 'utf8')) as { seed: number }).seed;
  const first = await cli('sweep', seeded, '--runs', runs, '--seeds', '3,1', '--jobs', '2');
  assert.equal(first.code, 0, first.stderr.join('\n'));
  assert.match(first.stdout[0]!, /2 runs \(1 config × 2 seeds\), 0 finished, 2 to run/);
  assert.deepEqual([seedOf(3), seedOf(1)], [3, 1], 'each run trained with its own seed');
  assert.ok(!existsSync(path.join(runs, 'seeded', 'sup')), 'no run without a seed');
  assert.match(readFileSync(path.join(runs, 'seeded', 'table.md'), 'utf8'), /\| SupOnly \| \d+\.\d\d ± \d+\.\d\d \(n=2\) \|/);

  // an interrupted seed continues with its own seed; the finished one is left alone
  rmSync(path.join(dir(1), 'results.json'));
  const plan = await planSweep({ targets: [seeded], runs, seeds: [3, 1] });
  assert.deepEqual(plan.map((e) => [e.seed, e.state]), [[3, 'done'], [1, 'resume']]);
  assert.deepEqual(plan[1]!.argv.slice(-4), ['--set', 'seed=1', '--resume', dir(1)]);
  const again = await cli('sweep', seeded, '--runs', runs, '--seeds', '3,1');
  assert.equal(again.code, 0, again.stderr.join('\n'));
  assert.match(again.stdout[0]!, /1 finished, 1 to run/);
  assert.equal(seedOf(1), 1);

  // --status without --seeds says where the runs are
  const status = await cli('sweep', seeded, '--runs', runs, '--status');
  assert.match(status.stdout.join('\n'), /not started +sup\n.*add --seeds 1,3 to see them/);
  for (const [argv, msg] of [
    [['--seeds', '0,0'], /--seeds takes distinct non-negative integers/],
    [['--seeds', '1,x'], /--seeds takes distinct non-negative integers .*\(got 1,x\)/],
    [['--seeds', '0,1', '--set', 'seed=4'], /--seeds and --set seed=… both set the seed/],
  ] as const) {
    const r = await cli('sweep', seeded, '--runs', runs, ...argv);
    assert.equal(r.code, 1);
    assert.match(r.stderr.join('\n'), msg);
  }
});

test('a folder of two settings of one method (an ablation) finishes without a table, saying why', async () => {
  const ablation = path.join(tmp, 'ablation');
  mkdirSync(ablation);
  for (const name of ['mt-a.yaml', 'mt-b.yaml']) {
    writeConfig(name, 'mt', `run: { data: ${data}, split: 1/4 }\n`);
    writeFileSync(path.join(ablation, name), readFileSync(path.join(configs, name)));
    rmSync(path.join(configs, name));
  }
  const r = await cli('sweep', ablation, '--runs', runs);
  assert.equal(r.code, 0, r.stderr.join('\n'));
  assert.ok(existsSync(path.join(runs, 'ablation', 'mt-a', 'results.json')) && existsSync(path.join(runs, 'ablation', 'mt-b', 'results.json')));
  assert.match(r.stderr.join('\n'), /no table written: .*mt-a and .*mt-b are both mt on 1\/4 with seed 0/);
  assert.ok(!existsSync(path.join(runs, 'ablation', 'table.md')));
});
