// Two replicas of one vault (a file copied onto a second desktop, given its own device id)
// hand each other their changes as replica records, through JSON as a server would carry
// them: new, edited and deleted entries, new customers and the signed events that record
// them. Both sides changing one entry keeps both versions; HOTP counters only move forward;
// a record that does not open, or an event whose signature does not hold, changes nothing.
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseOtpUri } from '../../shared/otp';
import type { ReplicaBatch } from '../../shared/sync/records';
import type { Outgoing } from '../../electron/vault/replica-service';
import type { VaultSession } from '../../electron/vault/service';
import { renewDeviceId } from '../../electron/vault/store-signing';
import { Vault } from '../../electron/vault/vault';
import { manualClock, newVault, OWNER, PASSWORD, tempFolder } from '../support/vault';

const TOTP = 'otpauth://totp/Acme:admin?secret=JBSWY3DPEHPK3PXP&issuer=Acme';
const HOTP = 'otpauth://hotp/Acme:vpn?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=5';

/** What crosses the wire: the batch as JSON text, parsed again on the other side. */
function wire(out: Outgoing): unknown {
  return JSON.parse(JSON.stringify(out.batch)) as unknown;
}

async function titles(session: VaultSession): Promise<string[]> {
  return (await session.listEntries()).map((e) => `${e.customer}/${e.title}`).sort();
}

async function idOf(session: VaultSession, path: string): Promise<number> {
  return (await session.resolvePath(path)).id;
}

/** Desktop B made from a copy of desktop A's file (a device of its own before anyone signs in there), both signed in as the owner and agreed. */
async function copiedDesktops(file: string, clock: ReturnType<typeof manualClock>) {
  const copy = path.join(tempFolder(), 'desktop-b.crewvault');
  copyFileSync(file, copy);
  const opened = Vault.open(copy, clock);
  await opened.store.write((w) => renewDeviceId(w)); // another desktop is another device
  await opened.close();
  const a = await Vault.open(file, clock).signIn(OWNER, PASSWORD);
  const b = await Vault.open(copy, clock).signIn(OWNER, PASSWORD);
  await a.replica.agreeAll();
  await b.replica.agreeAll();
  return { a, b, clock, files: [file, copy] as const };
}

/** Desktop A with a few entries, and desktop B made from a copy of its file, both signed in and agreed. */
async function twoDesktops() {
  const clock = manualClock();
  const { file, session: creating } = await newVault(clock);
  await creating.createEntries([
    { customer: 'Acme', title: 'M365 admin', username: 'admin@acme.test', password: 'pw-1', otp: { params: parseOtpUri(TOTP).params } },
    { customer: 'Acme', title: 'VPN', otp: { params: parseOtpUri(HOTP).params } },
    { customer: 'Acme', title: 'Firewall', password: 'fw-1' },
    { customer: 'Acme', title: 'Printer', password: 'pr-1' },
    { customer: 'Initech', title: 'Router', password: 'rt-1' },
  ]);
  await creating.close();
  return copiedDesktops(file, clock);
}

/** A's changes to B, acknowledged on A as delivered. */
async function deliver(from: VaultSession, to: VaultSession) {
  const out = await from.replica.outgoing();
  const outcome = await to.replica.apply(wire(out));
  await from.replica.markSent(out);
  return { out, outcome };
}

describe('replica records between two desktops', () => {
  it('carry new, edited and deleted entries and new customers, with the events that record them', async () => {
    const { a, b, clock } = await twoDesktops();
    clock.advance(1_000);
    await a.createEntry({ customer: 'Globex', title: 'Domain admin', username: 'da', password: 'g-pw', otp: { params: parseOtpUri(TOTP).params } });
    const fw = await a.resolvePath('Acme/Firewall');
    await a.updateEntry(fw.id, { password: 'fw-2', notes: 'rotated' }, fw.revision ?? -1);
    const printer = await a.resolvePath('Acme/Printer');
    await a.deleteEntry(printer.id, printer.revision ?? -1);

    const { out, outcome } = await deliver(a, b);
    // The changes, and A's own events (those B holds from the copy come again and are skipped).
    expect(out.batch.records.filter((r) => r.kind === 'customer' || r.kind === 'entry').map((r) => r.kind).sort()).toEqual(['customer', 'entry', 'entry', 'entry']);
    const events = out.batch.records.filter((r) => r.kind === 'event');
    expect(events.map((r) => r.action)).toEqual(expect.arrayContaining(['entry.create', 'entry.edit', 'entry.delete']));
    expect(outcome).toMatchObject({ applied: 4 + 3, conflictCopies: [] }); // 4 records and the 3 changes' events
    // Users, groups and members go out too (for the team server, which enforces them); a desktop takes
    // them in (here: held already, unchanged).
    const takenIn = out.batch.records.length;
    expect(out.batch.records.some((r) => r.kind === 'user' || r.kind === 'group' || r.kind === 'member')).toBe(true);
    expect(outcome.applied + outcome.unchanged).toBe(takenIn);
    expect(await titles(b)).toEqual(await titles(a));
    expect(await titles(b)).toContain('Globex/Domain admin');
    expect(await titles(b)).not.toContain('Acme/Printer');
    expect(await b.revealPassword(await idOf(b, 'Acme/Firewall'))).toBe('fw-2');
    expect((await b.getEntry(await idOf(b, 'Acme/Firewall'))).notes).toBe('rotated');
    // The same live code on both desktops, and B's revision of the entry is A's.
    const now = clock.now();
    expect((await b.otpCode(await idOf(b, 'Globex/Domain admin'), now)).code).toBe((await a.otpCode(await idOf(a, 'Globex/Domain admin'), now)).code);
    expect((await b.resolvePath('Acme/Firewall')).revision).toBe((await a.resolvePath('Acme/Firewall')).revision);
    // A's events are in B's log, signed by A's author, and B's whole log still verifies.
    expect((await b.verifyAuditLog()).chain).toMatchObject({ ok: true });
    expect((await b.auditLog()).filter((r) => r.action === 'entry.delete').length).toBe(1);
    // Nothing is sent twice; what B only received is not B's to send back.
    expect((await a.replica.outgoing()).batch.records.filter((r) => r.kind !== 'event')).toEqual([]);
    const back = await b.replica.outgoing();
    expect(back.batch.records.filter((r) => r.kind === 'customer' || r.kind === 'entry')).toEqual([]);
    const aDevice = events.find((r) => r.action === 'entry.create')?.device;
    expect(aDevice).toBeTruthy();
    expect(back.batch.records.filter((r) => r.kind === 'event' && r.device === aDevice)).toEqual([]);
    // Taking the same batch in again changes nothing.
    const again = await b.replica.apply(wire(out));
    expect(again).toMatchObject({ applied: 0, unchanged: takenIn });
  });

  it('keep both versions of an entry both desktops changed: the received one in place, the local one as a conflict copy', async () => {
    const { a, b, clock } = await twoDesktops();
    const onA = await a.resolvePath('Acme/Firewall');
    await a.updateEntry(onA.id, { password: 'from-a' }, onA.revision ?? -1);
    clock.advance(1_000);
    const onB = await b.resolvePath('Acme/Firewall');
    await b.updateEntry(onB.id, { password: 'from-b', username: 'b-admin' }, onB.revision ?? -1);

    const { outcome } = await deliver(a, b);
    expect(outcome.conflictCopies.map((c) => c.title)).toEqual(['Firewall (conflict copy)']);
    expect(await b.revealPassword(await idOf(b, 'Acme/Firewall'))).toBe('from-a');
    const copy = await b.resolvePath('Acme/Firewall (conflict copy)');
    expect(await b.revealPassword(copy.id)).toBe('from-b');
    expect(copy.username).toBe('b-admin');
    expect((await b.auditLog()).some((r) => r.action === 'entry.conflict_copy')).toBe(true);

    // B's copy travels back; both desktops then hold the same entries.
    await deliver(b, a);
    expect(await titles(a)).toEqual(await titles(b));
    expect(await a.revealPassword(await idOf(a, 'Acme/Firewall (conflict copy)'))).toBe('from-b');
    expect((await a.verifyAuditLog()).chain).toMatchObject({ ok: true });
    expect((await b.verifyAuditLog()).chain).toMatchObject({ ok: true });
  });

  it('let a delete lose to an edit made beside it, the edit kept as a copy', async () => {
    const { a, b } = await twoDesktops();
    const onA = await a.resolvePath('Initech/Router');
    await a.deleteEntry(onA.id, onA.revision ?? -1);
    const onB = await b.resolvePath('Initech/Router');
    await b.updateEntry(onB.id, { password: 'rt-2' }, onB.revision ?? -1);
    const { outcome } = await deliver(a, b);
    expect(outcome.conflictCopies.map((c) => c.title)).toEqual(['Router (conflict copy)']);
    expect(await titles(b)).not.toContain('Initech/Router');
    expect(await b.revealPassword(await idOf(b, 'Initech/Router (conflict copy)'))).toBe('rt-2');
  });

  it('move HOTP counters only forward: codes used on either desktop are never shown again', async () => {
    const { a, b } = await twoDesktops();
    const usedOnA = (await a.otpCode(await idOf(a, 'Acme/VPN'))).code; // counter 5 → 6
    const usedOnB = [(await b.otpCode(await idOf(b, 'Acme/VPN'))).code, (await b.otpCode(await idOf(b, 'Acme/VPN'))).code]; // 5 → 7
    const { outcome } = await deliver(a, b);
    expect(outcome).toMatchObject({ countersMerged: 1, conflictCopies: [] });
    await deliver(b, a);
    expect(await titles(a)).toEqual(await titles(b));
    const nextOnA = (await a.otpCode(await idOf(a, 'Acme/VPN'))).code;
    const nextOnB = (await b.otpCode(await idOf(b, 'Acme/VPN'))).code;
    expect(nextOnA).toBe(nextOnB); // both at counter 7
    for (const used of [usedOnA, ...usedOnB]) expect(nextOnA).not.toBe(used);
  });

  it('refuse a batch a relay changed, that is not signed by its sender, or is of another vault, changing nothing', async () => {
    const { a, b, clock } = await twoDesktops();
    await a.createEntry({ customer: 'Acme', title: 'New', password: 'n-pw' });
    const out = await a.replica.outgoing();
    const before = await titles(b);
    const seqBefore = (await b.replica.outgoing()).upToSeq;
    const tamper = (change: (batch: ReplicaBatch) => ReplicaBatch): unknown => change(JSON.parse(JSON.stringify(out.batch)) as ReplicaBatch);
    const flip = (text: string): string => {
      const bytes = Buffer.from(text, 'base64url');
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
      return bytes.toString('base64url');
    };
    const cases: Array<[string, unknown, string]> = [
      ['a flipped bit in a sealed summary', tamper((batch) => ({ ...batch, records: batch.records.map((r) => (r.kind === 'entry' ? { ...r, sealedSummary: flip(r.sealedSummary) } : r)) })), 'VAULT_TAMPERED'],
      ['an event changed after it was signed', tamper((batch) => ({ ...batch, records: batch.records.map((r) => (r.kind === 'event' ? { ...r, at: r.at + 1 } : r)) })), 'VAULT_TAMPERED'],
      ['an event without its signature', tamper((batch) => ({ ...batch, records: batch.records.map((r) => (r.kind === 'event' ? { ...r, signature: null } : r)) })), 'VAULT_TAMPERED'],
      ['another vault', tamper((batch) => ({ ...batch, vault: '0'.repeat(32) })), 'INVALID_INPUT'],
      ['not a batch', { format: 1, vault: 'x', records: [{ kind: 'entry', id: 'nope' }] }, 'INVALID_INPUT'],
      ['a record moved to another group by the relay', tamper((batch) => ({ ...batch, records: batch.records.map((r) => (r.kind === 'entry' ? { ...r, group: '01890000-0000-7000-8000-000000000000' } : r)) })), 'VAULT_TAMPERED'],
      ['a revision raised by the relay', tamper((batch) => ({ ...batch, records: batch.records.map((r) => (r.kind === 'entry' ? { ...r, revision: r.revision + 5 } : r)) })), 'VAULT_TAMPERED'],
      ['a record made a tombstone by the relay', tamper((batch) => ({ ...batch, records: batch.records.map((r) => (r.kind === 'entry' ? { ...r, deletedAt: 1, lookup: '', sealedSummary: '', sealedDetails: '' } : r)) })), 'VAULT_TAMPERED'],
      ['a tombstone that keeps something sealed', tamper((batch) => ({ ...batch, records: batch.records.map((r) => (r.kind === 'entry' ? { ...r, deletedAt: 1 } : r)) })), 'INVALID_INPUT'],
      ['an object twice in one batch', tamper((batch) => ({ ...batch, records: [...batch.records, ...batch.records.filter((r) => r.kind === 'entry')] })), 'INVALID_INPUT'],
      ['a record passed off as another sender\'s', tamper((batch) => ({ ...batch, records: batch.records.map((r) => (r.kind === 'entry' ? { ...r, author: '01890000-0000-7000-8000-000000000001' } : r)) })), 'CONFLICT'],
    ];
    for (const [what, batch, code] of cases) {
      await expect(b.replica.apply(batch), what).rejects.toThrow(expect.objectContaining({ code }));
      expect(await titles(b), what).toEqual(before);
      expect((await b.replica.outgoing()).upToSeq, what).toBe(seqBefore);
    }
    expect((await b.verifyAuditLog()).chain).toMatchObject({ ok: true });
    // The untouched batch still applies afterwards.
    clock.advance(1);
    expect((await b.replica.apply(wire(out))).applied).toBeGreaterThan(0);
    expect(await titles(b)).toContain('Acme/New');
  });

  it('ignore an older record played again: no rollback, no undelete, no copy', async () => {
    const { a, b } = await twoDesktops();
    const fw = await a.resolvePath('Acme/Firewall');
    await a.updateEntry(fw.id, { password: 'fw-2' }, fw.revision ?? -1);
    const first = (await deliver(a, b)).out;
    const again = await a.resolvePath('Acme/Firewall');
    await a.deleteEntry(again.id, again.revision ?? -1);
    await deliver(a, b);
    expect(await titles(b)).not.toContain('Acme/Firewall');
    // B edits something of its own, then the first batch comes again.
    const router = await b.resolvePath('Initech/Router');
    await b.updateEntry(router.id, { password: 'rt-b' }, router.revision ?? -1);
    const replay = await b.replica.apply(wire(first));
    expect(replay).toMatchObject({ applied: 0, conflictCopies: [] });
    expect(await titles(b)).not.toContain('Acme/Firewall');
    expect(await b.revealPassword(await idOf(b, 'Initech/Router'))).toBe('rt-b');
  });

  it('send only what the person syncing may vouch for; the rest waits for someone who may', async () => {
    const clock = manualClock();
    const { file, session: owner } = await newVault(clock);
    const secret = await owner.team.createGroup('Secret');
    await owner.createEntry({ customer: 'Acme', title: 'Vault root', password: 'root-1', groupId: secret.id });
    await owner.createUser('tom', 'technician', 'tom one-time password 1');
    await owner.close();
    // Tom's first sign-in makes his signing key; the copy is made after it, so both desktops have it.
    await (await Vault.open(file, clock).signIn('tom', 'tom one-time password 1')).close();
    const { a, b } = await copiedDesktops(file, clock);
    const root = await a.resolvePath('Acme/Vault root');
    await a.updateEntry(root.id, { password: 'root-2' }, root.revision ?? -1);
    a.lock();
    // Tom (not in Secret) syncs desktop A: the owner's change is not his to vouch for.
    const tom = await Vault.open(file, clock).signIn('tom', 'tom one-time password 1');
    const byTom = await tom.replica.outgoing();
    expect(byTom.batch.records.filter((r) => r.kind === 'entry')).toEqual([]);
    // Delivered, then marked sent (as a sync does): this desktop's events went with it, the owner's edit's too (their own
    // sent mark: a change left out holds back no event of a change the team holds, store-events-sent.ts).
    await b.replica.apply(wire(byTom));
    await tom.replica.markSent(byTom);
    tom.lock();
    // The owner's own sync sends it after all.
    const ownerAgain = await Vault.open(file, clock).signIn(OWNER, PASSWORD);
    const byOwner = await ownerAgain.replica.outgoing();
    expect(byOwner.batch.records.filter((r) => r.kind === 'entry').length).toBe(1);
    await b.replica.apply(wire(byOwner));
    expect(await b.revealPassword(await idOf(b, 'Acme/Vault root'))).toBe('root-2');
  });

  it('bring a group made on the other desktop with its key and entries (replica-people-new.ts)', async () => {
    const { a, b } = await twoDesktops();
    const group = await a.team.createGroup('Made on A');
    await a.createEntry({ customer: 'Acme', title: 'In the new group', password: 'x', groupId: group.id });
    const outcome = await b.replica.apply(wire(await a.replica.outgoing()));
    expect(outcome.held).toEqual([]);
    expect((await b.team.listGroups()).map((g) => g.name)).toContain('Made on A');
    expect(await b.revealPassword(await idOf(b, 'Acme/In the new group'))).toBe('x');
  });

  it('refuse a signing key that introduces itself from elsewhere (a relay or member could plant one to speak for someone)', async () => {
    const clock = manualClock();
    const { file, session: owner } = await newVault(clock);
    await owner.createUser('una', 'technician', 'una one-time password 1');
    await owner.close();
    const { a, b } = await copiedDesktops(file, clock);
    a.lock();
    // Una's first sign-in anywhere is on A: her key vouches for itself there, and only there.
    const una = await Vault.open(file, clock).signIn('una', 'una one-time password 1');
    const out = await una.replica.outgoing();
    // Her key is not sent (it counts only where it was made), so her events wait on B.
    expect(out.batch.records.some((r) => r.kind === 'signing_key')).toBe(false);
    const before = (await b.auditLog()).length;
    await expect(b.replica.apply(wire(out))).rejects.toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    // Sent anyway (by a relay, or a member making one up in her name), it is refused.
    const keyRow = (await Vault.open(file, clock).store.read((r) => r.prepare("SELECT k.uid, k.public_key, k.created_at, u.uid AS user_uid FROM signing_keys k JOIN users u ON u.id = k.user_id WHERE u.name = 'una'").get())) as { uid: Buffer; public_key: Buffer; created_at: number; user_uid: Buffer };
    const text = (uid: Buffer): string => uid.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
    const planted = {
      ...out.batch,
      records: [{ kind: 'signing_key', id: text(keyRow.uid), user: text(keyRow.user_uid), publicKey: keyRow.public_key.toString('base64url'), createdAt: keyRow.created_at, certifiedBy: null, certificate: null, binding: null }, ...out.batch.records],
    };
    await expect(b.replica.apply(planted)).rejects.toThrow(/no owner vouched for/);
    expect((await b.auditLog()).length).toBe(before);
    expect((await b.verifyAuditLog()).chain).toMatchObject({ ok: true });
  });

  it('raise no false alarm when someone signs in again on a desktop that took in another\'s sign-ins', async () => {
    const { a, b, clock, files } = await twoDesktops();
    await deliver(a, b);
    await deliver(b, a);
    clock.advance(60_000);
    a.lock();
    b.lock();
    const again = await Promise.all(files.map((file) => Vault.open(file, clock).signIn(OWNER, PASSWORD)));
    for (const session of again) expect(session.auditAnchorAtSignIn).toMatchObject({ ok: true });
  });

  it('mark everything agreed only on a fresh copy (it would lose what was not sent)', async () => {
    const { a } = await twoDesktops();
    await expect(a.replica.agreeAll()).rejects.toThrow(expect.objectContaining({ code: 'CONFLICT' }));
  });
});
