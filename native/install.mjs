#!/usr/bin/env node
// Builds the optional oneDNN addon (backend `native`) during `npm install`/`npm ci`. It never fails
// the install: without oneDNN headers, or when the build fails, it prints one line and exits 0, and
// sssseg runs on wasm. `--force` (npm run build:native) fails loudly instead, for debugging.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const force = process.argv.includes('--force');
const root = process.env.DNNL_ROOT;
const headerDirs = [root && path.join(root, 'include'), '/usr/include', '/usr/local/include'].filter(Boolean);

function done(message, ok) {
  console.log(`sssseg: ${message}`);
  process.exit(ok || !force ? 0 : 1);
}

if (process.env.SSSSEG_SKIP_NATIVE) done('SSSSEG_SKIP_NATIVE is set; skipping the optional native (oneDNN) backend', true);
if (!headerDirs.some((d) => existsSync(path.join(d, 'dnnl.hpp')))) {
  done('oneDNN headers (dnnl.hpp) not found; skipping the optional native backend (apt-get install libdnnl-dev, then npm rebuild)', true);
}

/** npm runs lifecycle scripts with its own node-gyp in npm_config_node_gyp; else the one next to npm. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.resolve(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ];
  return candidates.find((p) => p && existsSync(p));
}

const gyp = nodeGyp();
if (!gyp) done('node-gyp not found; skipping the optional native backend', false);
// build against this node's own headers when they are installed, so nothing is downloaded
const prefix = path.resolve(path.dirname(process.execPath), '..');
const args = [gyp, 'rebuild'];
if (!process.env.npm_config_nodedir && existsSync(path.join(prefix, 'include/node/node_api.h'))) args.push(`--nodedir=${prefix}`);
const r = spawnSync(process.execPath, args, { cwd: here, encoding: 'utf8', env: process.env });
const log = path.join(here, 'build.log');
writeFileSync(log, `${r.stdout ?? ''}\n${r.stderr ?? ''}`);
if (r.status !== 0) done(`building the optional native backend failed (log: ${log}); sssseg will use wasm`, false);
try {
  const addon = createRequire(import.meta.url)(path.join(here, 'build/Release/sssseg_native.node'));
  done(`native backend built (oneDNN ${addon.info()})`, true);
} catch (err) {
  done(`native backend built but does not load (${String(err).split('\n')[0]}); sssseg will use wasm`, false);
}
