import cliProgress from 'cli-progress';
import type { Io } from '../output.ts';

export interface ProgressUpdate {
  iteration: number;
  total: number;
  epoch: number;
  lr: number;
  itPerSec: number;
  logs: Record<string, number>;
}

export interface Reporter {
  update(u: ProgressUpdate): void;
  message(line: string): void;
  stop(): void;
}

const fmt = (v: number) => (Math.abs(v) >= 100 || v === 0 ? v.toFixed(1) : v.toPrecision(3));

function describe(u: ProgressUpdate): string {
  const terms = Object.entries(u.logs).map(([k, v]) => `${k} ${fmt(v)}`).join(' ');
  return `ep ${u.epoch} ${terms} lr ${u.lr.toExponential(2)} ${u.itPerSec.toFixed(2)} it/s`;
}

/**
 * A cli-progress bar on a terminal; plain log lines otherwise (CI logs, pipes), at most ~20 per
 * run plus the last iteration so logs stay readable.
 */
export function makeReporter(io: Io, total: number, label: string): Reporter {
  if (io.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {value}/{total} | {terms} | ETA {eta_formatted}`, hideCursor: true, etaBuffer: 20 },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { terms: '' });
    return {
      update: (u) => bar.update(u.iteration, { terms: describe(u) }),
      // SingleBar has no log(): clear the bar's line, print, and let the next update redraw it
      message: (line) => io.err(`\r\x1b[K${line}`),
      stop: () => bar.stop(),
    };
  }
  const every = Math.max(1, Math.round(total / 20));
  return {
    update(u) {
      if (u.iteration % every === 0 || u.iteration === u.total) {
        const eta = u.itPerSec > 0 ? (u.total - u.iteration) / u.itPerSec : 0;
        io.err(`${label} ${u.iteration}/${u.total} ${describe(u)} eta ${eta.toFixed(0)}s`);
      }
    },
    message: (line) => io.err(line),
    stop: () => {},
  };
}
