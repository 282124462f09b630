import type { Command } from 'commander';
import { initBackend, parseBackendChoice, type BackendInfo } from '../backend/index.ts';
import type { Io } from '../output.ts';

export interface CliContext {
  io: Io;
  /** Initialise the backend chosen by --backend / SSSSEG_BACKEND (once). */
  backend(): Promise<BackendInfo>;
  /** Run another sssseg command line in this process (quickstart chains the documented commands). */
  run(argv: string[]): Promise<number>;
}

export function makeContext(program: Command, io: Io, run: (argv: string[], io: Io) => Promise<number>): CliContext {
  let info: Promise<BackendInfo> | undefined;
  return {
    io,
    run: (argv) => run(argv, io),
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
