/**
 * Hostile review of C1 (the server refuses a second customer of a name index): a member with a
 * valid account (carol, a technician) stores a customer under the keyed index of a name ("Globex")
 * whose sealed name does not open, signed by her own key. The server cannot tell (it opens nothing)
 * and names that record as the conflict of every later push adding a customer "Globex". Bob adds an
 * entry under "Globex" and changes an entry elsewhere; his desktop refuses carol's record (its name
 * does not open), and his own customer goes over it as its next revision, with its real name: the
 * team holds one readable "Globex" with bob's entry, and his other change went too. Two desktops
 * going over one such record at once end with one customer.
 * Real files, a real team server on PGlite over loopback HTTP, the CLI's sync (and the sync itself
 * on the owner's desktop where bob's, another process, is driven in just before its push); carol's
 * record is her desktop's own, its sealed name replaced and signed again with her key.
 * Must never put a password in a process argument.
 */
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ServerProfiles } from '../../electron/team/profiles';
import { syncOnce, type SyncOutcome } from '../../electron/team/sync';
import { uidText } from '../../electron/vault/ids';
import { signBytes } from '../../electron/vault/signing';
import { recordSigningText, REPLICA_FORMAT, type CustomerRecord } from '../../shared/sync/records';
import { signerOf } from '../support/desktop-copies';
import { auditActionsIn, customerSeenOn, type CustomerSeen } from '../support/customer-seen';
import { pushingAfter, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 6, 5, 0, 0));
const team = useTeamDesktops('crewvault-c1-squatted', clock);
const { a, b, c, onDesktop, sync, setPassword, teamClient } = team;

/**
 * Carol's desktop makes `customer` (with one entry, never synced); its record goes to the server
 * with a sealed name that opens nowhere, signed again with her key. Her desktop's other unsent
 * customers: none (each test syncs her at its end).
 */
async function squat(customer: string): Promise<void> {
  clock.advance(1_000);
  const forged = await onDesktop(c, async (s) => {
    await s.createEntries([{ customer, title: 'Decoy', password: 'decoy-1' }]);
    const out = await s.replica.outgoing(false, true);
    const mine = out.batch.records.filter((r): r is CustomerRecord => r.kind === 'customer');
    if (mine.length !== 1 || mine[0] === undefined) throw new Error('carol\'s desktop sends not one customer');
    const record = mine[0];
    const sealed = Buffer.from(record.sealedName, 'base64url');
    const garbled = Buffer.concat([sealed.subarray(0, sealed.length - 16), randomBytes(16)]).toString('base64url');
    const signer = signerOf(s);
    const unsigned = { kind: 'customer' as const, id: record.id, revision: record.revision, base: record.base, sealedName: garbled, nameIndex: record.nameIndex, createdAt: record.createdAt, author: record.author, signerKey: uidText(signer.keyUid) };
    const signature = signBytes(signer.privateKey, Buffer.from(recordSigningText(out.batch.vault, unsigned), 'utf8')).toString('base64url');
    return { vault: out.batch.vault, record: { ...unsigned, signature } satisfies CustomerRecord };
  });
  const stored = await (await teamClient(c)).call('syncPush', { batch: { format: REPLICA_FORMAT, vault: forged.vault, records: [forged.record] } });
  expect(stored.conflicts).toEqual([]);
}

async function synced(d: Desktop): Promise<SyncOutcome> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
  return JSON.parse(out.stdout) as SyncOutcome;
}

const seenOn = (d: Desktop, customer: string): Promise<CustomerSeen> => customerSeenOn(team, clock, d, customer);
/** How many times a file's audit log records a customer going over a squatted record. */
const wentOverIn = (file: string): number => auditActionsIn(file, 'customer.went_over');

describe('a customer name squatted by a member with a record whose name does not open (C1 hostile review)', () => {
  it('the desktop\'s own customer of that name goes over the record, with its entries; its other changes go too', async () => {
    await squat('Globex');
    // Bob, offline: an entry under "Globex", and Printer (the default group) changed.
    clock.advance(1_000);
    await onDesktop(b, (s) => s.createEntries([{ customer: 'Globex', title: 'VPN', password: 'vpn-bob' }]));
    await setPassword(b, 'Acme/Printer', 'p-bob');
    const out = await sync(b);
    expect(out.stdout + out.stderr).not.toMatch(/vpn-bob|p-bob/);
    expect(out.code, out.stderr).toBe('ok');
    const told = JSON.parse(out.stdout) as SyncOutcome;
    // Before (e2dfa8e), Globex and its entry stayed on bob's desktop for good, told as held back.
    expect(told.customerHeldBack).toBeUndefined();
    expect(told.customerWentOver).toBe('A customer made here went over the team\'s record of its name (carol\'s, whose name does not open here: only an altered desktop makes one, and the server refused every other customer of that name): sent as that record\'s next revision, with its entries.');
    expect(wentOverIn(b.file)).toBe(1);
    expect(await seenOn(b, 'Globex')).toEqual({ customers: 1, titles: ['VPN=vpn-bob'], auditOk: true });

    // The team holds one readable Globex with bob's entry, and Printer's change.
    await synced(a);
    expect(await seenOn(a, 'Globex')).toEqual({ customers: 1, titles: ['VPN=vpn-bob'], auditOk: true });
    expect(await onDesktop(a, async (s) => s.revealPassword((await s.resolvePath('Acme/Printer')).id))).toBe('p-bob');
    // Bob's going over (his event, the name sealed) reached the owner's log.
    expect(wentOverIn(a.file)).toBe(1);
    // Carol's own desktop takes the readable record over the one it made, and its entry joins it.
    await synced(c);
    await synced(a);
    expect(await seenOn(a, 'Globex')).toEqual({ customers: 1, titles: ['Decoy=decoy-1', 'VPN=vpn-bob'], auditOk: true });
  }, 180_000);

  it('two desktops going over one squatted record at once: the one pushed second takes the first\'s, one customer with both entries', async () => {
    await squat('Initech');
    clock.advance(1_000);
    await onDesktop(a, (s) => s.createEntries([{ customer: 'Initech', title: 'Portal', password: 'portal-a' }]));
    await onDesktop(b, (s) => s.createEntries([{ customer: 'Initech', title: 'Mail', password: 'mail-b' }]));
    // The owner's desktop goes over the record at its pull; bob's sync, another process, goes over it too and pushes first.
    const client = await teamClient(a);
    client.serverKey = new ServerProfiles(a.env.CREWVAULT_CONFIG ?? '').get(team.server.url)?.serverKey; // the server's identity, as the CLI's kept session gives it
    let bobTold: SyncOutcome | undefined;
    const raced = pushingAfter(client, async () => {
      bobTold = await synced(b);
    });
    const told = await onDesktop(a, (s) => syncOnce(raced, s.replica));
    expect(bobTold?.customerWentOver).toMatch(/^A customer made here went over the team's record of its name \(carol's, /);
    expect(told.customerWentOver).toMatch(/^A customer made here went over the team's record of its name \(carol's, /);
    expect(told.customerHeldBack).toBeUndefined();
    await synced(b);
    for (const d of [a, b]) expect(await seenOn(d, 'Initech'), d.name).toEqual({ customers: 1, titles: ['Mail=mail-b', 'Portal=portal-a'], auditOk: true });
    await synced(c);
  }, 180_000);

  // Last: carol is disabled, and the owner's directory key rotated, for whatever comes after in this file.
  it('the squatter disabled since: the name is still gone over; an honest customer of the name under a directory key rotated elsewhere is never', async () => {
    await squat('Hooli');
    // The owner disables carol (what an MSP does on seeing the line): her desktop's directory key rotates, its names sealed again.
    clock.advance(1_000);
    await onDesktop(a, async (s) => s.team.disableUser('carol', await s.team.userRevision('carol')));
    await synced(a);
    // The owner makes "Umbrella" under the new directory key (it does not travel: bob's desktop cannot open it, nor index its name so).
    clock.advance(1_000);
    await onDesktop(a, (s) => s.createEntries([{ customer: 'Umbrella', title: 'Portal', password: 'portal-a' }]));
    await synced(a);
    const umbrella = await onDesktop(a, async (s) => (await s.listEntries()).find((e) => e.customer === 'Umbrella')?.customerId);
    const file = new Database(a.file, { readonly: true });
    const umbrellaId = uidText((file.prepare('SELECT uid FROM customers WHERE id = ?').get(umbrella) as { uid: Buffer }).uid);
    file.close();

    // Bob, offline: an entry under each name.
    clock.advance(1_000);
    await onDesktop(b, (s) => s.createEntries([{ customer: 'Hooli', title: 'Wiki', password: 'wiki-b' }, { customer: 'Umbrella', title: 'Mail', password: 'mail-b' }]));
    const before = wentOverIn(b.file);
    const told = await synced(b);
    // Carol's record of Hooli is gone over though she is disabled here now (before, it stayed set aside for that, and bob's Hooli with it).
    expect(told.customerWentOver).toMatch(/^A customer made here went over the team's record of its name \(carol's, whose name does not open here: /);
    expect(told.customerHeldBack).toBeUndefined();
    expect(wentOverIn(b.file)).toBe(before + 1);
    expect(await seenOn(b, 'Hooli')).toEqual({ customers: 1, titles: ['Wiki=wiki-b'], auditOk: true });
    // The owner's Umbrella does not open on bob's desktop either, but its index is not his name's: it stays the owner's, revision 1.
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const pulled = await (await teamClient(a)).call('syncPull', { vault, since: 0 });
    expect(pulled.more).toBe(false);
    expect(pulled.records.find((r) => r.record.id === umbrellaId)?.record).toMatchObject({ kind: 'customer', revision: 1 });
    expect(await seenOn(b, 'Umbrella')).toMatchObject({ customers: 1, titles: ['Mail=mail-b'] });
  }, 180_000);
});
