/**
 * parseServerReply (shared/api/server-contract.ts), what every desktop, CLI and test reads the team
 * server's replies with: a route's value, the server's error, or a throw for anything else, the
 * same at every call (its schemas are made once per route, not per reply).
 */
import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { parseServerReply } from '../../shared/api/server-contract';

const key = { publicKey: 'AbC-_1', fingerprint: 'ab12 cd34' };

describe('parseServerReply', () => {
  it('reads a route\'s value, and the same value at every call', () => {
    for (let i = 0; i < 3; i++) expect(parseServerReply('codesKey', { ok: true, value: key })).toEqual({ ok: true, value: key });
  });

  it('reads the server\'s error, with a code it knows', () => {
    expect(parseServerReply('codesKey', { ok: false, error: { code: 'BUSY', message: 'try again soon' } }))
      .toEqual({ ok: false, error: { code: 'BUSY', message: 'try again soon' } });
  });

  it('throws for a value of another shape, a field too many, an unknown error code and no body, at every call', () => {
    for (let i = 0; i < 2; i++) {
      for (const body of [
        { ok: true, value: { publicKey: 'has space', fingerprint: 'x' } },
        { ok: true, value: { ...key, extra: 1 } },
        { ok: true, value: key, extra: 1 },
        { ok: false, error: { code: 'NOT_A_CODE', message: 'x' } },
        { ok: 'yes', value: key },
        undefined,
      ]) {
        expect(() => parseServerReply('codesKey', body)).toThrow(ZodError);
      }
    }
  });

  it('holds each route to its own schema: one route\'s value is not another\'s', () => {
    expect(parseServerReply('codesKey', { ok: true, value: key }).ok).toBe(true);
    expect(() => parseServerReply('tokenRevoke', { ok: true, value: key })).toThrow(ZodError);
    expect(parseServerReply('tokenRevoke', { ok: true, value: { revoked: true } })).toEqual({ ok: true, value: { revoked: true } });
    expect(() => parseServerReply('codesKey', { ok: true, value: { revoked: true } })).toThrow(ZodError);
  });
});
