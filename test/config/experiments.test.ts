import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.ts';

// Every complete config under experiments/ loads: a key a refactor renamed, a fragment listed in the
// wrong order or a cell that names a missing file is an error here, not hours into a sweep.
// Complete = has `extends:` (fragments cannot extend: one level deep) or a `run:` section.

const ROOT = path.join(import.meta.dirname, '..', '..', 'experiments');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(e.name) ? [p] : [];
  });
}

const leaves = yamlFiles(ROOT).filter((f) => /^(extends|run):/m.test(readFileSync(f, 'utf8')));

test(`every complete experiment config loads (${leaves.length} files)`, async () => {
  assert.ok(leaves.length > 100, `found only ${leaves.length} configs under ${ROOT}`);
  const failures: string[] = [];
  for (const f of leaves) {
    await loadConfig(f).catch((e: unknown) => failures.push(`${path.relative(ROOT, f)}: ${e instanceof Error ? e.message : String(e)}`));
  }
  assert.deepEqual(failures, []);
});

test('the CPU-scale grids (synthetic table, CamVid calibration) extend the from-scratch profile', () => {
  for (const f of leaves.filter((x) => /experiments\/(camvid\/dev|synthetic\/table)\//.test(x))) {
    const ext = /^extends: \[(.*)\]/m.exec(readFileSync(f, 'utf8'))?.[1] ?? '';
    assert.match(ext, /profiles\/from-scratch\.yaml/, `${f} does not extend the profile`);
  }
});
