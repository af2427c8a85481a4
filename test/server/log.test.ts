/**
 * The server's log options (server/log.ts) on a real pino logger: a logged object's fields that
 * can carry a secret are redacted by name, at the top and one level down, also beside the
 * request lines' own serializers; what holds none is written unchanged, and nothing logged is
 * changed in place. The batched destination `crewvault server` writes through keeps every line, in
 * order, and writes them when its turn ends (the turn injected here), at a flush, or once it holds
 * 64 KiB. Must never print the secret it plants (only whether it was found).
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { batchedLog, loggerOptions, redactSecrets } from '../../server/log';

const SECRET = 'planted-secret-9f2c1d';

function logger(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const options = loggerOptions({ write: (line) => lines.push(line) }, 'info');
  if (options === false || options === undefined || options === true) throw new Error('no logger options');
  const { stream, ...rest } = options as pino.LoggerOptions & { stream: pino.DestinationStream };
  return { log: pino(rest, stream), lines };
}

describe('the server log', () => {
  it('redacts secret fields at the top and one level down, and leaves the object logged as it was', () => {
    const { log, lines } = logger();
    const nested = { token: SECRET, user: 'lena', inner: { note: 'kept' } };
    const logged = { password: SECRET, detail: nested, body: { anything: SECRET }, count: 3 };
    log.info(logged, 'something happened');
    log.warn({ authorization: `Bearer ${SECRET}`, err: new Error(SECRET) }, 'with an error');
    const text = lines.join('');
    expect(text.includes(SECRET)).toBe(false);
    const first = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(first).toMatchObject({ password: '[redacted]', detail: { token: '[redacted]', user: 'lena', inner: { note: 'kept' } }, body: '[redacted]', count: 3, msg: 'something happened' });
    // Not changed in place: the caller's objects still hold what they held.
    expect(logged.password).toBe(SECRET);
    expect(nested.token).toBe(SECRET);
  });

  it('hands back the very object when it holds no secret field (nothing copied)', () => {
    const plain = { route: '/v1/codes', statusCode: 200, detail: { vault: 'v' } };
    expect(redactSecrets(plain)).toBe(plain);
    const withSecret = { detail: { refreshToken: SECRET } };
    expect(redactSecrets(withSecret)).not.toBe(withSecret);
    expect(JSON.stringify(redactSecrets(withSecret)).includes(SECRET)).toBe(false);
  });

  it('writes the lines of a turn together, in order, when the turn ends, at a flush, or once it holds 64 KiB', () => {
    const writes: string[] = [];
    const turns: Array<() => void> = [];
    const log = batchedLog((text) => writes.push(text), (flush) => turns.push(flush));
    log.write('{"n":1}\n');
    log.write('{"n":2}\n');
    expect(writes).toEqual([]);
    expect(turns).toHaveLength(1);
    turns.shift()?.();
    expect(writes).toEqual(['{"n":1}\n{"n":2}\n']);
    // A flush (at exit, at close) writes what is held without waiting for the turn; the turn's end then writes nothing more.
    log.write('{"n":3}\n');
    log.flush();
    expect(writes).toEqual(['{"n":1}\n{"n":2}\n', '{"n":3}\n']);
    turns.shift()?.();
    expect(writes).toHaveLength(2);
    // A turn that logs a great deal writes at 64 KiB, not all at its end.
    const line = `{"pad":"${'x'.repeat(1_000)}"}\n`;
    for (let i = 0; i < 70; i += 1) log.write(line);
    expect(writes).toHaveLength(3);
    expect(writes[2]?.length).toBeGreaterThanOrEqual(64 * 1024);
    turns.shift()?.();
    expect(writes.slice(2).join('')).toBe(line.repeat(70));
  });
});
