/**
 * Review round twelve (b), probes of event signatures v3 on desktops that HELD (#15, docs/SYNC.md
 * "Events of groups one does not hold"): a server that re-tags an event's scope to hand it redacted
 * to someone who holds its group (the scope is in the signed header: refused, set aside, the log
 * without it), a server that re-tags a whole event's scope to a group the receiver holds (refused),
 * and the body salt fresh for every event this desktop signs (16 bytes, never repeated), so a body
 * of known ids cannot be confirmed from its digest; a whole v3 row's body changed in the file, every
 * hash recomputed, fails `audit verify` by its signature. A real server (PGlite, loopback HTTP), real vault
 * files, the replica's own apply on copies of the desktops' files (test/support/team-desktops.ts:
 * bob in Ops, carol in the default group only). Review holes found alongside: /tmp/review12b-holes.
 * Must never: put a password in a process argument, or apply a tampered page to a desktop's own file.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { uidText } from '../../electron/vault/ids';
import { scopeHashes } from '../../electron/vault/audit-event-texts';
import { Vault } from '../../electron/vault/vault';
import { DEVICE_HEADER } from '../../shared/api/server-contract';
import { eventBodyDigest, eventScope } from '../../shared/sync/event-v3';
import type { RecordBatch } from '../../shared/sync/record-batches';
import type { EventRecord, ReplicaRecord } from '../../shared/sync/records';
import { rechainAuditFrom } from '../support/audit-forger';
import { BOB, BOB_PASSWORD, CAROL, CAROL_PASSWORD, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock, tempVaultPath } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 9, 0, 0));
const world = useTeamDesktops('crewvault-review-twelve-v3', clock);
const { a, b, c, onDesktop, sync, teamClient, setPassword } = world;
const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const isEvent = (r: ReplicaRecord): r is EventRecord => r.kind === 'event';

function rows<T>(file: string, sql: string): T[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], T>(sql).all();
  } finally {
    db.close();
  }
}

/** What the server hands a desktop's person after what its file has pulled. */
async function pageOf(d: Desktop, vault: string): Promise<{ readonly records: ReplicaRecord[]; readonly batches: RecordBatch[] }> {
  const since = rows<{ pulled_seq: number }>(d.file, 'SELECT pulled_seq FROM replica_state WHERE id = 1')[0]?.pulled_seq ?? 0;
  const client = await teamClient(d);
  const reply = await fetch(new URL('/v1/sync/pull', world.server.url), {
    method: 'POST', body: JSON.stringify({ vault, since }),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${client.tokens?.accessToken ?? ''}`, [DEVICE_HEADER]: client.deviceId },
  });
  const parsed = JSON.parse(await reply.text()) as { value?: { records: Array<{ record: ReplicaRecord }>; batches?: RecordBatch[] } };
  return { records: (parsed.value?.records ?? []).map((r) => r.record), batches: parsed.value?.batches ?? [] };
}

/** The page applied on a copy of `d`'s file with one event replaced: why that event was set aside, and whether the log took it. */
async function handedOnCopy(d: Desktop, vault: string, page: Awaited<ReturnType<typeof pageOf>>, forged: EventRecord): Promise<{ readonly reasons: string[]; readonly inLog: boolean }> {
  const file = tempVaultPath();
  copyFileSync(d.file, file);
  const [user, password] = d.person === 'bob' ? [BOB, BOB_PASSWORD] : [CAROL, CAROL_PASSWORD];
  const session = await Vault.open(file, clock).signIn(user, password);
  try {
    expect(page.records.some((r) => r.id === forged.id)).toBe(true);
    const outcome = await session.replica.applyPulled(vault, page.records.map((r) => (isEvent(r) && r.id === forged.id ? forged : r)), { hold: true }, page.batches);
    const inLog = rows<{ uid: Buffer }>(file, 'SELECT uid FROM audit_log').some((r) => uidText(r.uid) === forged.id);
    return { reasons: outcome.held.filter((h) => h.id === forged.id).map((h) => h.reason), inLog };
  } finally {
    await session.close();
  }
}

const digestOf = (vault: string, e: EventRecord): string => eventBodyDigest(vault, e.id, {
  saltHex: e.bodySalt ?? '', subject: e.subject, entry: e.entry, customer: e.customer, group: e.group,
  sealedDetailBase64: e.sealedDetail === null ? null : Buffer.from(e.sealedDetail, 'base64url').toString('base64'),
}, sha256Hex);

describe('review round twelve (b): v3 probes that held', () => {
  it('a server re-tagging an event\'s scope cannot hide it from a holder (redacted under another tag) nor re-file it whole under a group the receiver holds', async () => {
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const mark = clock.now();
    await setPassword(a, 'Acme/Firewall', 'f-12');
    expect((await sync(a)).code).toBe('ok');
    const forBob = await pageOf(b, vault);
    const opsEvent = forBob.records.filter(isEvent).find((e) => e.at >= mark && e.scope !== undefined && e.bodySalt !== undefined && e.entry !== null);
    if (!opsEvent) throw new Error('no whole v3 Ops event for bob');
    // Redacted for bob under a tag of no group he holds (a random group id): the signed header names the real tag.
    const { bodySalt: _salt, ...header } = opsEvent;
    void _salt;
    const retagged: EventRecord = { ...header, subject: null, entry: null, customer: null, group: null, sealedDetail: null, bodyDigest: digestOf(vault, opsEvent), scope: eventScope(vault, opsEvent.id, { key: randomBytes(32).toString('hex'), group: randomUUID() }, scopeHashes) };
    const hidden = await handedOnCopy(b, vault, forBob, retagged);
    expect(hidden.inLog).toBe(false);
    expect(hidden.reasons.join(' ')).toMatch(/does not hold under its author's signature/);
    // The control: the same event redacted under its real tag is what carol (who does not hold Ops) is owed, and taken.
    const forCarol = await pageOf(c, vault);
    const real = await handedOnCopy(c, vault, forCarol, { ...retagged, scope: opsEvent.scope ?? '' });
    expect(real).toEqual({ reasons: [], inLog: true });
    // Whole for carol under another tag (one keyed as a group of hers would be): the signed tag is not this one.
    const refiled: EventRecord = { ...opsEvent, scope: eventScope(vault, opsEvent.id, { key: randomBytes(32).toString('hex'), group: opsEvent.group ?? '' }, scopeHashes) };
    const asHers = await handedOnCopy(c, vault, forCarol, refiled);
    expect(asHers.inLog).toBe(false);
    expect(asHers.reasons.length).toBe(1);
    // The real pages then sync, nothing set aside.
    for (const d of [b, c]) expect((await sync(d)).code, d.name).toBe('ok');
  }, 120_000);

  it('every event a desktop signs v3 carries a fresh 16-byte salt, so its digest does not confirm a guessed body', async () => {
    for (const [customer, title] of [['Acme', 'Switch'], ['Acme', 'Firewall'], ['Acme', 'Switch']] as const) await setPassword(a, `${customer}/${title}`, `p-${clock.now()}`);
    const salts = rows<{ s: Buffer }>(a.file, 'SELECT body_salt AS s FROM audit_log WHERE body_salt IS NOT NULL').map((r) => r.s);
    expect(salts.length).toBeGreaterThanOrEqual(3);
    for (const s of salts) expect(s.length).toBe(16);
    expect(new Set(salts.map((s) => s.toString('hex'))).size).toBe(salts.length);
  }, 120_000);

  it('a whole v3 row whose body is changed in the file (another entry named, every hash and the head recomputed) fails audit verify at that row', async () => {
    await setPassword(a, 'Acme/Firewall', `f-${clock.now()}`);
    const file = tempVaultPath();
    copyFileSync(a.file, file);
    type Row = { id: number; at: number; actor_id: number | null; action: string; subject: string | null; entry_id: number | null; customer_id: number | null; group_id: number | null; sealed_detail: Buffer | null; prev_hash: Buffer; scope: Buffer | null; body_salt: Buffer | null; body_digest: Buffer | null };
    const db = new Database(file);
    let victimId: number | undefined;
    try {
      const victim = db.prepare<[], Row>('SELECT * FROM audit_log WHERE scope IS NOT NULL AND body_salt IS NOT NULL AND entry_id IS NOT NULL ORDER BY id DESC LIMIT 1').get();
      const other = db.prepare<[number], { id: number }>('SELECT id FROM entries WHERE id <> ? ORDER BY id LIMIT 1').get(victim?.entry_id ?? 0);
      if (!victim || !other) throw new Error('no whole v3 entry event');
      victimId = victim.id;
      db.prepare('UPDATE audit_log SET entry_id = ? WHERE id = ?').run(other.id, victim.id);
      // Every hash from it on recomputed (the row hash is unkeyed), and the head: only the signature can tell.
      rechainAuditFrom(db, victim);
    } finally {
      db.close();
    }
    const vault = Vault.open(file, clock);
    try {
      const check = await vault.verifyAudit();
      expect(check.ok ? 'intact' : check.brokenAt).toBe(victimId);
      expect(check.ok ? 'intact' : check.reason).toMatch(/changed after its author signed it/);
    } finally {
      await vault.close();
    }
  }, 120_000);
});
