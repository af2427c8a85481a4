/**
 * Which sealed TOTP keys the server holds as a desktop holds them (POST /v1/codes/keys/held, schema 33; docs/SYNC.md
 * "Server-computed codes"): a desktop names each key it would hand over by its digest (shared/sync/server-codes.ts
 * serverCodeKeyDigest) and hands over only those the server says it needs. Before, every new process sealed every key
 * again. The server tells a key as held only to someone who may edit its group, for that very group, key and code key;
 * everyone else is told every key is needed, so the answer says nothing of a seal not theirs. The database keeps a keyed
 * digest only (server/codes/held.ts), never the desktop's. Real server over HTTP, PostgreSQL and PGlite.
 * Must never print a key or a code.
 */
import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeSecret } from '../../shared/otp';
import { serverCodeKeyDigest } from '../../shared/sync/server-codes';
import { sealCodeKeyForServer, serverCodePublicKey } from '../../electron/team/server-codes';
import { textOrNull } from '../../server/store/db';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { entryIn, pushOf, serverWithPeople, twoGroupVaultCodesOn, type TwoGroupVault } from './people';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();
const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

describe.each(DATABASE_KINDS)('which sealed keys the server holds, asked by digest, on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let other: Person;
  let w: TwoGroupVault;
  beforeAll(async () => {
    ({ server, owner, people: { tech, other } } = await serverWithPeople(await databases.open(kind), ['tech', 'other']));
    // G computes codes from here on (the owner's record says so).
    w = await twoGroupVaultCodesOn({ owner, tech, other });
  }, 120_000);

  it('tells an editor of the group the key it holds as held, and any other key, group or caller as needed', async () => {
    const entry = entryIn(w.u.tech, w.g);
    await tech.client.ok('syncPush', pushOf(w.vault, [entry]));
    const key = { kind: 'totp' as const, secret: encodeSecret(randomBytes(20)), algorithm: 'SHA1' as const, digits: 6, period: 30 };
    const place = { entry: entry.id, group: w.g, keyVersion: 1 };
    const digestOf = (k: typeof key, at = place): string => serverCodeKeyDigest({ vault: w.vault, ...at }, k, sha256);
    const needed = async (who: Person, asks: ReadonlyArray<{ entry: string; group: string; digest: string }>): Promise<string[]> => (await who.client.ok('codesHeld', { vault: w.vault, keys: [...asks] })).needed;
    const ask = { entry: entry.id, group: w.g, digest: digestOf(key) };

    // Not sealed yet: needed.
    expect(await needed(tech, [ask])).toEqual([entry.id]);
    const codeKey = serverCodePublicKey((await tech.client.ok('codesKey', undefined)).publicKey);
    await tech.client.ok('codesSeal', { vault: w.vault, records: [{ kind: 'server_code', ...place, sealed: sealCodeKeyForServer(codeKey, { vault: w.vault, ...place }, { ...key, counter: 0 }) }] });
    // Held as it is: not needed, by tech nor the owner (both may edit there).
    expect(await needed(tech, [ask])).toEqual([]);
    expect(await needed(owner, [ask])).toEqual([]);
    // Another secret, digits or key version, or the same key said to be in another group: needed.
    expect(await needed(tech, [{ ...ask, digest: digestOf({ ...key, secret: encodeSecret(randomBytes(20)) }) }])).toEqual([entry.id]);
    expect(await needed(tech, [{ ...ask, digest: digestOf({ ...key, digits: 8 }) }])).toEqual([entry.id]);
    expect(await needed(tech, [{ ...ask, digest: digestOf(key, { ...place, keyVersion: 2 }) }])).toEqual([entry.id]);
    expect(await needed(owner, [{ ...ask, group: w.h }])).toEqual([entry.id]);
    // other holds H only: told needed, as for a key not held (nothing of G's seals told).
    expect(await needed(other, [ask])).toEqual([entry.id]);
    // The database keeps the keyed digest, not the desktop's.
    const [row] = await server.db.query('SELECT digest FROM server_code_keys WHERE vault_id = $1 AND entry_id = $2', [w.vault, entry.id]);
    const stored = textOrNull(row ?? {}, 'digest');
    expect(stored).not.toBeNull();
    expect(stored).not.toBe(ask.digest);
    expect(stored).not.toContain(ask.digest.slice(0, 16));
    // A seal from before schema 33 (no digest) is needed, once.
    await server.db.query('UPDATE server_code_keys SET digest = NULL WHERE vault_id = $1 AND entry_id = $2', [w.vault, entry.id]);
    expect(await needed(tech, [ask])).toEqual([entry.id]);
  });

  it('refuses a malformed or empty ask with one line', async () => {
    const bad = await tech.client.call('codesHeld', { vault: w.vault, keys: [{ entry: 'not an id', group: w.g, digest: 'x' }] });
    expect(bad.ok ? 'ok' : bad.error.code).toBe('INVALID_INPUT');
    const none = await tech.client.call('codesHeld', { vault: w.vault, keys: [] });
    expect(none.ok ? 'ok' : none.error.code).toBe('INVALID_INPUT');
  });
});
