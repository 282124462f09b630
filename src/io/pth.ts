import { promises as fs } from 'node:fs';
import { unzipSync } from 'fflate';
import { BufferReader, Parser } from 'pickleparser';
import { SsssegError } from '../errors.ts';
import type { DType, StoredTensor } from './safetensors.ts';

/**
 * Reader for PyTorch `torch.save` files as the papers' ImageNet weights come: the zip format
 * (torch ≥ 1.6: `<name>/data.pkl` + one raw file per storage under `<name>/data/`) and the
 * legacy format (torchvision's 2017 weights: five pickles back to back, then each storage as an
 * int64 element count followed by its bytes). Only tensors are extracted; everything else in
 * the pickle (epochs, optimizer settings, argparse namespaces) is parsed and dropped.
 */

const STORAGE_DTYPES: Record<string, { dtype: DType; bytes: number }> = {
  FloatStorage: { dtype: 'F32', bytes: 4 },
  DoubleStorage: { dtype: 'F64', bytes: 8 },
  HalfStorage: { dtype: 'F16', bytes: 2 },
  BFloat16Storage: { dtype: 'BF16', bytes: 2 },
  LongStorage: { dtype: 'I64', bytes: 8 },
  IntStorage: { dtype: 'I32', bytes: 4 },
  ShortStorage: { dtype: 'I16', bytes: 2 },
  CharStorage: { dtype: 'I8', bytes: 1 },
  ByteStorage: { dtype: 'U8', bytes: 1 },
  BoolStorage: { dtype: 'BOOL', bytes: 1 },
  UntypedStorage: { dtype: 'U8', bytes: 1 },
};

/** The legacy format's first pickle: protocol 2, LONG1 of 10 bytes (0x1950a86a20f9469cfc6c), STOP. */
const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];

/** A storage named by a persistent id; its bytes are looked up after unpickling. */
class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly elemBytes: number,
    /** legacy views: element offset into the root storage */
    readonly viewOffset: number,
  ) {}
}

/** What `torch._utils._rebuild_tensor_v2` would build, kept lazy until the storages are read. */
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

/** Marker for `torch.FloatStorage` & co. (a GLOBAL inside the persistent id). */
interface StorageClass {
  storageName: string;
}

type NameResolver = NonNullable<ConstructorParameters<typeof Parser>[0]>['nameResolver'];

function makeResolver(source: string): NameResolver {
  const fallback = new Map<string, (...args: unknown[]) => unknown>();
  // plain `function`s: pickle's NEWOBJ constructs, REDUCE calls
  function orderedDict(): Map<unknown, unknown> {
    return new Map();
  }
  function rebuildTensor(storage: unknown, offset: unknown, size: unknown, stride: unknown): TensorRef {
    if (!(storage instanceof StorageRef)) {
      throw new SsssegError('io.corruptPth', `${source}: a tensor's storage is not a persistent storage reference`);
    }
    return new TensorRef(storage, Number(offset), (size as unknown[]).map(Number), (stride as unknown[]).map(Number));
  }
  function rebuildParameter(data: unknown): unknown {
    return data;
  }
  const known: Record<string, (...args: never[]) => unknown> = {
    'collections.OrderedDict': orderedDict,
    'torch._utils._rebuild_tensor_v2': rebuildTensor,
    'torch._utils._rebuild_tensor': rebuildTensor,
    'torch._utils._rebuild_parameter': rebuildParameter,
    'torch._utils._rebuild_parameter_with_state': rebuildParameter,
  };
  return {
    resolve(module: string, name: string) {
      const fqn = `${module}.${name}`;
      const fn = known[fqn];
      if (fn) return fn as (...args: unknown[]) => unknown;
      if (module === 'torch' && name in STORAGE_DTYPES) {
        const marker = function storageClass(): void {} as unknown as StorageClass & ((...args: unknown[]) => unknown);
        marker.storageName = name;
        return marker;
      }
      // anything else (numpy scalars, argparse.Namespace, …) becomes an inert object
      let f = fallback.get(fqn);
      if (!f) {
        f = function unknownGlobal(this: unknown): unknown {
          return new.target ? this : {};
        } as (...args: unknown[]) => unknown;
        fallback.set(fqn, f);
      }
      return f;
    },
  };
}

function persistentResolver(source: string) {
  return {
    resolve(pid: unknown): StorageRef {
      // zip: ('storage', cls, key, location, numel); legacy: (…, numel, view_metadata)
      const t = pid as unknown[];
      if (!Array.isArray(t) || t[0] !== 'storage') {
        throw new SsssegError('io.corruptPth', `${source}: unsupported persistent id ${JSON.stringify(String(t?.[0]))}`);
      }
      const cls = t[1] as Partial<StorageClass> | undefined;
      const info = cls?.storageName ? STORAGE_DTYPES[cls.storageName] : undefined;
      if (!info) throw new SsssegError('io.corruptPth', `${source}: unsupported storage type ${String(cls?.storageName)}`);
      const view = t[5] as [string, number, number] | null | undefined;
      return new StorageRef(String(t[2]), info.dtype, info.bytes, view ? Number(view[1]) : 0);
    },
  };
}

function newParser(source: string): Parser {
  return new Parser({
    nameResolver: makeResolver(source),
    persistentResolver: persistentResolver(source) as never,
    unpicklingTypeOfDictionary: 'Map',
  });
}

function isZip(b: Uint8Array): boolean {
  return b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
}

export function isLegacyPth(b: Uint8Array): boolean {
  return LEGACY_MAGIC.every((v, i) => b[i] === v);
}

export function isPth(b: Uint8Array): boolean {
  return isZip(b) || isLegacyPth(b);
}

function parseZip(bytes: Uint8Array, source: string): { root: unknown; storage: (key: string) => Uint8Array | undefined } {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, { filter: (f) => /(^|\/)(data\.pkl|byteorder|data\/[^/]+)$/.test(f.name) });
  } catch (err) {
    throw new SsssegError('io.corruptPth', `${source} is not a readable zip archive (${(err as Error).message}; truncated?)`);
  }
  const pkl = Object.keys(files).find((n) => /(^|\/)data\.pkl$/.test(n));
  if (pkl === undefined) throw new SsssegError('io.corruptPth', `${source}: zip archive without data.pkl (not a torch.save file)`);
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const order = files[`${prefix}byteorder`];
  if (order && new TextDecoder().decode(order).trim() === 'big') {
    throw new SsssegError('io.corruptPth', `${source} was saved on a big-endian machine; not supported`);
  }
  const root = unpickle(() => newParser(source).parse(files[pkl]!), source);
  return { root, storage: (key) => files[`${prefix}data/${key}`] };
}

function parseLegacy(bytes: Uint8Array, source: string): { root: unknown; storage: (key: string) => Uint8Array | undefined } {
  const reader = new BufferReader(bytes);
  reader.skip(LEGACY_MAGIC.length);
  const parser = newParser(source);
  const { root, keys } = unpickle(() => {
    const protocol = parser.read<number>(reader);
    if (protocol !== 1001) throw new Error(`unknown legacy protocol version ${protocol}`);
    parser.read(reader); // sys_info: endianness and type sizes; little-endian is all we meet
    const r = parser.read<unknown>(reader);
    return { root: r, keys: parser.read<unknown[]>(reader).map(String) };
  }, source);
  const storages = new Map<string, Uint8Array>();
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = reader.position;
  const refs = collectStorageRefs(root);
  for (const key of keys) {
    if (pos + 8 > bytes.byteLength) throw truncated(source, key);
    const count = Number(dv.getBigInt64(pos, true));
    const elem = refs.get(key)?.elemBytes ?? 1;
    pos += 8;
    if (pos + count * elem > bytes.byteLength) throw truncated(source, key);
    storages.set(key, bytes.subarray(pos, pos + count * elem));
    pos += count * elem;
  }
  return { root, storage: (key) => storages.get(key) };
}

function unpickle<T>(fn: () => T, source: string): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SsssegError) throw err;
    throw new SsssegError('io.corruptPth', `${source}: cannot unpickle (${(err as Error).message}; truncated or not a torch.save file?)`);
  }
}

function truncated(source: string, key: string): SsssegError {
  return new SsssegError('io.corruptPth', `${source}: storage ${key} lies past the end of the file (truncated?)`);
}

function collectStorageRefs(obj: unknown, out = new Map<string, StorageRef>()): Map<string, StorageRef> {
  if (obj instanceof TensorRef) out.set(obj.storage.key, obj.storage);
  else if (obj instanceof Map) for (const v of obj.values()) collectStorageRefs(v, out);
  else if (Array.isArray(obj)) for (const v of obj) collectStorageRefs(v, out);
  return out;
}

/** Keys under which training scripts nest the model's state_dict. */
const STATE_KEYS = ['state_dict', 'model', 'model_state_dict', 'model_state', 'net', 'network', 'teacher', 'student'];

/** The mapping that holds the weights: the root, or the state dict nested in a training checkpoint. */
function selectStateDict(root: unknown): unknown {
  if (!(root instanceof Map)) return root;
  if ([...root.values()].some((v) => v instanceof TensorRef)) return root;
  for (const k of STATE_KEYS) {
    const v = root.get(k);
    if (v instanceof Map && collectStorageRefs(v).size > 0) return v;
  }
  return root;
}

function flatten(obj: unknown, prefix: string, out: Map<string, TensorRef>): void {
  if (obj instanceof TensorRef) out.set(prefix, obj);
  else if (obj instanceof Map) for (const [k, v] of obj) flatten(v, prefix ? `${prefix}.${String(k)}` : String(k), out);
}

function materialize(name: string, t: TensorRef, bytes: Uint8Array | undefined, source: string): StoredTensor {
  const { elemBytes: es, dtype } = t.storage;
  if (!bytes) throw new SsssegError('io.corruptPth', `${source}: storage ${t.storage.key} of tensor ${name} is missing`);
  const numel = t.size.reduce((a, b) => a * b, 1);
  const base = t.storage.viewOffset + t.offset;
  let contiguous = true;
  for (let d = t.size.length - 1, expect = 1; d >= 0; d--) {
    if (t.size[d]! > 1 && t.stride[d] !== expect) contiguous = false;
    expect *= t.size[d]!;
  }
  if (contiguous && (base + numel) * es > bytes.byteLength) throw truncated(source, t.storage.key);
  // aligned: a view, no copy (a ResNet-101 file is 170 MB); tensors may share one storage
  if (contiguous && (bytes.byteOffset + base * es) % es === 0) {
    return { dtype, shape: t.size, data: typedView(dtype, bytes.subarray(base * es, (base + numel) * es)) };
  }
  const out = new Uint8Array(numel * es);
  if (contiguous) {
    out.set(bytes.subarray(base * es, (base + numel) * es));
  } else {
    // rare in state dicts (a transposed view saved as is): gather element by element
    const idx = new Array<number>(t.size.length).fill(0);
    for (let i = 0; i < numel; i++) {
      let src = base;
      for (let d = 0; d < idx.length; d++) src += idx[d]! * t.stride[d]!;
      if ((src + 1) * es > bytes.byteLength) throw truncated(source, t.storage.key);
      out.set(bytes.subarray(src * es, (src + 1) * es), i * es);
      for (let d = idx.length - 1; d >= 0 && ++idx[d]! === t.size[d]; d--) idx[d] = 0;
    }
  }
  return { dtype, shape: t.size, data: typedView(dtype, out) };
}

function typedView(dtype: DType, b: Uint8Array): StoredTensor['data'] {
  const o = b.byteOffset;
  switch (dtype) {
    case 'F32': return new Float32Array(b.buffer, o, b.byteLength / 4);
    case 'F64': return new Float64Array(b.buffer, o, b.byteLength / 8);
    case 'I32': return new Int32Array(b.buffer, o, b.byteLength / 4);
    case 'I64': return new BigInt64Array(b.buffer, o, b.byteLength / 8);
    case 'I16': return new Int16Array(b.buffer, o, b.byteLength / 2);
    case 'I8': return new Int8Array(b.buffer, o, b.byteLength);
    case 'F16':
    case 'BF16': return new Uint16Array(b.buffer, o, b.byteLength / 2);
    case 'U8':
    case 'BOOL': return b;
  }
}

/** Decode a torch.save file held in memory into named tensors (PyTorch layout, e.g. OIHW). */
export function decodePth(bytes: Uint8Array, source: string): Map<string, StoredTensor> {
  let parsed;
  if (isZip(bytes)) parsed = parseZip(bytes, source);
  else if (isLegacyPth(bytes)) parsed = parseLegacy(bytes, source);
  else throw new SsssegError('io.corruptPth', `${source} is not a PyTorch file (neither a zip archive nor the legacy torch.save format)`);
  const refs = new Map<string, TensorRef>();
  flatten(selectStateDict(parsed.root), '', refs);
  if (refs.size === 0) throw new SsssegError('io.corruptPth', `${source} holds no tensors`);
  const out = new Map<string, StoredTensor>();
  for (const [name, ref] of refs) out.set(name, materialize(name, ref, parsed.storage(ref.storage.key), source));
  return out;
}

export async function readPth(file: string): Promise<Map<string, StoredTensor>> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch {
    throw new SsssegError('io.missingFile', `cannot read ${file}: no such file`);
  }
  return decodePth(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
}
