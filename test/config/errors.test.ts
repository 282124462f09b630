import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { run } from '../../src/cli/main.ts';
import { memoryIo } from '../helpers/io.ts';
import { REPO_ROOT } from '../helpers/shared.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sssseg-config-'));
const sup = path.join(REPO_ROOT, 'experiments', 'synthetic', 'sup.yaml');
/** sup.yaml's own lines (it only extends the shared files and names the method) plus `extra` */
const supWith = (extra: string) => `extends: [${path.join(REPO_ROOT, 'experiments', 'models', 'tiny-cpu.yaml')}, ${path.join(REPO_ROOT, 'experiments', 'synthetic', 'base.yaml')}]\nmethod: sup\n${extra}`;

test('--set with a value that is not YAML is one line naming the assignment', async () => {
  for (const set of ['train.lr=[1,', 'train.lr={a: ', 'model.backbone="x']) {
    await assert.rejects(loadConfig(sup, [set]), (e: Error & { code: string }) => {
      assert.equal(e.code, 'config.badSet');
      assert.ok(e.message.startsWith(`--set "${set}": the value is not valid YAML (`), e.message);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
  }
  // through the CLI: exit 1 with that line, no internal error
  const io = memoryIo();
  assert.equal(await run(['train', '--config', sup, '--data', tmp, '--split', '1/4', '--set', 'train.lr=[1,'], io), 1);
  assert.deepEqual(io.stderr.length, 1, io.stderr.join('\n'));
  assert.match(io.stderr[0]!, /^sssseg: --set "train\.lr=\[1,": the value is not valid YAML/);
});

test('a section of another method is validated too: a bad key there is an error naming key and file', async () => {
  const file = path.join(tmp, 'sup-with-u2pl.yaml');
  writeFileSync(file, supWith('u2pl:\n  sup_only_epochs: 1\n'));
  await assert.rejects(loadConfig(file), { code: 'config.invalid', message: new RegExp(`^${file.replace(/[.]/g, '\\.')}: unknown key "u2pl\\.sup_only_epochs"$`) });
  await assert.rejects(loadConfig(sup, ['mt.ema_decay=high']), { code: 'config.invalid', message: /key "mt\.ema_decay"/ });
  // a well-formed section of another method is fine (shared files, --method overrides)
  const ok = path.join(tmp, 'sup-with-good-u2pl.yaml');
  writeFileSync(ok, supWith('u2pl:\n  sup_only_epoch: 1\n'));
  assert.equal((await loadConfig(ok)).method, 'sup');
});

test('quickstart --methods with an unknown name fails at once, naming it, before any step runs', async () => {
  const out = path.join(tmp, 'qs');
  const io = memoryIo();
  assert.equal(await run(['--backend', 'wasm', 'quickstart', '--out', out, '--methods', 'sup,foo,bar'], io), 1);
  assert.equal(io.stderr.length, 1, io.stderr.join('\n'));
  assert.match(io.stderr[0]!, /^sssseg: --methods: unknown method "foo" \(one of sup, u2pl, .*\)$/);
  assert.equal(existsSync(out), false, 'quickstart wrote data before checking --methods');
});
