import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const node = (args: string[], env: Record<string, string>): { status: number | null; out: string } => {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};

test('the install script skips with one line and exit 0 when told to', () => {
  const r = node(['native/install.mjs'], { SSSSEG_SKIP_NATIVE: '1' });
  assert.equal(r.status, 0);
  assert.equal(r.out.trim().split('\n').length, 1, r.out);
  assert.match(r.out, /^sssseg: .*skipping/);
});

test('without the addon, backend native is unavailable with a typed error and a hint', () => {
  const script = `
    import('./src/backend/native/index.ts').then(async (m) => {
      if (m.nativeInfo().loaded) throw new Error('loaded a missing addon');
      try { await m.initNativeBackend(); } catch (e) { console.log(e.code + ' | ' + e.message + ' | ' + e.hint); return; }
      throw new Error('initNativeBackend did not throw');
    });`;
  const r = node(['--import', 'tsx', '--input-type=module', '-e', script], { SSSSEG_NATIVE_ADDON: '/nonexistent/sssseg_native.node' });
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /^backend\.unavailable \| backend "native" cannot load: not built .*libdnnl-dev/m);
});
