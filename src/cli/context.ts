import type { Command } from 'commander';
import { initBackend, parseBackendChoice, type BackendInfo } from '../backend/index.ts';

/** Where a command writes; tests pass an in-memory one. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** true when stdout is a terminal (progress bars) */
  isTTY: boolean;
}

// `sssseg … | head`: a reader that stops early is not an error of ours
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

export const processIo: Io = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  isTTY: Boolean(process.stdout.isTTY),
};

export interface CliContext {
  io: Io;
  /** Initialise the backend chosen by --backend / SSSSEG_BACKEND (once). */
  backend(): Promise<BackendInfo>;
}

export function makeContext(program: Command, io: Io): CliContext {
  let info: Promise<BackendInfo> | undefined;
  return {
    io,
    backend() {
      if (!info) {
        const opts = program.opts<{ backend?: string }>();
        const fromFlag = opts.backend;
        const fromEnv = process.env['SSSSEG_BACKEND'];
        const choice = fromFlag
          ? parseBackendChoice(fromFlag, '--backend')
          : fromEnv
            ? parseBackendChoice(fromEnv, 'SSSSEG_BACKEND')
            : 'auto';
        info = initBackend(choice).then((b) => {
          for (const w of b.warnings) io.err(`warning: ${w}`);
          return b;
        });
      }
      return info;
    },
  };
}

/** A command module adds its subcommand(s) to the program. */
export type RegisterCommand = (program: Command, ctx: CliContext) => void;
