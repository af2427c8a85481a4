/**
 * The change set every write answers with (store-changes.ts changesBetween) stops reading once it
 * has found as many rows as the write took sequence numbers (#13 perf). It must be the set that
 * reading every sequenced table gives (allChangesBetween) for every kind of write: entries,
 * codes, customers, users and their keys, groups and their members' keys, roles, deletes, moves.
 * Real vault file, real crypto, the full set read by a second connection on the same file.
 * Must never pass if the narrowed read left out a row the full one finds.
 */
import { describe, expect, it } from 'vitest';
import { parseOtpUri } from '../../shared/otp';
import { SqliteVaultStore } from '../../electron/vault/store';
import { allChangesBetween } from '../../electron/vault/store-changes';
import type { VaultSession } from '../../electron/vault/service';
import { FAST_KDF, newVault, PASSWORD } from '../support/vault';

describe('a write\'s change set, read narrowed', () => {
  it('equals the set read from every table, for every kind of write', async () => {
    const { file, session } = await newVault();
    const full = SqliteVaultStore.open(file);
    const seen = new Map<string, { objects: number; links: number; events: number }>();
    const check = async (what: string, write: (s: VaultSession) => Promise<unknown>): Promise<void> => {
      await write(session);
      const narrowed = session.lastChanges();
      const whole = await full.read((r) => allChangesBetween(r, narrowed.fromSeq, narrowed.toSeq));
      expect(narrowed, what).toEqual(whole);
      seen.set(what, { objects: whole.objects.length, links: whole.links.length, events: whole.events.length });
    };
    const otp = parseOtpUri('otpauth://totp/Acme:ops?secret=JBSWY3DPEHPK3PXP&issuer=Acme');
    let entry = await session.createEntry({ customer: 'Acme', title: 'VPN', password: 'vpn-1' });
    await check('an entry and its new customer', async (s) => { entry = await s.createEntry({ customer: 'Globex', title: 'ops', password: 'p', otp: { params: otp.params } }); });
    await check('an entry changed', async (s) => { entry = await s.updateEntry(entry.id, { notes: 'rotated' }, entry.revision ?? -1); });
    await check('a code shown (an event only)', (s) => s.otpCode(entry.id));
    await check('a user made (user, signing key, directory key)', (s) => s.createUser('tom', 'technician', 'tom one-time', FAST_KDF));
    let groupId = 0;
    await check('a group made (group, its key for its maker)', async (s) => { groupId = (await s.team.createGroup('Night shift')).id; });
    await check('a member granted (a group key)', async (s) => s.team.grant(groupId, 'tom', false, await s.team.groupRevision(groupId)));
    await check('an entry moved to another group', async (s) => s.team.moveEntry(entry.id, groupId, (await s.getEntry(entry.id)).revision ?? -1));
    await check('a member revoked (the group\'s keys rotated)', async (s) => s.team.revoke(groupId, 'tom', await s.team.groupRevision(groupId)));
    await check('a role defined', async (s) => s.team.defineRole('helpdesk', ['entries.view', 'otp.view'], await s.team.roleRevision('helpdesk')));
    await check('a role changed', async (s) => s.team.changeRole('tom', 'helpdesk', await s.team.userRevision('tom')));
    await check('a password changed', (s) => s.changePassword(PASSWORD, 'a new long password here', FAST_KDF));
    await check('an entry deleted (a tombstone)', async (s) => s.deleteEntry(entry.id, (await s.getEntry(entry.id)).revision ?? -1));
    // Every kind of row the set names was met at least once, so the comparison covered each.
    const totals = [...seen.values()].reduce((a, b) => ({ objects: a.objects + b.objects, links: a.links + b.links, events: a.events + b.events }));
    expect(totals.objects).toBeGreaterThan(8);
    expect(totals.links).toBeGreaterThan(2);
    expect(seen.get('a code shown (an event only)')).toEqual({ objects: 0, links: 0, events: 1 });
    await full.close();
    await session.close();
  });
});
