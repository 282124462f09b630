/**
 * `npm run backend-diff -- [--json] [--backends wasm,native] [--checkpoint RUN/last.bin]`
 * (= `node --import tsx bench/backend-diff.ts ...`): does one training step give the same losses
 * and gradients on two backends? Issue 14: the quickstart's U2PL ends at 53.19 on wasm and far off
 * on native from the same seed while SupOnly agrees; this tells float-order chaos (differences at
 * ~1e-6..1e-5 relative that training amplifies) from a kernel that computes something else in an
 * op U2PL uses and SupOnly does not.
 *
 * Cases (experiments/synthetic/*.yaml): U2PL; U2PL with the contrastive loss off; U2PL with
 * unsup_weight 0; U2PL with both off; SupOnly with U2PL's head; SupOnly. Each backend runs every
 * case in its own child process (bench/backend-diff-step.ts) on the same fixed batch, from the
 * same initial weights (or `--checkpoint`'s), and the parent compares: loss terms, per-parameter
 * ||g_a − g_b|| / ||g_a|| (max, median, all parameters as one vector, worst 5), and eval-mode
 * outputs (logits, representation; argmax flips) before the step. Not a timing: not in `npm run bench`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { option } from './args.ts';
import { compareRecords, NULL_GRAD, type CaseDiff } from './backend-diff-compare.ts';
import { CASES, recordBackend, SYNTH, U2PL, type BackendRecord } from './backend-diff-step.ts';

/** float-order noise for fp32 sums of this size; a figure far above it points at an op */
const NOISE = 1e-5;

/** One backend in a child process (see the header of bench/backend-diff-step.ts for why). */
function recordInChild(backend: string, checkpoint: string | undefined, dir: string): BackendRecord {
  const out = path.join(dir, `${backend}.json`);
  const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--record', backend, '--out', out, ...(checkpoint ? ['--checkpoint', checkpoint] : [])];
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`the ${backend} run failed (exit ${r.status ?? r.signal})`);
  return JSON.parse(readFileSync(out, 'utf8')) as BackendRecord;
}

const e = (v: number): string => (Number.isFinite(v) ? v.toExponential(2) : String(v));
const f = (v: number): string => (Number.isFinite(v) ? v.toPrecision(7) : String(v));
const flag = (v: number): string => (v > 100 * NOISE ? ' ⚠' : '');

function table(ref: BackendRecord, other: BackendRecord, diffs: CaseDiff[], cpu: string): string {
  const [a, b] = [ref.backend, other.backend];
  const lines = [`backend-diff: ${a} (${ref.detail}) vs ${b} (${other.detail}) · ${cpu}`, ''];
  lines.push(`| case | term | ${a} | ${b} | rel. diff |`, '|---|---|---:|---:|---:|');
  for (const d of diffs) {
    for (const t of d.terms) lines.push(`| ${d.case} | ${t.term} | ${f(t.ref)} | ${f(t.other)} | ${e(t.rel)}${flag(t.rel)} |`);
    for (const s of d.scalars) lines.push(`| ${d.case} | ${s.name} | ${f(s.ref)} | ${f(s.other)} | |`);
  }
  lines.push('', `gradients, per parameter ||g_${a} − g_${b}|| / ||g_${a}||:`, '');
  lines.push('| case | params (null) | max | median | all as one | worst 5 |', '|---|---:|---:|---:|---:|---|');
  for (const d of diffs) {
    const g = d.grads;
    const worst = g.worst.map((w) => `${w.param.replace(/^student\//, '')} ${e(w.rel)}`).join(', ');
    lines.push(`| ${d.case} | ${g.params} (${g.nullGrads.length}) | ${e(g.max)}${flag(g.max)} | ${e(g.median)} | ${e(g.global)}${flag(g.global)} | ${worst} |`);
  }
  const nulls = [...new Set(diffs.flatMap((d) => d.grads.nullGrads))];
  if (nulls.length > 0) {
    lines.push('', `(null): parameters left out of max/median/worst: gradient below ${e(NULL_GRAD)} × the median norm, i.e. exactly 0 up to rounding (a conv bias before training-mode BN, or a head outside the loss): ${nulls.join(', ')}`);
  }
  lines.push('', 'eval-mode outputs before the step (labeled + unlabeled images):', '');
  lines.push('| case | output | ||Δ|| / ||ref|| | max |Δ| / max |ref| | argmax flips |', '|---|---|---:|---:|---:|');
  for (const d of diffs.filter((x) => x.case === 'u2pl' || x.case === 'sup')) {
    for (const o of d.eval) {
      const flips = o.argmaxFlips === undefined ? '' : `${o.argmaxFlips} / ${o.pixels}`;
      lines.push(`| ${d.case} | ${o.output} | ${e(o.rel)}${flag(o.rel)} | ${e(o.maxRel)} | ${flips} |`);
    }
  }
  lines.push('', `iteration of the step: ${diffs.map((d) => `${d.case} ${d.iteration} (semi ${d.semiIteration})`).join(', ')}`);
  lines.push(`⚠ = above ${e(100 * NOISE)}, a hundred times float-order noise (~${e(NOISE)})`);
  return lines.join('\n');
}

function cpuName(): string {
  const model = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${model}, ${os.cpus().length} cores`;
}

async function main(argv: string[]): Promise<void> {
  const checkpoint = option(argv, '--checkpoint');
  const record = option(argv, '--record');
  if (record) {
    const out = option(argv, '--out');
    if (!out) throw new Error('--record needs --out FILE');
    // a U2PL run's checkpoint fits the networks of the U2PL config only (SupOnly's textbook head differs)
    const cases = checkpoint ? CASES.filter((c) => c.config === U2PL) : CASES;
    writeFileSync(out, JSON.stringify(await recordBackend(record, cases, checkpoint)));
    return;
  }
  const backends = option(argv, '--backends', 'wasm,native').split(',');
  if (backends.length !== 2) throw new Error('--backends takes two names, e.g. wasm,native (the first is the reference)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sssseg-backend-diff-'));
  try {
    const [ref, other] = backends.map((b) => recordInChild(b, checkpoint, dir)) as [BackendRecord, BackendRecord];
    const diffs = compareRecords(ref, other, SYNTH.classes);
    const cpu = cpuName();
    if (argv.includes('--json')) {
      process.stdout.write(JSON.stringify({ cpu, checkpoint: checkpoint ?? null, reference: ref.backend, other: other.backend, detail: { [ref.backend]: ref.detail, [other.backend]: other.detail }, cases: diffs }) + '\n');
    } else {
      process.stdout.write(table(ref, other, diffs, cpu) + '\n');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`backend-diff: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
