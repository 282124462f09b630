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

/**
 * Called when stdout or stderr can no longer be written (the reader of a pipe went away: `| head`,
 * or `| tee` killed by the same Ctrl-C). Returns true when it takes care of stopping (a training
 * run saves its state first); when none does and stdout closed, the process exits 0 at once.
 */
export type OutputClosedHandler = (stream: 'stdout' | 'stderr') => boolean;

const handlers = new Set<OutputClosedHandler>();
const closed = new Set<NodeJS.WriteStream>();
let watching = false;

/** Register a handler; returns the function that removes it. */
export function onOutputClosed(handler: OutputClosedHandler): () => void {
  handlers.add(handler);
  return () => void handlers.delete(handler);
}

function markClosed(stream: NodeJS.WriteStream): void {
  if (closed.has(stream)) return;
  closed.add(stream);
  const name = stream === process.stdout ? 'stdout' : 'stderr';
  let handled = false;
  for (const h of handlers) handled = h(name) || handled;
  if (!handled && name === 'stdout') process.exit(0);
}

/**
 * A write error on our own stdout/stderr must never take the process down (an unhandled 'error'
 * event would, before a checkpoint is written): the stream counts as closed and later lines are
 * dropped. Installed once, when the process's own streams are first used.
 */
export function watchProcessOutput(): void {
  if (watching) return;
  watching = true;
  for (const s of [process.stdout, process.stderr]) s.on('error', () => markClosed(s));
}

function write(stream: NodeJS.WriteStream, line: string): void {
  if (closed.has(stream)) return;
  try {
    stream.write(line + '\n');
  } catch {
    markClosed(stream);
  }
}

export const processIo: Io = {
  out: (line) => write(process.stdout, line),
  err: (line) => write(process.stderr, line),
  isTTY: Boolean(process.stdout.isTTY),
};
