/**
 * Every error a user can cause is an SsssegError: a stable code (for tests and scripts), a message
 * that names the file/key/value at fault, and an optional hint naming the command that fixes it.
 * The launcher prints `message` (+ hint) as one line; the stack only with --verbose.
 */
export class SsssegError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'SsssegError';
  }
}

// SIGPIPE stands for "the reader of our output went away": no handler is installed for it (Node
// sees EPIPE instead), but a run stopped that way exits as a process killed by it would
const SIGNAL_NUMBERS = { SIGINT: 2, SIGUSR1: 10, SIGPIPE: 13, SIGTERM: 15 } as const;
export type StopSignal = keyof typeof SIGNAL_NUMBERS;
export const STOP_SIGNALS: StopSignal[] = ['SIGINT', 'SIGUSR1', 'SIGTERM'];

/**
 * A run stopped by a signal after saving its state. Not a failure of the tool, but the process
 * must not exit 0: a scheduler (sweep, Slurm) tells "stopped, resume me" from "done" by the shell's
 * convention of 128 + signal number. The run already said where it stopped.
 */
export class Interrupted extends Error {
  readonly exitCode: number;
  constructor(readonly signal: StopSignal) {
    super(`interrupted by ${signal}`);
    this.name = 'Interrupted';
    this.exitCode = 128 + SIGNAL_NUMBERS[signal];
  }
}
