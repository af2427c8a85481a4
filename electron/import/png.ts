/**
 * A PNG decoder for QR code images on the import path (a Google Authenticator export's pages,
 * screenshots of a setup code), per the PNG specification (W3C, 3rd edition): chunks with
 * their CRCs checked, IHDR, PLTE and tRNS, the IDAT stream inflated with a bound, the five
 * scanline filters undone; every colour type and bit depth becomes 8-bit RGBA composited
 * over white (a QR code drawn on a transparent background reads as on paper). Interlaced
 * images are refused with the fix said; so is anything over MAX_PIXELS.
 *
 * Never puts pixel data in an error.
 */
import { crc32, inflateSync } from 'node:zlib';
import { CrewvaultError } from '../../shared/errors';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** 40 megapixels: a phone's full-resolution photo of a screen, and ~160 MB of RGBA at most. */
const MAX_PIXELS = 40_000_000;
/** Samples per pixel of each colour type: grey, RGB, palette, grey+alpha, RGBA. */
const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ALLOWED_DEPTHS: Readonly<Record<number, readonly number[]>> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  /** width × height × 4 bytes, row by row. */
  readonly data: Uint8ClampedArray;
}

export function isPng(data: Uint8Array): boolean {
  return data.length >= SIGNATURE.length && SIGNATURE.equals(Buffer.from(data.buffer, data.byteOffset, SIGNATURE.length));
}

function bad(what: string, detail: string): CrewvaultError {
  return new CrewvaultError('INVALID_INPUT', `${what} is not a readable PNG image (${detail}).`);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decodes the PNG `data`; `what` names it in errors ("image 2 (page2.png)"). */
export function decodePng(data: Uint8Array, what: string): RgbaImage {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (!isPng(bytes)) throw bad(what, 'no PNG signature');
  let width = 0;
  let height = 0;
  let depth = 0;
  let colour = -1;
  let palette: Buffer | undefined;
  let transparency: Buffer | undefined;
  const idat: Buffer[] = [];
  let ended = false;
  for (let at = SIGNATURE.length; at < bytes.length && !ended; ) {
    if (at + 12 > bytes.length) throw bad(what, 'cut short');
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (at + 12 + length > bytes.length) throw bad(what, 'cut short');
    const body = bytes.subarray(at + 8, at + 8 + length);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== bytes.readUInt32BE(at + 8 + length)) throw bad(what, `its ${type} chunk fails its checksum`);
    at += 12 + length;
    if (type === 'IHDR') {
      if (length !== 13) throw bad(what, 'a damaged header');
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      depth = body.readUInt8(8);
      colour = body.readUInt8(9);
      if (body.readUInt8(12) !== 0) throw new CrewvaultError('INVALID_INPUT', `${what} is an interlaced PNG: save it again without interlacing (any image editor can), then import it.`);
      if (!(ALLOWED_DEPTHS[colour] ?? []).includes(depth)) throw bad(what, `colour type ${colour} at ${depth} bits`);
      if (width === 0 || height === 0 || width * height > MAX_PIXELS) throw bad(what, `${width} × ${height} pixels is outside what Crewvault reads`);
    } else if (type === 'PLTE') {
      palette = body;
    } else if (type === 'tRNS') {
      transparency = body;
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      ended = true;
    }
  }
  const channels = CHANNELS[colour];
  if (channels === undefined || width === 0) throw bad(what, 'no header');
  if (colour === 3 && !palette) throw bad(what, 'a palette image without its palette');
  const bitsPerPixel = channels * depth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel >> 3);
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: height * (stride + 1) });
  } catch {
    throw bad(what, 'its image data does not unpack');
  }
  if (raw.length !== height * (stride + 1)) throw bad(what, 'its image data is cut short');

  // Undo the filters, row by row, into `rows` (each row `stride` bytes).
  const rows = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? (rows[out + x - bpp] ?? 0) : 0;
      const b = y > 0 ? (rows[out - stride + x] ?? 0) : 0;
      const c = x >= bpp && y > 0 ? (rows[out - stride + x - bpp] ?? 0) : 0;
      const value = line[x] ?? 0;
      let decoded: number;
      switch (filter) {
        case 0: decoded = value; break;
        case 1: decoded = value + a; break;
        case 2: decoded = value + b; break;
        case 3: decoded = value + ((a + b) >> 1); break;
        case 4: decoded = value + paeth(a, b, c); break;
        default: throw bad(what, `an unknown row filter ${filter}`);
      }
      rows[out + x] = decoded & 0xff;
    }
  }

  // Every pixel to RGBA over white.
  const pixels = new Uint8ClampedArray(width * height * 4);
  const maxSample = (1 << depth) - 1;
  const sample = (row: number, index: number): number => {
    if (depth === 8) return rows[row + index] ?? 0;
    if (depth === 16) return rows[row + index * 2] ?? 0; // the high byte
    const bitAt = index * depth;
    const byte = rows[row + (bitAt >> 3)] ?? 0;
    return (byte >> (8 - depth - (bitAt & 7))) & maxSample;
  };
  const scale = (value: number): number => (depth >= 8 ? value : Math.round((value * 255) / maxSample));
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    for (let x = 0; x < width; x++) {
      let r: number;
      let g: number;
      let bl: number;
      let alpha = 255;
      const s = x * channels;
      if (colour === 3) {
        const index = sample(row, x);
        r = palette?.[index * 3] ?? 0;
        g = palette?.[index * 3 + 1] ?? 0;
        bl = palette?.[index * 3 + 2] ?? 0;
        alpha = transparency?.[index] ?? 255;
      } else if (colour === 0 || colour === 4) {
        r = g = bl = scale(sample(row, s));
        if (colour === 4) alpha = sample(row, s + 1);
      } else {
        r = sample(row, s);
        g = sample(row, s + 1);
        bl = sample(row, s + 2);
        if (colour === 6) alpha = sample(row, s + 3);
      }
      const o = (y * width + x) * 4;
      const over = (v: number): number => Math.round((v * alpha + 255 * (255 - alpha)) / 255);
      pixels[o] = over(r);
      pixels[o + 1] = over(g);
      pixels[o + 2] = over(bl);
      pixels[o + 3] = 255;
    }
  }
  return { width, height, data: pixels };
}
