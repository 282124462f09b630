/**
 * A small PNG codec for label maps. sharp decodes palette PNGs to RGB, but VOC label maps store
 * the class id as the palette *index*, so we read the raw samples ourselves (IHDR, PLTE, IDAT,
 * inflate, unfilter). Only non-interlaced PNGs with 1/2/4/8-bit samples are handled; label maps
 * never need more. The encoder writes the 8-bit grey (and RGB) PNGs of the prepared format with
 * node's zlib only, so the bytes depend on nothing but the pixels (determinism tests rely on it).
 */
import { crc32, deflateSync, inflateSync } from 'node:zlib';
import { SsssegError } from '../errors.ts';

export interface DecodedPng {
  width: number;
  height: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA */
  colorType: number;
  bitDepth: number;
  /** samples per pixel in `data` (1 for grey and palette) */
  channels: number;
  /** one byte per sample, row-major; palette PNGs hold the raw indices */
  data: Uint8Array;
  /** PLTE as RGB triples, when present */
  palette?: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function corrupt(file: string, why: string): SsssegError {
  return new SsssegError('data.corruptImage', `${file}: not a readable PNG (${why})`);
}

interface Header {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlace: number;
}

/** Split the file into its chunks, checking each CRC. */
function readChunks(buf: Uint8Array, file: string): { header: Header; idat: Buffer; palette?: Uint8Array } {
  if (buf.length < 8 || SIGNATURE.some((b, i) => buf[i] !== b)) throw corrupt(file, 'bad signature');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 8;
  let header: Header | undefined;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  while (pos + 12 <= buf.length) {
    const len = view.getUint32(pos);
    const type = String.fromCharCode(buf[pos + 4]!, buf[pos + 5]!, buf[pos + 6]!, buf[pos + 7]!);
    if (pos + 12 + len > buf.length) throw corrupt(file, `truncated ${type} chunk`);
    const body = buf.subarray(pos + 8, pos + 8 + len);
    if (crc32(buf.subarray(pos + 4, pos + 8 + len)) !== view.getUint32(pos + 8 + len)) {
      throw corrupt(file, `CRC mismatch in ${type}`);
    }
    if (type === 'IHDR') {
      const h = new DataView(body.buffer, body.byteOffset, body.byteLength);
      header = { width: h.getUint32(0), height: h.getUint32(4), bitDepth: body[8]!, colorType: body[9]!, interlace: body[12]! };
    } else if (type === 'PLTE') {
      palette = body.slice();
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
    pos += 12 + len;
  }
  if (!header) throw corrupt(file, 'no IHDR');
  if (idat.length === 0) throw corrupt(file, 'no image data');
  return { header, idat: Buffer.concat(idat), palette };
}

/** Decode a PNG into raw samples (palette indices stay indices). */
export function decodePng(buf: Uint8Array, file: string): DecodedPng {
  const { header, idat, palette } = readChunks(buf, file);
  const { width, height, bitDepth, colorType, interlace } = header;
  const channels = CHANNELS[colorType];
  if (channels === undefined) throw corrupt(file, `colour type ${colorType}`);
  if (interlace !== 0 || bitDepth > 8 || (bitDepth < 8 && channels !== 1)) {
    throw new SsssegError(
      'data.unsupportedPng',
      `${file}: ${interlace ? 'interlaced' : `${bitDepth}-bit`} PNG label maps are not supported`,
      're-save it as a non-interlaced 8-bit PNG',
    );
  }
  if (colorType === 3 && !palette) throw corrupt(file, 'palette image without PLTE');
  let raw: Buffer;
  try {
    raw = inflateSync(idat);
  } catch (err) {
    throw corrupt(file, `inflate: ${(err as Error).message}`);
  }
  const stride = Math.ceil((width * channels * bitDepth) / 8);
  if (raw.length < height * (stride + 1)) throw corrupt(file, 'image data too short');
  const packed = unfilter(raw, height, stride, Math.max(1, (channels * bitDepth) >> 3), file);
  const data = bitDepth === 8 ? packed : unpack(packed, width, height, stride, bitDepth);
  return { width, height, colorType, bitDepth, channels, data, palette };
}

/** Undo the per-row PNG filters (None, Sub, Up, Average, Paeth). */
function unfilter(raw: Uint8Array, height: number, stride: number, bpp: number, file: string): Uint8Array {
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let i = 0; i < stride; i++) {
      const x = raw[src + i]!;
      const a = i >= bpp ? out[row + i - bpp]! : 0;
      const b = y > 0 ? out[prev + i]! : 0;
      let v: number;
      switch (filter) {
        case 0: v = x; break;
        case 1: v = x + a; break;
        case 2: v = x + b; break;
        case 3: v = x + ((a + b) >> 1); break;
        case 4: {
          const c = y > 0 && i >= bpp ? out[prev + i - bpp]! : 0;
          v = x + paeth(a, b, c);
          break;
        }
        default: throw corrupt(file, `unknown filter ${filter} in row ${y}`);
      }
      out[row + i] = v & 0xff;
    }
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Spread 1/2/4-bit samples to one byte each (raw values, not rescaled: they are ids). */
function unpack(packed: Uint8Array, width: number, height: number, stride: number, bits: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const perByte = 8 / bits;
  const mask = (1 << bits) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const byte = packed[y * stride + Math.floor(x / perByte)]!;
      const shift = 8 - bits * ((x % perByte) + 1);
      out[y * width + x] = (byte >> shift) & mask;
    }
  }
  return out;
}

/**
 * Encode 8-bit grey (channels 1) or RGB (channels 3) pixels as a PNG. With `palette` (RGB
 * triples, at most 256) the single channel is written as palette indices, the way VOC stores
 * its SegmentationClass masks.
 */
export function encodePng(data: Uint8Array, width: number, height: number, channels: 1 | 3, palette?: Uint8Array): Uint8Array {
  const stride = width * channels;
  if (data.length !== stride * height) throw new Error(`encodePng: ${data.length} bytes for ${width}x${height}x${channels}`);
  if (palette && (channels !== 1 || palette.length % 3 !== 0 || palette.length > 768)) {
    throw new Error(`encodePng: a palette needs one channel and at most 256 RGB triples`);
  }
  const filtered = new Uint8Array(height * (stride + 1));
  const candidate = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    // pick the filter (None, Sub, Up) with the smallest sum of |residual|: the usual heuristic
    let bestScore = Infinity;
    for (let f = 0; f <= 2; f++) {
      let score = 0;
      for (let i = 0; i < stride; i++) {
        const cur = data[y * stride + i]!;
        const ref = f === 1 ? (i >= channels ? data[y * stride + i - channels]! : 0) : f === 2 && y > 0 ? data[(y - 1) * stride + i]! : 0;
        const r = (cur - ref) & 0xff;
        candidate[i] = r;
        score += r < 128 ? r : 256 - r;
      }
      if (score < bestScore) {
        bestScore = score;
        filtered[y * (stride + 1)] = f;
        filtered.set(candidate, y * (stride + 1) + 1);
      }
    }
  }
  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  ihdr[8] = 8;
  ihdr[9] = palette ? 3 : channels === 1 ? 0 : 2;
  return Buffer.concat([
    Buffer.from(SIGNATURE),
    chunk('IHDR', ihdr),
    ...(palette ? [chunk('PLTE', palette)] : []),
    chunk('IDAT', deflateSync(filtered, { level: 6 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

function chunk(type: string, body: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'latin1');
  out.set(body, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}
