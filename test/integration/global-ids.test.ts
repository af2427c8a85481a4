// Schema 10 (issue #13): global ids in every seal, revisions with CONFLICT, tombstones, change
// sets, and a vault written by schema 9's own code opened and re-sealed without losing anything.
import Database from 'better-sqlite3';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rowIdSealCounts } from '../../electron/vault/id-seals';
import { Vault } from '../../electron/vault/vault';
import { totpCode } from '../../shared/otp';
import { FAST_KDF, manualClock, newVault, OWNER, PASSWORD, tempVaultPath } from '../support/vault';
import { WRITER_ERROR_STATUS } from '../support/writer-protocol';
import { WriterProcess } from '../support/writer-process';

const CONFLICT = expect.objectContaining({ code: 'CONFLICT' }) as unknown;
const TAMPERED = expect.objectContaining({ code: 'VAULT_TAMPERED' }) as unknown;

function withFile<T>(file: string, work: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return work(db);
  } finally {
    db.close();
  }
}

const uidOf = (file: string, table: string, id: number): Buffer =>
  withFile(file, (db) => (db.prepare(`SELECT uid FROM ${table} WHERE id = ?`).get(id) as { uid: Buffer }).uid);

describe('revisions', () => {
  it('an edit or delete from a stale revision is CONFLICT and changes nothing; from the current one it goes through', async () => {
    const { session } = await newVault();
    const entry = await session.createEntry({ customer: 'Acme', title: 'VPN', password: 'one' });
    const first = (await session.getEntry(entry.id)).revision;
    const edited = await session.updateEntry(entry.id, { password: 'two' }, first);
    expect(edited.revision).toBe(first + 1);
    // Someone who opened it at `first` is refused, and their change is not written.
    await expect(session.updateEntry(entry.id, { password: 'three' }, first)).rejects.toThrow(CONFLICT);
    await expect(session.deleteEntry(entry.id, first)).rejects.toThrow(CONFLICT);
    expect(await session.revealPassword(entry.id)).toBe('two');
    expect((await session.getEntry(entry.id)).revision).toBe(first + 1);
    await session.deleteEntry(entry.id, first + 1);
    await expect(session.getEntry(entry.id)).rejects.toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('every write moves the revision of what it wrote and the vault sequence, and says what it changed', async () => {
    const { session } = await newVault();
    const entry = await session.createEntry({ customer: 'Acme', title: 'VPN', password: 'one' });
    const created = session.lastChanges();
    expect(created.objects.map((o) => o.kind).sort()).toEqual(['customer', 'entry']);
    expect(created.events).toHaveLength(1);
    expect(created.toSeq).toBeGreaterThan(created.fromSeq);
    await session.updateEntry(entry.id, { title: 'VPN gateway' }, (await session.getEntry(entry.id)).revision);
    const edited = session.lastChanges();
    expect(edited.fromSeq).toBe(created.toSeq);
    expect(edited.objects).toEqual([expect.objectContaining({ kind: 'entry', id: created.objects.find((o) => o.kind === 'entry')?.id, revision: 2, deleted: false })]);
    await session.deleteEntry(entry.id, (await session.getEntry(entry.id)).revision);
    expect(session.lastChanges().objects).toEqual([expect.objectContaining({ kind: 'entry', revision: 3, deleted: true })]);
    await session.team.createGroup('Night shift');
    const group = session.lastChanges();
    expect(group.objects.map((o) => o.kind)).toEqual(['group']);
    expect(group.links.map((l) => l.kind)).toEqual(['group_key']);
    await session.createUser('tom', 'technician', 'tom password', FAST_KDF);
    await session.team.resetPassword('tom', 'a one-time password', await session.team.userRevision('tom'), FAST_KDF);
    expect(session.lastChanges().objects.map((o) => o.kind).sort()).toEqual(['signing_key', 'user']);
  });
});

describe('tombstones', () => {
  it('a deleted entry keeps its ids and revision and nothing sealed; lists, counts and lookups leave it out', async () => {
    const { file, session } = await newVault();
    const keep = await session.createEntry({ customer: 'Acme', title: 'Keep', password: 'k' });
    const gone = await session.createEntry({ customer: 'Acme', title: 'Gone', password: 'g', notes: 'gone notes' });
    const uid = uidOf(file, 'entries', gone.id);
    await session.deleteEntry(gone.id, (await session.getEntry(gone.id)).revision);
    const row = withFile(file, (db) => db.prepare('SELECT uid, revision, deleted_at, lookup, sealed_summary, sealed_details FROM entries WHERE id = ?').get(gone.id)) as Record<string, unknown>;
    expect(row).toMatchObject({ uid, revision: 2, lookup: Buffer.alloc(0), sealed_summary: Buffer.alloc(0), sealed_details: Buffer.alloc(0) });
    expect(row.deleted_at).toEqual(expect.any(Number));
    expect((await session.listEntries()).map((e) => e.title)).toEqual(['Keep']);
    expect(await session.listCustomers()).toEqual([expect.objectContaining({ name: 'Acme', entryCount: 1 })]);
    expect(await session.findByPath('Acme/Gone')).toEqual([]);
    await expect(session.updateEntry(gone.id, { title: 'Back' }, 1)).rejects.toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect((await session.team.listGroups())[0]?.entries).toBe(1);
    expect((await session.getEntry(keep.id)).title).toBe('Keep');
  });
});

describe('seals name global ids', () => {
  it('a seal copied onto another row, or with its format byte turned back to row ids, does not open', async () => {
    const { file, session, clock } = await newVault();
    const a = await session.createEntry({ customer: 'Acme', title: 'A', password: 'secret-a' });
    const b = await session.createEntry({ customer: 'Acme', title: 'B', password: 'secret-b' });
    session.lock();
    withFile(file, (db) => {
      const from = db.prepare('SELECT sealed_details FROM entries WHERE id = ?').get(a.id) as { sealed_details: Buffer };
      db.prepare('UPDATE entries SET sealed_details = ? WHERE id = ?').run(from.sealed_details, b.id);
      const mine = db.prepare('SELECT sealed_details FROM entries WHERE id = ?').get(a.id) as { sealed_details: Buffer };
      expect(mine.sealed_details[0]).toBe(2);
      const downgraded = Buffer.from(mine.sealed_details);
      downgraded[0] = 1;
      db.prepare('UPDATE entries SET sealed_details = ? WHERE id = ?').run(downgraded, a.id);
    });
    const vault = Vault.open(file, clock);
    const again = await vault.signIn(OWNER, PASSWORD);
    await expect(again.revealPassword(b.id)).rejects.toThrow(TAMPERED);
    await expect(again.revealPassword(a.id)).rejects.toThrow(TAMPERED);
    await vault.close();
  });

  it('a new vault has no seal by row id anywhere', async () => {
    const { file, session } = await newVault();
    await session.createUser('tom', 'technician', 'tom password', FAST_KDF);
    await session.createEntry({ customer: 'Acme', title: 'VPN', password: 'p' });
    await session.team.createGroup('Night shift');
    await session.close();
    const counts = withFile(file, (db) => rowIdSealCounts(db as never));
    expect(Object.values(counts).every((n) => n === 0), JSON.stringify(counts)).toBe(true);
  });
});

describe('a schema-9 team vault written by that code (test/fixtures/schema9-team.make.ts.txt)', () => {
  const T = Date.UTC(2026, 10, 30, 9, 0, 0);
  const TOM_MFA = '3VLQ7JMVGYGGMTSK3KBN2H4PDA3JGXBW';

  it('works before an owner signs in; each sign-in re-seals its own part, an owner the rest, and nothing is lost', async () => {
    const file = tempVaultPath();
    copyFileSync(path.resolve(import.meta.dirname, '../fixtures/schema9-team.crewvault'), file);
    const clock = manualClock(T);
    const vault = Vault.open(file, clock);
    const before = withFile(file, (db) => rowIdSealCounts(db as never));
    expect(before['entries.sealed_details']).toBe(3);
    expect(before['users.sealed_private_key']).toBe(8);

    // Tom first: his entries open while they are still sealed by row id; his own seals move.
    const tom = await vault.signIn('tom', 'tom password 2');
    await tom.mfa.verifyCode(totpCode({ kind: 'totp', secret: TOM_MFA, algorithm: 'SHA1', digits: 6, period: 30, counter: 0 }, T).code, T);
    const acme = (await tom.listEntries()).find((e) => e.title === 'M365 admin');
    expect(acme && (await tom.revealPassword(acme.id))).toBe('acme-secret-pass');
    const afterTom = withFile(file, (db) => rowIdSealCounts(db as never));
    expect(afterTom['users.sealed_private_key']).toBe(7);
    expect(afterTom['users.mfa_sealed_secret']).toBe(0);
    expect(afterTom['entries.sealed_details']).toBe(3);
    tom.lock();

    const alice = await vault.signIn('alice', 'alice password');
    const ownerPart = withFile(file, (db) => rowIdSealCounts(db as never));
    for (const key of ['entries.sealed_summary', 'entries.sealed_details', 'customers.sealed_name', 'access_groups.sealed_name', 'directory_history.sealed_key']) {
      expect(ownerPart[key], key).toBe(0);
    }
    expect((await alice.auditLog()).filter((r) => r.action === 'vault.ids_resealed').map((r) => r.detail)).toEqual([expect.stringMatching(/^3 entries, 4 names and \d+ keys now sealed by global id$/)]);
    // Nothing lost: entries, secrets, notes, codes, the HOTP counter, roles, policy, settings, audit.
    const entries = await alice.listEntries();
    expect(entries.map((e) => `${e.customer}/${e.title}`)).toEqual(['Acme/M365 admin', 'Acme/Router', 'Globex/VPN']);
    const byTitle = (title: string): number => entries.find((e) => e.title === title)?.id ?? 0;
    expect(await alice.revealPassword(byTitle('Router'))).toBe('router-pass');
    expect((await alice.getEntry(byTitle('VPN'))).notes).toBe('globex notes');
    expect((await alice.otpCode(byTitle('M365 admin'), T)).code).toBe(totpCode({ kind: 'totp', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, period: 30, counter: 0 }, T).code);
    expect(await alice.otpCode(byTitle('VPN'), T)).toMatchObject({ counter: 6 });
    expect((await alice.team.listRoles()).map((r) => r.name)).toContain('helpdesk');
    expect(await alice.mfa.policy()).toMatchObject({ global: 'optional' });
    expect((await alice.settings()).clipboardClearSeconds).toBe(20);
    expect((await alice.verifyAuditLog()).chain).toMatchObject({ ok: true });
    expect((await alice.verifyAuditLog()).anchor).toMatchObject({ ok: true });
    const log = await alice.auditLog();
    expect(log.filter((r) => r.action === 'entry.create').map((r) => r.detail)).toEqual(['Acme/M365 admin', 'Acme/Router', 'Globex/VPN', 'Globex/Old firewall']);
    expect(log.find((r) => r.action === 'user.disable')?.detail).toMatch(/mallory/);
    alice.lock();

    // The others' own seals move at their own sign-ins; a disabled user's stay (nobody can open them).
    for (const name of ['adam', 'cody', 'audrey', 'lena', 'hal']) (await vault.signIn(name, `${name} password`)).lock();
    const left = withFile(file, (db) => rowIdSealCounts(db as never));
    expect(left['users.sealed_private_key']).toBe(1);
    // Every wrap is re-sealed by the one it is for: only the disabled user's are left.
    const mallorys = withFile(file, (db) => db.prepare("SELECT (SELECT count(*) FROM group_keys WHERE user_id = u.id) AS g, (SELECT count(*) FROM directory_keys WHERE user_id = u.id) AS d FROM users u WHERE name = 'mallory'").get()) as { g: number; d: number };
    expect([left['group_keys.wrapped_key'], left['directory_keys.wrapped_key'], left['mfa_key_wraps.wrapped_key']]).toEqual([mallorys.g, mallorys.d, 0]);
    const vaultTwice = withFile(file, (db) => db.prepare("SELECT value FROM meta WHERE key = 'row_id_seals'").get());
    expect(vaultTwice).toEqual({ value: 'done' });
    // The events written before schema 11 stay unsigned; every one since is signed, and the log verifies.
    expect(await vault.verifyAudit()).toMatchObject({ ok: true });
    const signed = withFile(file, (db) => db.prepare('SELECT count(*) AS n FROM audit_log WHERE signature IS NOT NULL').get());
    expect(signed).toEqual({ n: expect.any(Number) as unknown });
    expect((signed as { n: number }).n).toBeGreaterThanOrEqual(8);
    await vault.close();
  });
});

describe('two writers on one file', () => {
  it('edit one entry from the same revision at once: exactly one wins, the others are told CONFLICT (5 rounds of 4 processes)', async () => {
    const { file, session } = await newVault();
    const entry = await session.createEntry({ customer: 'Acme', title: 'Shared', password: 'p' });
    session.lock();
    for (let round = 0; round < 5; round++) {
      const vault = Vault.open(file, manualClock());
      const reader = await vault.signIn(OWNER, PASSWORD);
      const base = (await reader.getEntry(entry.id)).revision;
      await reader.close();
      await vault.close();
      // Signed in one after another (sign-ins at once count as attempts, store-users.ts), then released together.
      const writers: WriterProcess[] = [];
      for (const name of ['a', 'b', 'c', 'd']) {
        const writer = new WriterProcess({ file, user: OWNER, password: PASSWORD, prefix: `${name}${round}`, count: 0, gate: true, batchEvery: 0, edit: { entryId: entry.id, baseRevision: base } });
        await writer.ready;
        writers.push(writer);
      }
      for (const w of writers) w.go();
      const exits = await Promise.all(writers.map((w) => w.exited));
      const won = writers.filter((w, i) => exits[i]?.status === 0 && w.committed.length === 1);
      const lost = writers.filter((w, i) => exits[i]?.status === WRITER_ERROR_STATUS && /^(CONFLICT|BUSY) /.test(w.errors[0] ?? ''));
      expect(won.length, writers.map((w) => `${w.errors.join(';')}${w.stderr}`).join(' | ')).toBe(1);
      expect(lost.length, writers.map((w, i) => `${exits[i]?.status} ${w.errors.join(';')}${w.stderr}`).join(' | ')).toBe(3);
      const check = Vault.open(file, manualClock());
      const owner = await check.signIn(OWNER, PASSWORD);
      expect(await owner.getEntry(entry.id)).toMatchObject({ revision: base + 1, notes: `written by ${won[0]?.job.prefix}` });
      await owner.close();
      await check.close();
    }
  }, 120_000);
});
