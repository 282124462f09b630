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

/** A subcommand whose issue is not done yet. */
export function notYet(command: string, what: string): never {
  throw new SsssegError('cli.notImplemented', `\`sssseg ${command}\` is not implemented yet (${what})`);
}
