import { Command, CommanderError } from 'commander';
import { makeContext } from './context.ts';
import { COMMANDS } from './wiring/index.ts';
import { processIo, watchProcessOutput, type Io } from '../output.ts';
import { Interrupted, SsssegError } from '../errors.ts';
import { VERSION } from '../version.ts';

export function buildProgram(io: Io): Command {
  const program = new Command('sssseg')
    .description('Semi-supervised semantic segmentation experiments on TensorFlow.js')
    .version(VERSION)
    .option('--backend <name>', 'auto | tensorflow | native | wasm | cpu (env SSSSEG_BACKEND)')
    .option('--verbose', 'print stack traces with errors')
    .showHelpAfterError(false)
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride();
  const ctx = makeContext(program, io, run);
  for (const register of COMMANDS) register(program, ctx);
  for (const cmd of program.commands) cmd.exitOverride().configureOutput(program.configureOutput());
  return program;
}

/**
 * Parse and run; returns the exit code and never calls process.exit. Usage errors (unknown option
 * or command) are commander's message and exit code 2; an SsssegError is one line and 1.
 */
export async function run(argv: string[], io: Io = processIo): Promise<number> {
  // `sssseg … | head`: a reader that stops early is not an error of ours (see output.ts)
  if (io === processIo) watchProcessOutput();
  const program = buildProgram(io);
  const verbose = argv.includes('--verbose');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      if (err.code === 'commander.help') return 0;
      return 2;
    }
    // the run has already said where it stopped and how to continue
    if (err instanceof Interrupted) return err.exitCode;
    if (err instanceof SsssegError) {
      io.err(`sssseg: ${err.message}${err.hint ? ` (${err.hint})` : ''}`);
      if (verbose && err.stack) io.err(err.stack);
      return 1;
    }
    const e = err instanceof Error ? err : new Error(String(err));
    io.err(`sssseg: internal error: ${e.message}${verbose ? '' : ' (run with --verbose for the stack)'}`);
    if (verbose && e.stack) io.err(e.stack);
    return 1;
  }
}
