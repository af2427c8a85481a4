/**
 * A disabled user's backdated events (review round twelve (b), hole 3, on the desktop; the
 * reviewer's test kept). electron/vault/event-author.ts mayHaveWritten takes any event of a
 * disabled user whose signed time is before the disabling: mo, disabled, signs in on his desktop
 * (not told) with its clock set back to before even his own earlier events and reveals; those
 * events chain after his earlier ones (their device link proves they were written after them) yet
 * carry an earlier time. Relayed to an owner's desktop (the server now refuses that relay,
 * test/server/disabled-author-relay.test.ts; a dishonest server still could), they were taken.
 * store-audit.ts appendReceivedEvent now refuses an event dated before the event before it on its
 * own device chain (set aside): time does not go backwards along a chain, the one bound a desktop
 * checks without the server. FAILED on 52469c8 (['signin.ok', 'password.reveal'] taken).
 * Since the writer dates an event no earlier than its device's previous one (appendAudit: an
 * honest clock stepped back, test/integration/clock-step-back.test.ts), mo's real desktop no longer
 * writes a backdated event: the test asserts that, then forges what a modified client would send
 * (the same events dated back, signed again with mo's own key through the same signing text and
 * linked again along his chain), so the receiver's check is still what refuses them.
 * Real vault files exchanging records as JSON (as event-author-disabled.test does).
 * Must never: put a password in a process argument.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { REPLICA_FORMAT, type ReplicaRecord } from '../../shared/sync/records';
import { eventSigningText } from '../../shared/sync/signing-keys';
import { eventRecordSigningText, eventTextV3, isV3, recordV3Columns } from '../../electron/vault/audit-event-texts';
import { signBytes, type Signer } from '../../electron/vault/signing';
import { Vault } from '../../electron/vault/vault';
import { signerOf } from '../support/desktop-copies';
import { eventsBy, hexOf, MEMBER, MEMBER_PASSWORD, newPeopleWorld, OWNER, PASSWORD } from '../support/people-world';
import { manualClock } from '../support/vault';

type EventRec = Extract<ReplicaRecord, { kind: 'event' }>;

const linkOf = (signature: string | null): string => createHash('sha256').update(Buffer.from(signature ?? '', 'base64url')).digest('base64url');

/**
 * What a modified client sends: `events` (one device's, in chain order) dated `at`, each signed
 * again by `signer` through the text its author's desktop signs (v2 or v3, as the event is), and
 * each after the first linked to the one before it again (its signature changed).
 */
function backdated(events: readonly EventRec[], at: number, signer: Signer, vault: string): EventRec[] {
  const out: EventRec[] = [];
  for (const e of events) {
    const previous = out.at(-1);
    const unsigned: EventRec = { ...e, at, devicePrev: previous === undefined ? e.devicePrev : linkOf(previous.signature) };
    const v3 = recordV3Columns(unsigned);
    const text = isV3(v3) ? eventTextV3(vault, eventRecordSigningText(unsigned), v3) : eventSigningText(vault, eventRecordSigningText(unsigned));
    if (text === undefined) throw new Error('an event neither whole nor redacted');
    out.push({ ...unsigned, signature: signBytes(signer.privateKey, Buffer.from(text, 'utf8')).toString('base64url') });
  }
  return out;
}

describe('a disabled user backdating his events', () => {
  it('events a disabled user signs after the disabling with his clock set back (earlier than the event before them on his own device) are refused', async () => {
    const world = await newPeopleWorld({
      people: [{ name: MEMBER, role: 'technician', password: MEMBER_PASSWORD }],
      members: [MEMBER],
      desktops: [{ label: 'mo', name: MEMBER, password: MEMBER_PASSWORD }, { label: 'owner', name: OWNER, password: PASSWORD }, { label: 'new', name: OWNER, password: PASSWORD }],
    });
    const [moFile = '', ownerFile = '', newFile = ''] = world.files;
    const clock = world.clock as ReturnType<typeof manualClock>;
    const t0 = clock.now();

    // mo reveals at t0 + 10 min (taken: before the disabling).
    clock.set(t0 + 600_000);
    const mo = await Vault.open(moFile, clock).signIn(MEMBER, MEMBER_PASSWORD);
    const entry = (await mo.listEntries())[0];
    if (!entry) throw new Error('mo sees no entry');
    await mo.revealPassword(entry.id);
    const vault = await mo.replica.vaultId();
    const before = (await mo.replica.outgoing()).batch.records.filter((r): r is EventRec => r.kind === 'event' && r.actor !== null);
    await mo.close();

    // The owner disables him at t0 + 20 min.
    clock.set(t0 + 1_200_000);
    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    await owner.team.disableUser(MEMBER, await owner.team.userRevision(MEMBER));
    const disabling = (await owner.replica.outgoing()).batch.records.filter((r) => r.kind === 'user' && r.name === MEMBER && r.disabledAt !== null);
    await owner.close();

    // A day later, mo sets his desktop's clock back to t0 + 1 min (before his own reveal) and reveals again.
    clock.set(t0 + 86_400_000);
    const backClock = manualClock(t0 + 60_000);
    const late = await Vault.open(moFile, backClock).signIn(MEMBER, MEMBER_PASSWORD);
    await late.revealPassword(entry.id);
    const seen = new Set(before.map((e) => e.id));
    const written = (await late.replica.outgoing()).batch.records.filter((r): r is EventRec => r.kind === 'event' && r.actor !== null && !seen.has(r.id));
    const moKey = signerOf(late);
    expect(written.map((e) => e.action)).toEqual(['signin.ok', 'password.reveal']);
    // His real desktop dates them at his last event, not before it (appendAudit): time does not go back along its chain.
    const lastOnHisDevice = before.filter((e) => e.device === written[0]?.device).at(-1);
    const lastBefore = lastOnHisDevice?.at ?? 0;
    expect(lastBefore).toBe(t0 + 600_000);
    expect(written.map((e) => e.at)).toEqual([lastBefore, lastBefore]);
    // A modified client dates them at its clock, t0 + 1 min: each still follows mo's earlier events on
    // his device chain (the first links to his last one), signed with his key, and is dated before them.
    const forged = backdated(written, t0 + 60_000, moKey, vault);
    await late.close();
    expect(forged[0]?.devicePrev).toBe(linkOf(lastOnHisDevice?.signature ?? null));
    expect(forged.every((e) => e.at < lastBefore)).toBe(true);

    // Relayed to an owner's desktop: the disabling, mo's earlier events, the backdated ones.
    const batch = (records: readonly ReplicaRecord[]): unknown => JSON.parse(JSON.stringify({ format: REPLICA_FORMAT, vault, records })) as unknown;
    const desk = await Vault.open(newFile, clock).signIn(OWNER, PASSWORD);
    const outcome = await desk.replica.apply(batch([...disabling, ...before, ...forged]), { hold: true, caughtUp: true });
    await desk.close();
    expect(eventsBy(newFile, MEMBER)).toEqual(expect.arrayContaining(before.map((e) => hexOf(e.id))));
    // Not in the owner's log as mo's history from before his disabling: set aside, the chain's time going backwards named.
    const takenBackdated = forged.filter((e) => eventsBy(newFile, MEMBER).includes(hexOf(e.id)));
    expect(takenBackdated.map((e) => e.action)).toEqual([]);
    expect(outcome.held.find((h) => h.id === forged[0]?.id)?.reason).toMatch(/dated before the event before it on its own device/);
  });
});
