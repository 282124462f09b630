import type { Rng } from '../../util/rng.ts';
import { SsssegError } from '../../errors.ts';

/**
 * U2PL's memory bank: one FIFO of `dim`-d negative keys per class that keeps the newest
 * `capacity` keys (upstream `dequeue_and_enqueue`: cat then keep the last queue_size rows). It
 * lives in JS memory as one ring buffer per class, never as tensors, and grows lazily up to its
 * capacity so small runs do not pay for the full 30 000 × 256 floats per class up front.
 *
 * Keys are stored L2-normalised: the loss only takes cosine similarities, so normalising once at
 * enqueue is the same as upstream's normalising at every use.
 */
export class MemoryBank {
  private readonly bufs: Float32Array[];
  private readonly start: number[];
  private readonly len: number[];

  constructor(
    readonly dim: number,
    readonly capacities: readonly number[],
  ) {
    this.bufs = capacities.map(() => new Float32Array(0));
    this.start = capacities.map(() => 0);
    this.len = capacities.map(() => 0);
  }

  get numClasses(): number {
    return this.capacities.length;
  }

  size(c: number): number {
    return this.len[c]!;
  }

  /** Bytes currently allocated by all queues. */
  bytes(): number {
    return this.bufs.reduce((s, b) => s + b.byteLength, 0);
  }

  /** Upper bound of `bytes()` once every queue is full. */
  maxBytes(): number {
    return this.capacities.reduce((s, c) => s + c * this.dim * 4, 0);
  }

  clear(c: number): void {
    this.start[c] = 0;
    this.len[c] = 0;
  }

  /**
   * Append `rows` keys (row-major, oldest first), L2-normalising each; only the newest
   * `capacity` survive, so callers may pass just the tail of a long batch.
   */
  push(c: number, keys: Float32Array, rows = keys.length / this.dim, normalise = true): void {
    const d = this.dim;
    const cap = this.capacities[c]!;
    if (rows === 0) return;
    const skip = Math.max(0, rows - cap);
    const n = rows - skip;
    this.reserve(c, Math.min(cap, this.len[c]! + n));
    const buf = this.bufs[c]!;
    const alloc = buf.length / d;
    for (let r = 0; r < n; r++) {
      let slot: number;
      if (this.len[c]! < cap) {
        slot = (this.start[c]! + this.len[c]!) % alloc;
        this.len[c]!++;
      } else {
        slot = this.start[c]!;
        this.start[c] = (slot + 1) % cap;
      }
      if (normalise) normaliseInto(keys, (skip + r) * d, buf, slot * d, d);
      else buf.set(keys.subarray((skip + r) * d, (skip + r + 1) * d), slot * d);
    }
  }

  /**
   * `count` keys of queue c drawn uniformly with replacement, as row offsets into `buffer(c)`
   * (valid until the next push): callers read the keys in place instead of copying them.
   */
  sample(c: number, count: number, rng: Rng): Int32Array {
    const n = this.len[c]!;
    if (n === 0) throw new SsssegError('u2pl.emptyQueue', `memory bank queue ${c} is empty`);
    const d = this.dim;
    const alloc = this.bufs[c]!.length / d;
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) out[i] = ((this.start[c]! + rng.int(0, n)) % alloc) * d;
    return out;
  }

  /** Queue c's storage (row-major keys at the offsets `sample` returns). */
  buffer(c: number): Float32Array {
    return this.bufs[c]!;
  }

  /** Replace queue c by `keys` saved with `snapshot` (already normalised). */
  restore(c: number, keys: Float32Array): void {
    this.clear(c);
    this.push(c, keys, keys.length / this.dim, false);
  }

  /** Queue c's keys, oldest first (checkpoints). */
  snapshot(c: number): Float32Array {
    const d = this.dim;
    const n = this.len[c]!;
    const buf = this.bufs[c]!;
    const alloc = buf.length / d;
    const out = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const slot = (this.start[c]! + i) % alloc;
      out.set(buf.subarray(slot * d, slot * d + d), i * d);
    }
    return out;
  }

  /** Grow queue c's buffer (doubling, capped) so that `rows` keys fit; only before it wraps. */
  private reserve(c: number, rows: number): void {
    const d = this.dim;
    const cur = this.bufs[c]!;
    if (cur.length >= rows * d) return;
    const cap = this.capacities[c]!;
    const alloc = Math.min(cap, Math.max(rows, 2 * (cur.length / d), 64));
    const next = new Float32Array(alloc * d);
    // the buffer is not full yet, so it has never wrapped and start is 0
    next.set(cur.subarray(0, this.len[c]! * d));
    this.bufs[c] = next;
  }
}

function normaliseInto(src: Float32Array, from: number, dst: Float32Array, to: number, d: number): void {
  let ss = 0;
  for (let k = 0; k < d; k++) ss += src[from + k]! * src[from + k]!;
  // torch.cosine_similarity clamps the norm with eps 1e-8
  const inv = 1 / Math.max(Math.sqrt(ss), 1e-8);
  for (let k = 0; k < d; k++) dst[to + k] = src[from + k]! * inv;
}
