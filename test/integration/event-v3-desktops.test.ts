/**
 * Event signatures v3 on desktops (#15, docs/SYNC.md "Events of groups one does not hold"): once the
 * team server says it takes v3 (its schema), desktops sign their events over a header and a body
 * digest, and a member who does not hold an event's group receives it redacted, checks its
 * signature, chains through it and keeps it so. A real server (PGlite, loopback HTTP), the real
 * `crewvault sync` and `audit verify` code, real vault files (test/support/team-desktops.ts: bob in
 * Ops, carol in the default group only). Tampered pages are handed to copies of the desktops' files
 * through the replica's own apply, as a dishonest server would hand them.
 * Must never: put a password in a process argument (answers go on the scripted stdin).
 */
import { createHash } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { REDACTED_DETAIL } from '../../electron/vault/audit-reading';
import { uidText } from '../../electron/vault/ids';
import { receivedEventBytes } from '../../electron/vault/replica-service';
import { storedEventBytes } from '../../electron/vault/store-audit';
import { Vault } from '../../electron/vault/vault';
import { DEVICE_HEADER } from '../../shared/api/server-contract';
import { eventBodyDigest } from '../../shared/sync/event-v3';
import type { RecordBatch } from '../../shared/sync/record-batches';
import type { EventRecord, ReplicaRecord } from '../../shared/sync/records';
import { BOB, BOB_PASSWORD, CAROL, CAROL_PASSWORD, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { FAST_KDF, manualClock, OWNER, PASSWORD, tempVaultPath } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 9, 0, 0));
const world = useTeamDesktops('crewvault-event-v3', clock);
const { a, a2, b, c, onDesktop, cli, sync, teamClient, setPassword } = world;
const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** What the server hands a desktop's person from `since`, as the raw HTTP body and as records. */
async function rawPull(d: Desktop, vault: string, since = 0): Promise<{ readonly body: string; readonly records: ReplicaRecord[]; readonly batches: RecordBatch[] }> {
  const client = await teamClient(d);
  const reply = await fetch(new URL('/v1/sync/pull', world.server.url), {
    method: 'POST', body: JSON.stringify({ vault, since }),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${client.tokens?.accessToken ?? ''}`, [DEVICE_HEADER]: client.deviceId },
  });
  const body = await reply.text();
  const parsed = JSON.parse(body) as { value?: { records: Array<{ record: ReplicaRecord }>; batches?: RecordBatch[] } };
  return { body, records: (parsed.value?.records ?? []).map((r) => r.record), batches: parsed.value?.batches ?? [] };
}

function rows<T>(file: string, sql: string): T[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], T>(sql).all();
  } finally {
    db.close();
  }
}

const uidHex = (uid: Buffer): string => uid.toString('hex');
const isEvent = (r: ReplicaRecord): r is EventRecord => r.kind === 'event';

/** A copy of a desktop's file, signed in as its person: tampered pages go there, never to the desktop itself. */
async function onCopy<T>(d: Desktop, work: (session: Awaited<ReturnType<Vault['signIn']>>, file: string) => Promise<T>): Promise<T> {
  const file = tempVaultPath();
  copyFileSync(d.file, file);
  const [user, password] = d.person === 'bob' ? [BOB, BOB_PASSWORD] : [CAROL, CAROL_PASSWORD];
  const session = await Vault.open(file, clock).signIn(user, password);
  try {
    return await work(session, file);
  } finally {
    await session.close();
  }
}

/** The audit chain of a desktop's file as `crewvault audit verify` checks it (no sign-in: technicians hold no audit.read). */
async function chainOf(file: string): Promise<Awaited<ReturnType<Vault['verifyAudit']>>> {
  const vault = Vault.open(file, clock);
  try {
    return await vault.verifyAudit();
  } finally {
    await vault.close();
  }
}

const auditRows = (file: string): number => rows<{ n: number }>(file, 'SELECT count(*) AS n FROM audit_log')[0]?.n ?? 0;

describe('event signatures v3 between desktops and the team server', () => {
  it('a member of one group syncs while another group\'s entries are edited: those ids reach them nowhere, their chain is whole, nothing set aside, audit verify counts the redacted', async () => {
    // Every desktop learnt at its first sync that this server takes v3.
    for (const d of [a, b, c]) expect(rows<{ value: string }>(d.file, "SELECT value FROM meta WHERE key = 'event_signatures'"), d.name).toEqual([{ value: 'v3' }]);
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const heldBefore = rows<{ n: number }>(c.file, 'SELECT count(*) AS n FROM replica_held')[0]?.n ?? 0;

    // The owner edits Ops (which carol does not hold): a password, and a new entry.
    await setPassword(a, 'Acme/Switch', 's-2');
    const core = await onDesktop(a, (s) => s.createEntry({ customer: 'Acme', title: 'Core router', password: 'cr-1', groupId: world.opsId }));
    expect((await sync(a)).code).toBe('ok');
    const coreUid = rows<{ uid: Buffer }>(a.file, `SELECT uid FROM entries WHERE id = ${core.id}`)[0]?.uid;
    const opsUid = rows<{ uid: Buffer }>(a.file, `SELECT uid FROM access_groups WHERE id = ${world.opsId}`)[0]?.uid;
    if (!coreUid || !opsUid) throw new Error('no ids');
    const v3OfOps = rows<{ uid: Buffer }>(a.file, `SELECT uid FROM audit_log WHERE scope IS NOT NULL AND group_id = ${world.opsId}`);
    expect(v3OfOps.length).toBeGreaterThanOrEqual(2);

    // What carol's person is handed: the new entry's id nowhere, Ops named by no event.
    const forCarol = await rawPull(c, vault);
    expect(forCarol.body).not.toContain(uidText(coreUid));
    // Events signed before the server took v3 (the move's, v2) name their ids as before: every v3 one names no Ops id.
    for (const e of forCarol.records.filter(isEvent).filter((r) => r.scope !== undefined)) expect(JSON.stringify(e)).not.toContain(uidText(opsUid));
    const handed = forCarol.records.filter(isEvent).filter((e) => v3OfOps.some((r) => uidText(r.uid) === e.id));
    expect(handed.length).toBe(v3OfOps.length);
    for (const e of handed) expect(e).toMatchObject({ entry: null, group: null, subject: null, sealedDetail: null });
    for (const e of handed) expect(e.bodyDigest).toMatch(/^[0-9a-f]{64}$/);

    // Carol's desktop takes them redacted, sets nothing aside, and her log verifies with the count.
    expect((await sync(c)).code).toBe('ok');
    expect(rows<{ n: number }>(c.file, 'SELECT count(*) AS n FROM replica_held')[0]?.n ?? 0).toBe(heldBefore);
    const redactedHere = rows<{ uid: Buffer; entry_id: number | null; group_id: number | null; body_digest: Buffer | null }>(c.file, 'SELECT uid, entry_id, group_id, body_digest FROM audit_log WHERE scope IS NOT NULL AND body_salt IS NULL');
    expect(redactedHere.map((r) => uidHex(r.uid)).sort()).toEqual(v3OfOps.map((r) => uidHex(r.uid)).sort());
    for (const r of redactedHere) expect(r).toMatchObject({ entry_id: null, group_id: null });
    // The worker pre-check works out the very bytes the transaction checks and verification re-checks (a memo hit, never a weaker check).
    const file = new Database(c.file, { readonly: true });
    try {
      for (const e of handed) {
        const row = file.prepare<[Buffer], { id: number }>('SELECT id FROM audit_log WHERE uid = ?').get(Buffer.from(e.id.replaceAll('-', ''), 'hex'));
        expect(receivedEventBytes(vault, e).equals(storedEventBytes(file as never, row?.id ?? 0))).toBe(true);
      }
    } finally {
      file.close();
    }
    expect(await chainOf(c.file)).toMatchObject({ ok: true, redacted: redactedHere.length });
    // The audit screen's rows (audit.list): read on a copy of carol's file by someone with audit.read, the redacted ones say so.
    const copy = tempVaultPath();
    copyFileSync(c.file, copy);
    const reader = await Vault.open(copy, clock).signIn(OWNER, PASSWORD);
    try {
      const listed = await reader.auditLog(100_000);
      expect(listed.filter((r) => r.detail === REDACTED_DETAIL).length).toBe(redactedHere.length);
    } finally {
      await reader.close();
    }
    const out = await cli(c, ['audit', 'verify', '--vault', c.file], []);
    expect(out.stdout).toContain(`${redactedHere.length} events of groups you do not hold: verified by signature, body not held.`);
    const onServer = await cli(c, ['audit', 'verify', '--server', world.server.url, '--vault', c.file, '--user', CAROL], [CAROL_PASSWORD]);
    expect(onServer.stdout).toMatch(/Audit history on .* intact/);
    expect(onServer.stdout).toMatch(/\d+ events? of groups you do not hold: verified by signature, body not held\./);

    // Bob, who holds Ops, takes them whole; the owner's audit verify --server checks every body.
    expect((await sync(b)).code).toBe('ok');
    expect(rows<{ n: number }>(b.file, 'SELECT count(*) AS n FROM audit_log WHERE scope IS NOT NULL AND body_salt IS NULL')[0]?.n).toBe(0);
    expect(await chainOf(b.file)).toEqual({ ok: true, rows: auditRows(b.file) });
    const owner = await cli(a, ['audit', 'verify', '--server', world.server.url, '--vault', a.file, '--user', OWNER], [PASSWORD]);
    expect(owner.stdout).toMatch(/Audit history on .* intact/);
    expect(owner.stdout).not.toContain('groups you do not hold');
  }, 120_000);

  it('a server that redacts an event for someone who holds its group, a forged body, a swapped digest and a redacted event of no group are each set aside, the log unchanged', async () => {
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const mark = clock.now();
    // New events bob and carol have not taken yet: an edit in Ops, and a user made (an event of no group).
    await setPassword(a, 'Acme/Firewall', 'f-2');
    await onDesktop(a, (s) => s.createUser('dave', 'technician', 'a one-time password for dave', FAST_KDF));
    expect((await sync(a)).code).toBe('ok');
    const pageOf = async (d: Desktop): Promise<Awaited<ReturnType<typeof rawPull>>> => rawPull(d, vault, rows<{ pulled_seq: number }>(d.file, 'SELECT pulled_seq FROM replica_state WHERE id = 1')[0]?.pulled_seq ?? 0);
    const pages = { b: await pageOf(b), c: await pageOf(c) };
    // The owner's events of this test, as bob (who holds Ops) is handed them: whole.
    const events = pages.b.records.filter(isEvent).filter((e) => e.at >= mark && e.scope !== undefined && e.bodySalt !== undefined);
    const ofOps = events.find((e) => e.action === 'entry.update' || e.entry !== null);
    const ofNoGroup = events.find((e) => e.group === null && e.entry === null);
    if (!ofOps || !ofNoGroup) throw new Error(`no v3 events to tamper with: ${events.map((e) => e.action).join(', ')}`);
    const redact = (e: EventRecord): EventRecord => {
      const digest = eventBodyDigest(vault, e.id, {
        saltHex: e.bodySalt ?? '', subject: e.subject, entry: e.entry, customer: e.customer, group: e.group,
        sealedDetailBase64: e.sealedDetail === null ? null : Buffer.from(e.sealedDetail, 'base64url').toString('base64'),
      }, sha256Hex);
      const redacted: EventRecord = { ...e, subject: null, entry: null, customer: null, group: null, sealedDetail: null, bodyDigest: digest };
      delete redacted.bodySalt;
      return redacted;
    };
    const tryOn = async (d: Desktop, forged: EventRecord): Promise<string[]> => onCopy(d, async (s, file) => {
      // The page as the server handed this person, this one event in its place changed.
      const page = d === b ? pages.b : pages.c;
      expect(page.records.some((r) => r.id === forged.id)).toBe(true);
      const outcome = await s.replica.applyPulled(vault, page.records.map((r) => (isEvent(r) && r.id === forged.id ? forged : r)), { hold: true }, page.batches);
      // The forged event is not in the log; the rest of the page is, and the chain holds.
      expect(rows<{ id: Buffer }>(file, 'SELECT uid AS id FROM audit_log').some((r) => uidText(r.id) === forged.id)).toBe(false);
      // Set aside: that event, and only the later events of its device that can no longer follow it.
      for (const h of outcome.held.filter((x) => x.id !== forged.id)) expect(h.reason).toMatch(/does not follow the last event/);
      return outcome.held.filter((h) => h.id === forged.id).map((h) => h.reason);
    });
    // Bob holds Ops: a redacted Ops event was withheld from him.
    const withheld = await tryOn(b, redact(ofOps));
    expect(withheld.join(' ')).toMatch(/withheld/);
    // A forged body under the real header (the entry's detail swapped for the other event's).
    const forged = await tryOn(b, { ...ofOps, subject: 'forged' });
    expect(forged.join(' ')).toMatch(/does not hold under its author's signature/);
    // Carol does not hold Ops: its redacted event with another event's digest does not hold.
    const swapped = await tryOn(c, { ...redact(ofOps), bodyDigest: redact(ofNoGroup).bodyDigest ?? '' });
    expect(swapped.join(' ')).toMatch(/does not hold under its author's signature/);
    // An event of no group redacted: every member is owed it whole.
    const noGroup = await tryOn(c, redact(ofNoGroup));
    expect(noGroup.join(' ')).toMatch(/names no group/);
    // The real pages then sync, nothing set aside.
    for (const d of [b, c]) expect((await sync(d)).code, d.name).toBe('ok');
    for (const d of [b, c]) expect((await chainOf(d.file)).ok, d.name).toBe(true);
  }, 120_000);

  it('an old desktop\'s v2 events and a new desktop\'s v3 events interleave on one server and both verify', async () => {
    // a2 plays an older desktop: it signs v2 (no switch recorded) until its sync learns the server takes v3.
    const db = new Database(a2.file);
    db.prepare("DELETE FROM meta WHERE key = 'event_signatures'").run();
    db.close();
    await setPassword(a2, 'Acme/Printer', 'p-2');
    await setPassword(a, 'Acme/Switch', 's-3');
    expect(rows<{ n: number }>(a2.file, 'SELECT count(*) AS n FROM audit_log WHERE signature IS NOT NULL AND scope IS NULL AND id > (SELECT max(id) - 2 FROM audit_log)')[0]?.n).toBeGreaterThan(0);
    expect((await sync(a)).code).toBe('ok');
    expect((await sync(a2)).code).toBe('ok');
    await setPassword(a2, 'Acme/Printer', 'p-3');
    expect((await sync(a2)).code).toBe('ok');
    expect(rows<{ n: number }>(a2.file, "SELECT count(*) AS n FROM audit_log WHERE scope IS NOT NULL AND body_salt IS NOT NULL AND action LIKE 'entry.%'")[0]?.n).toBeGreaterThan(0);
    for (const d of [a, b, c]) expect((await sync(d)).code, d.name).toBe('ok');
    for (const d of [a, a2, b, c]) expect((await chainOf(d.file)).ok, d.name).toBe(true);
    const owner = await cli(a, ['audit', 'verify', '--server', world.server.url, '--vault', a.file, '--user', OWNER], [PASSWORD]);
    expect(owner.stdout).toMatch(/Audit history on .* intact/);
  }, 120_000);
});
