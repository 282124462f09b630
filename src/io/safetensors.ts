import { promises as fs } from 'node:fs';
import { SsssegError } from '../errors.ts';
import { writeFileAtomic } from './atomic.ts';

/**
 * The safetensors container (u64 LE header length, JSON header, packed row-major data): the
 * format of our checkpoints, of the golden reference files and of converted weights.
 */
export type DType = 'F32' | 'F64' | 'I32' | 'I64' | 'U8' | 'F16' | 'BF16' | 'I16' | 'I8' | 'BOOL';
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array | Int16Array | Int8Array | Uint16Array;

export interface StoredTensor {
  dtype: DType;
  shape: number[];
  data: TypedArray;
}

export interface SafetensorsFile {
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<DType, number> = { F32: 4, F64: 8, I32: 4, I64: 8, U8: 1, F16: 2, BF16: 2, I16: 2, I8: 1, BOOL: 1 };

function view(dtype: DType, buf: ArrayBuffer, offset: number, length: number): TypedArray {
  const n = length / BYTES[dtype];
  switch (dtype) {
    case 'F32': return new Float32Array(buf, offset, n);
    case 'F64': return new Float64Array(buf, offset, n);
    case 'I32': return new Int32Array(buf, offset, n);
    case 'I64': return new BigInt64Array(buf, offset, n);
    case 'I16': return new Int16Array(buf, offset, n);
    case 'I8': return new Int8Array(buf, offset, n);
    case 'F16':
    case 'BF16': return new Uint16Array(buf, offset, n);
    case 'U8':
    case 'BOOL': return new Uint8Array(buf, offset, n);
  }
}

/** Parse a safetensors buffer; `source` names the file in errors. */
export function decodeSafetensors(bytes: Uint8Array, source: string): SafetensorsFile {
  const bad = (why: string) =>
    new SsssegError('io.corruptSafetensors', `${source} is not a valid safetensors file: ${why}`);
  if (bytes.byteLength < 8) throw bad('shorter than its 8-byte header length');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(dv.getBigUint64(0, true));
  if (headerLen > bytes.byteLength - 8 || headerLen > 100_000_000) throw bad(`header length ${headerLen} exceeds the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<string, unknown>;
  } catch {
    throw bad('header is not JSON');
  }
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const tensors = new Map<string, StoredTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype: DType; shape: number[]; data_offsets: [number, number] };
    if (!(e.dtype in BYTES)) throw bad(`tensor ${name} has unknown dtype ${String(e.dtype)}`);
    const [begin, end] = e.data_offsets;
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (end > dataLen || begin > end) throw bad(`tensor ${name} lies past the end (truncated file?)`);
    if ((end - begin) !== count * BYTES[e.dtype]) throw bad(`tensor ${name} size does not match its shape`);
    // copy so that the typed array is aligned and owns its memory
    const copy = bytes.slice(dataStart + begin, dataStart + end);
    tensors.set(name, { dtype: e.dtype, shape: e.shape, data: view(e.dtype, copy.buffer, 0, end - begin) });
  }
  return { tensors, metadata };
}

export async function readSafetensors(file: string): Promise<SafetensorsFile> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch {
    throw new SsssegError('io.missingFile', `cannot read ${file}: no such file`);
  }
  return decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
}

export function encodeSafetensors(tensors: Map<string, StoredTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const len = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + len] };
    offset += len;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.byteLength;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

/** Atomic write (temp file + rename). */
export async function writeSafetensors(file: string, tensors: Map<string, StoredTensor>, metadata: Record<string, string> = {}): Promise<void> {
  await writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}
