/**
 * Review round thirteen (a), hole 4 (class: what the server holds of a group is told to someone who
 * does not hold it — round five closed it for the codes route and a push's reply; the seal route,
 * POST /v1/codes/keys, was left). sealCodes (server/codes/service.ts) looks the entry up
 * (entryPlacement) before it asks whether the caller may edit there, and before it asks whether the
 * caller is a person of the vault at all, and answers differently for: no such entry (NOT_FOUND),
 * an entry in another group or key version than the one named (CONFLICT), and the right group and
 * version (FORBIDDEN). So a member of H only, and any account of the server (another tenant), learns
 * of an entry id it knows (events name them) whether it lives, which group holds it, and its
 * group's current key version (so when it was rotated: who was revoked when); a stranger learns
 * which vault ids the server holds. Expected: one answer alike for each (as the codes route gives).
 * Kept as test/server/seal-route-oracle.test.ts (the reviewer's two cases unchanged), with cases of
 * our own: a removal (sealed: null) answers alike whether a seal of G is held for the entry or not;
 * a disabled person of the vault is answered as a stranger; a seal in G is still stored by G's editor.
 * Real HTTP on loopback, PGlite. Must never print a key.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from './databases';
import { encodeSecret } from '../../shared/otp';
import { sealCodeKeyForServer, serverCodePublicKey } from '../../electron/team/server-codes';
import { entryIn, groupRecord, pushOf, serverWithPeople, twoGroupVaultPushed, userRecord, type TwoGroupVault } from './people';
import type { Person } from './support';

const databases = useTestDatabases();
const GARBAGE = Buffer.from(randomBytes(96)).toString('base64url');

describe('the seal route tells nothing of a group to someone who does not hold it (review 13a hole 4)', () => {
  let owner: Person;
  let tech: Person;
  let other: Person;
  let stranger: Person;
  let w: TwoGroupVault;
  let inG: string;
  beforeAll(async () => {
    ({ owner, people: { tech, other, stranger } } = await serverWithPeople(await databases.open('pglite'), ['tech', 'other', 'stranger']));
    w = await twoGroupVaultPushed({ owner, tech, other });
    const pulled = await tech.client.ok('syncPull', { vault: w.vault, since: 0 });
    inG = pulled.records.find((r) => r.record.kind === 'entry' && r.record.group === w.g)?.record.id ?? '';
    expect(inG).not.toBe('');
  }, 120_000);

  async function answer(who: Person, vault: string, entry: string, group: string, keyVersion: number): Promise<string> {
    const reply = await who.client.call('codesSeal', { vault, records: [{ kind: 'server_code', entry, group, keyVersion, sealed: GARBAGE }] });
    return reply.ok ? 'stored' : `${reply.error.code}: ${reply.error.message}`;
  }

  it('answers a member of H alike for G\'s entry in its group, named in another group or version, and no entry at all', async () => {
    const answers = new Set([
      await answer(other, w.vault, inG, w.g, 1),
      await answer(other, w.vault, inG, w.h, 1),
      await answer(other, w.vault, inG, w.g, 2),
      await answer(other, w.vault, randomUUID(), w.g, 1),
    ]);
    expect([...answers]).toHaveLength(1);
  });

  it('answers an account of no vault here alike for a vault the server holds and one it does not', async () => {
    const answers = new Set([
      await answer(stranger, w.vault, inG, w.g, 1),
      await answer(stranger, w.vault, randomUUID(), w.g, 1),
      await answer(stranger, randomBytes(16).toString('hex'), inG, w.g, 1),
    ]);
    expect([...answers]).toHaveLength(1);
  });

  it('answers a removal alike whether a seal of a group one does not hold is there or not, and leaves that seal stored (our case)', async () => {
    // G set to server codes; tech (G's editor) seals a key for a new entry of G.
    await owner.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.u.owner, { id: w.g, keyVersion: 1, revision: 2, serverCodes: true })]));
    const sealedEntry = entryIn(w.u.tech, w.g);
    await tech.client.ok('syncPush', pushOf(w.vault, [sealedEntry]));
    const key = serverCodePublicKey((await tech.client.ok('codesKey', undefined)).publicKey);
    const secret = encodeSecret(randomBytes(20));
    const params = { kind: 'totp' as const, secret, algorithm: 'SHA1' as const, digits: 6, period: 30, counter: 0 };
    const place = { entry: sealedEntry.id, group: w.g, keyVersion: 1 };
    const binding = { vault: w.vault, ...place };
    expect(await tech.client.ok('codesSeal', { vault: w.vault, records: [{ kind: 'server_code', ...place, sealed: sealCodeKeyForServer(key, binding, params) }] })).toMatchObject({ stored: 1 });
    // other (H only) asks to remove it, naming H (a group they edit) or G (one they do not).
    const removal = async (entry: string, group: string): Promise<string> => {
      const reply = await other.client.call('codesSeal', { vault: w.vault, records: [{ kind: 'server_code', entry, group, keyVersion: 1, sealed: null }] });
      return reply.ok ? `stored ${reply.value.stored} removed ${reply.value.removed}` : `${reply.error.code}: ${reply.error.message}`;
    };
    expect(new Set([await removal(sealedEntry.id, w.h), await removal(inG, w.h), await removal(randomUUID(), w.h)]).size).toBe(1);
    expect(new Set([await removal(sealedEntry.id, w.g), await removal(inG, w.g), await removal(randomUUID(), w.g)]).size).toBe(1);
    // The seal is still there: tech, G's editor, removes it (one removed).
    expect(await tech.client.ok('codesSeal', { vault: w.vault, records: [{ kind: 'server_code', ...place, sealed: null }] })).toMatchObject({ removed: 1 });
  });

  it('answers a disabled person of the vault as it answers a stranger (our case)', async () => {
    const strangerSays = await answer(stranger, w.vault, inG, w.g, 1);
    await owner.client.ok('syncPush', pushOf(w.vault, [userRecord(w.u.owner, { id: w.u.other, role: 'technician', account: other.user.id, revision: 2, disabled: true })]));
    expect(await answer(other, w.vault, inG, w.g, 1)).toBe(strangerSays);
    expect(await answer(other, w.vault, randomUUID(), w.h, 1)).toBe(strangerSays);
  });
});
