/**
 * Decoding and encoding of single files, with every failure turned into an SsssegError that names
 * the file. Photos go through sharp; label maps through our PNG codec (raw indices, see png.ts).
 */
import { promises as fs } from 'node:fs';
import sharp from 'sharp';
import { SsssegError } from '../errors.ts';
import { decodePng, encodePng, type DecodedPng } from './png.ts';

/** HWC, 3 channels, RGB, 8-bit. */
export interface RgbImage {
  data: Uint8Array;
  h: number;
  w: number;
}

/** HW, one byte per pixel. */
export interface LabelMap {
  data: Uint8Array;
  h: number;
  w: number;
}

export async function readFileOrFail(file: string, what = 'file'): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SsssegError('data.missingFile', `${what} ${file} not found`);
    throw new SsssegError('data.unreadable', `cannot read ${what} ${file} (${code ?? (err as Error).message})`);
  }
}

/** Decode an image file (any format sharp reads) to RGB. Truncated or corrupt data is an error. */
export async function decodeImage(file: string): Promise<RgbImage> {
  return decodeImageBuffer(await readFileOrFail(file, 'image'), file);
}

export async function decodeImageBuffer(buf: Uint8Array, file: string): Promise<RgbImage> {
  try {
    // failOn 'warning' so a truncated JPEG is an error instead of a grey bottom half
    const { data, info } = await sharp(buf, { failOn: 'warning' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data: toRgb(data, info.channels, info.width * info.height), h: info.height, w: info.width };
  } catch (err) {
    throw new SsssegError('data.corruptImage', `${file}: cannot decode image (${(err as Error).message.split('\n')[0]})`);
  }
}

function toRgb(data: Buffer, channels: number, pixels: number): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (channels === 3) return bytes;
  const out = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < 3; c++) out[p * 3 + c] = bytes[p * channels + Math.min(c, channels - 1)]!;
  }
  return out;
}

/** Decode a label PNG keeping raw sample values (palette index or grey value). */
export async function readLabelPng(file: string): Promise<DecodedPng> {
  return decodePng(await readFileOrFail(file, 'label'), file);
}

/** Read a prepared label map (single-channel PNG) as class ids. */
export async function readLabelMap(file: string): Promise<LabelMap> {
  const png = await readLabelPng(file);
  if (png.channels !== 1) {
    throw new SsssegError('data.badLabel', `${file}: label maps must be single-channel, found ${png.channels} channels`);
  }
  return { data: png.data, h: png.height, w: png.width };
}

export function encodeLabel(label: LabelMap): Uint8Array {
  return encodePng(label.data, label.w, label.h, 1);
}

/** Encode an RGB image; png is lossless and byte-stable, jpg is for sources that were JPEG. */
export async function encodeImage(img: RgbImage, ext: 'png' | 'jpg'): Promise<Uint8Array> {
  if (ext === 'png') return encodePng(img.data, img.w, img.h, 3);
  return sharp(img.data, { raw: { width: img.w, height: img.h, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
}
