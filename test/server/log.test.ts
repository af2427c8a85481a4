/**
 * The server's log options (server/log.ts) on a real pino logger: a logged object's fields that
 * can carry a secret are redacted by name, at the top and one level down, also beside the
 * request lines' own serializers; what holds none is written unchanged, and nothing logged is
 * changed in place. Must never print the secret it plants (only whether it was found).
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions, redactSecrets } from '../../server/log';

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
});
