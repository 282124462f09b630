/**
 * The report's pixels, all through sharp: SVG charts to PNG (text in the system fonts), and rows
 * of RGB panels (image | ground truth | prediction) to one PNG strip.
 */
import sharp from 'sharp';

/** Charts are rendered at twice their SVG size so they stay sharp on high-density screens. */
export const CHART_SCALE = 2;
/** Gap between the panels of a grid row, in pixels (white). */
export const PANEL_GAP = 4;

export async function svgToPng(svg: string, scale = CHART_SCALE): Promise<Buffer> {
  // librsvg maps SVG px at 72 dpi: density 72·k renders k pixels per unit
  return sharp(Buffer.from(svg), { density: 72 * scale })
    .flatten({ background: '#ffffff' })
    .png({ compressionLevel: 9 })
    .toBuffer();
}

export interface RgbPanel {
  /** HWC RGB bytes */
  data: Uint8Array;
  w: number;
  h: number;
  /** resize with nearest neighbour: a label map must not get blended, made-up colours */
  crisp: boolean;
}

export interface Strip {
  png: Buffer;
  width: number;
  height: number;
}

/** Panels side by side at a common height (each keeps its aspect ratio). */
export async function stripPng(panels: RgbPanel[], height: number): Promise<Strip> {
  const resized = await Promise.all(panels.map((p) => resizePanel(p, height)));
  const width = resized.reduce((s, r) => s + r.width, 0) + PANEL_GAP * Math.max(0, panels.length - 1);
  let left = 0;
  const layers: sharp.OverlayOptions[] = [];
  for (const r of resized) {
    layers.push({ input: r.data, raw: { width: r.width, height, channels: 3 }, left, top: 0 });
    left += r.width + PANEL_GAP;
  }
  const png = await sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite(layers)
    .png({ compressionLevel: 9 })
    .toBuffer();
  return { png, width, height };
}

async function resizePanel(p: RgbPanel, height: number): Promise<{ data: Buffer; width: number }> {
  const width = Math.max(1, Math.round((p.w * height) / p.h));
  const img = sharp(p.data, { raw: { width: p.w, height: p.h, channels: 3 } });
  const data = await (width === p.w && height === p.h ? img : img.resize(width, height, { fit: 'fill', kernel: p.crisp ? 'nearest' : 'lanczos3' }))
    .raw()
    .toBuffer();
  return { data, width };
}

export async function pngSize(png: Uint8Array): Promise<{ width: number; height: number }> {
  const m = await sharp(png).metadata();
  return { width: m.width ?? 0, height: m.height ?? 0 };
}
