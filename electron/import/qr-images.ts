/**
 * QR code images on the import path (issue #12): PNG files — the pages of a Google
 * Authenticator export, or a screenshot of one setup code — decoded (png.ts, then jsQR, the
 * reader the app's QR field uses) to the text they hold, then read as an otpauth list: a
 * multi-page Google export is joined across its images, a page missing is named, a page given
 * twice is read once. An image without a readable QR code is a problem naming the image; the
 * others are still read.
 *
 * Never puts what a QR code holds (it is the secret) in a problem: only which image.
 */
import jsQR from 'jsqr';
import { CrewvaultError } from '../../shared/errors';
import { readOtpauthList } from '../../shared/import/otpauth';
import type { ImportProblem, ImportResult, Importer } from '../../shared/import/types';
import { decodePng, isPng } from './png';

export interface ImageFile {
  /** How the person named it (a file name), for where a problem is. */
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Reads every image's QR code; the texts are read as one otpauth list, problems by image. */
export function readQrImages(images: readonly ImageFile[]): ImportResult {
  const texts: string[] = [];
  const lineOwner: string[] = [];
  const problems: ImportProblem[] = [];
  images.forEach((image, i) => {
    const here = images.length === 1 ? `image ${image.name}` : `image ${i + 1} (${image.name})`;
    try {
      const { width, height, data } = decodePng(image.bytes, 'It');
      const found = jsQR(data, width, height);
      if (!found?.data) throw new CrewvaultError('INVALID_INPUT', 'No QR code found in it.');
      // One text per image, on one line (a QR code holds a single URI).
      for (const line of found.data.split(/\r?\n/)) {
        texts.push(line);
        lineOwner.push(here);
      }
    } catch (error) {
      if (!(error instanceof CrewvaultError)) throw error;
      problems.push({ where: here, message: error.message });
    }
  });
  const read = readOtpauthList(texts.join('\n'));
  // "Line 3" of the joined text is the image it came from.
  const byImage = (where: string): string => {
    const line = /^Line (\d+)$/.exec(where);
    return line ? (lineOwner[Number(line[1]) - 1] ?? where) : where;
  };
  return {
    format: 'qr',
    entries: read.entries,
    problems: [...problems, ...read.problems.map((p) => ({ where: byImage(p.where), message: p.message }))],
    warnings: read.warnings,
    where: (read.where ?? []).map(byImage),
  };
}

/** One PNG image given as the file to import (several are the CLI's: `crewvault import a.png b.png`). */
export const qrImageImporter: Importer = {
  name: 'qr',
  label: 'QR code image (PNG: a Google Authenticator export page, a setup code)',
  detect: isPng,
  needsPassword: () => false,
  read: (data) => Promise.resolve(readQrImages([{ name: 'given', bytes: data }])),
};
