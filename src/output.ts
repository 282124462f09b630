/**
 * Where a command writes. The bottom layer, so that everything from the trainer up to the
 * commands can report without knowing about the CLI; tests pass an in-memory one.
 */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** true when stdout is a terminal (progress bars) */
  isTTY: boolean;
}

export const processIo: Io = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  isTTY: Boolean(process.stdout.isTTY),
};
