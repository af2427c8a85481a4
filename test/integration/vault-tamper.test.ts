// Tampering with a closed vault file surfaces as VAULT_TAMPERED, a broken audit chain, VAULT_CORRUPT or VAULT_NEWER — never a crash or another code.
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { LATEST_SCHEMA_VERSION } from '../../electron/vault/migrations';
import type { Clock, VaultSession } from '../../electron/vault/service';
import { Vault } from '../../electron/vault/vault';
import { CrewvaultError } from '../../shared/errors';
import type { EntrySummary } from '../../shared/model';
import { parseOtpUri } from '../../shared/otp';
import { seededRandom } from '../support/random';
import { rechainAudit } from '../support/audit-forger';
import { newVault, OWNER, PASSWORD, tempVaultPath } from '../support/vault';

const random = seededRandom();
const TOTP = parseOtpUri('otpauth://totp/Acme:ops?secret=JBSWY3DPEHPK3PXP&issuer=Acme');

interface Seeded {
  readonly file: string;
  readonly clock: Clock;
  readonly ownerId: number;
  readonly acme: EntrySummary;
  readonly beta: EntrySummary;
}

/** A closed vault with two entries of two customers and a few audit rows. */
async function seedVault(): Promise<Seeded> {
  const { file, session: created, clock } = await newVault();
  created.lock();
  const vault = Vault.open(file, clock);
  const session = await vault.signIn(OWNER, PASSWORD);
  const acme = await session.createEntry({ customer: 'Acme Corp', title: 'VPN', username: 'ops', password: 'acme-vpn-password', otp: TOTP });
  const beta = await session.createEntry({ customer: 'Beta Ltd', title: 'Mail', username: 'postmaster', password: 'beta-mail-password', otp: TOTP });
  await session.revealPassword(acme.id);
  await session.otpCode(beta.id);
  session.lock();
  await vault.close();
  return { file, clock, ownerId: session.user.id, acme, beta };
}

/** Edits the closed vault through a second, plain SQLite connection. */
function editFile(file: string, work: (db: Database.Database) => void): void {
  const db = new Database(file);
  try {
    work(db);
  } finally {
    db.close();
  }
}

type Table = 'entries' | 'customers' | 'group_keys' | 'directory_keys';
const KEY_COLUMN: Record<Table, string> = { entries: 'id', customers: 'id', group_keys: 'group_id', directory_keys: 'user_id' };

function getBlob(db: Database.Database, table: Table, column: string, id: number): Buffer {
  const row = db.prepare<[number], { blob: Buffer }>(`SELECT ${column} AS blob FROM ${table} WHERE ${KEY_COLUMN[table]} = ?`).get(id);
  if (!row) throw new Error(`no ${table} row ${id}`);
  return row.blob;
}

function setValue(db: Database.Database, table: Table, column: string, id: number, value: Buffer | number): void {
  const result = db.prepare(`UPDATE ${table} SET ${column} = ? WHERE ${KEY_COLUMN[table]} = ?`).run(value, id);
  if (result.changes !== 1) throw new Error(`no ${table} row ${id} to change`);
}

/** A copy of `blob` with one byte in [from, to] XORed with a non-zero mask. */
function flipOneByte(blob: Buffer, from: number, to: number): Buffer {
  const copy = Buffer.from(blob);
  const at = random.int(from, to);
  copy[at] = (copy[at] ?? 0) ^ random.int(1, 255);
  return copy;
}

async function signInAgain(file: string, clock: Clock): Promise<VaultSession> {
  const vault = Vault.open(file, clock);
  onTestFinished(() => vault.close());
  return vault.signIn(OWNER, PASSWORD);
}

/** The CrewvaultError code a call ends with, "ok", or what else it threw (a crash). */
async function asyncOutcome(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'ok';
  } catch (error) {
    return error instanceof CrewvaultError ? error.code : `crash: ${String(error)}`;
  }
}

/** What each service call about `entry` answers; the delete goes last. */
/** The revision the row holds now (a tampering write moves it): what a writer who just read it would send. */
function storedRevision(file: string, id: number): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[number], { revision: number }>('SELECT revision FROM entries WHERE id = ?').get(id)?.revision ?? -1;
  } finally {
    db.close();
  }
}

async function answers(session: VaultSession, entry: EntrySummary): Promise<Record<string, string>> {
  return {
    listEntries: await asyncOutcome(() => session.listEntries()),
    resolvePath: await asyncOutcome(() => session.resolvePath(`${entry.customer}/${entry.title}`)),
    getEntry: await asyncOutcome(() => session.getEntry(entry.id)),
    revealPassword: await asyncOutcome(() => session.revealPassword(entry.id)),
    revealOtpSecret: await asyncOutcome(() => session.revealOtpSecret(entry.id)),
    otpCode: await asyncOutcome(() => session.otpCode(entry.id)),
    updateEntry: await asyncOutcome(() => session.updateEntry(entry.id, { notes: 'edited' }, entry.revision ?? -1)),
    deleteEntry: await asyncOutcome(() => session.deleteEntry(entry.id, entry.revision ?? -1)),
  };
}

const ALL_TAMPERED = Object.fromEntries(
  ['listEntries', 'resolvePath', 'getEntry', 'revealPassword', 'revealOtpSecret', 'otpCode', 'updateEntry', 'deleteEntry'].map((call) => [call, 'VAULT_TAMPERED']),
);
// The list reads the sealed summary pages (schema 2), not the entry's own blobs, so damage to
// an entry row shows on every call about that entry but the list.
const ROW_TAMPERED = { ...ALL_TAMPERED, listEntries: 'ok' };
// The list, the lookup and a delete need only the summary; a damaged details blob fails the rest.
const DETAILS_TAMPERED = { ...ALL_TAMPERED, listEntries: 'ok', resolvePath: 'ok', deleteEntry: 'ok' };

/** The untouched entry still opens: the damage is reported where it is, not spread. */
async function expectIntact(session: VaultSession, entry: EntrySummary, password: string): Promise<void> {
  expect((await session.getEntry(entry.id)).title).toBe(entry.title);
  expect(await session.revealPassword(entry.id)).toBe(password);
}

// Where a byte sits in a sealed value: version(1) ‖ nonce(12) ‖ ciphertext ‖ tag(16).
const REGIONS: Record<string, (length: number) => readonly [number, number]> = {
  'version byte': () => [0, 0],
  nonce: () => [1, 12],
  ciphertext: (length) => [13, length - 17],
  tag: (length) => [length - 16, length - 1],
};
const FLIPS = (['sealed_summary', 'sealed_details'] as const).flatMap((column) => Object.keys(REGIONS).map((region) => [column, region] as const));

describe('a tampered sealed value', () => {
  it.each(FLIPS)('one byte flipped in an entry\'s %s, in its %s: VAULT_TAMPERED', async (column, region) => {
    const { file, clock, acme, beta } = await seedVault();
    editFile(file, (db) => {
      const blob = getBlob(db, 'entries', column, acme.id);
      const [from, to] = REGIONS[region]?.(blob.length) ?? [0, -1];
      setValue(db, 'entries', column, acme.id, flipOneByte(blob, from, to));
    });
    const session = await signInAgain(file, clock);
    await expectIntact(session, beta, 'beta-mail-password');
    expect(await answers(session, { ...acme, revision: storedRevision(file, acme.id) }), `seed ${random.seed}`).toEqual(column === 'sealed_summary' ? ROW_TAMPERED : DETAILS_TAMPERED);
  });

  it('an entry\'s blobs cut short or emptied: VAULT_TAMPERED', async () => {
    const { file, clock, acme } = await seedVault();
    editFile(file, (db) => {
      setValue(db, 'entries', 'sealed_summary', acme.id, getBlob(db, 'entries', 'sealed_summary', acme.id).subarray(0, 20));
      setValue(db, 'entries', 'sealed_details', acme.id, Buffer.alloc(0));
    });
    expect(await answers(await signInAgain(file, clock), { ...acme, revision: storedRevision(file, acme.id) })).toEqual(ROW_TAMPERED);
  });

  it('one entry\'s sealed summary and details copied onto another entry\'s row: VAULT_TAMPERED', async () => {
    const { file, clock, acme, beta } = await seedVault();
    editFile(file, (db) => {
      for (const column of ['sealed_summary', 'sealed_details']) setValue(db, 'entries', column, beta.id, getBlob(db, 'entries', column, acme.id));
    });
    const session = await signInAgain(file, clock);
    await expectIntact(session, acme, 'acme-vpn-password');
    expect(await answers(session, { ...beta, revision: storedRevision(file, beta.id) })).toEqual(ROW_TAMPERED);
  });

  it('an entry moved to another customer (customer_id changed): VAULT_TAMPERED', async () => {
    const { file, clock, acme, beta } = await seedVault();
    editFile(file, (db) => setValue(db, 'entries', 'customer_id', acme.id, beta.customerId));
    const session = await signInAgain(file, clock);
    await expectIntact(session, beta, 'beta-mail-password');
    expect(await answers(session, { ...acme, revision: storedRevision(file, acme.id) })).toEqual(ROW_TAMPERED);
  });

  it('an entry\'s key_version changed: VAULT_TAMPERED', async () => {
    const { file, clock, acme } = await seedVault();
    editFile(file, (db) => db.prepare('UPDATE entries SET key_version = key_version + 1 WHERE id = ?').run(acme.id));
    expect(await answers(await signInAgain(file, clock), { ...acme, revision: storedRevision(file, acme.id) })).toEqual(ROW_TAMPERED);
  });

  it.each(Object.keys(REGIONS))('one byte flipped in a summary page, in its %s: the list says VAULT_TAMPERED, the entries still open', async (region) => {
    const { file, clock, acme, beta } = await seedVault();
    editFile(file, (db) => {
      const row = db.prepare<[], { sealed: Buffer }>('SELECT sealed FROM entry_pages').get();
      if (!row) throw new Error('no summary page');
      const [from, to] = REGIONS[region]?.(row.sealed.length) ?? [0, -1];
      db.prepare('UPDATE entry_pages SET sealed = ?').run(flipOneByte(row.sealed, from, to));
    });
    const session = await signInAgain(file, clock);
    expect(await asyncOutcome(() => session.listEntries())).toBe('VAULT_TAMPERED');
    await expectIntact(session, acme, 'acme-vpn-password');
    await expectIntact(session, beta, 'beta-mail-password');
  });

  it('a summary page whose entry count disagrees is rebuilt from the sealed entries', async () => {
    const { file, clock, acme, beta } = await seedVault();
    editFile(file, (db) => db.prepare('UPDATE entry_pages SET entry_count = entry_count + 1').run());
    const session = await signInAgain(file, clock);
    expect((await session.listEntries()).map((e) => e.id)).toEqual([acme.id, beta.id]);
  });

  it.each(['flipped', 'swapped with another customer\'s'] as const)('a customer\'s sealed_name %s: VAULT_TAMPERED', async (how) => {
    const { file, clock, acme, beta } = await seedVault();
    editFile(file, (db) => {
      const name = getBlob(db, 'customers', 'sealed_name', acme.customerId);
      setValue(db, 'customers', 'sealed_name', acme.customerId, how === 'flipped' ? flipOneByte(name, 0, name.length - 1) : getBlob(db, 'customers', 'sealed_name', beta.customerId));
    });
    const session = await signInAgain(file, clock);
    expect(await asyncOutcome(() => session.listCustomers())).toBe('VAULT_TAMPERED');
    expect(await answers(session, { ...acme, revision: storedRevision(file, acme.id) })).toEqual(ALL_TAMPERED);
  });

  it.each([
    ['group_keys', 'wrapped_key'],
    ['directory_keys', 'wrapped_key'],
  ] as const)('a byte flipped in the owner\'s %s.%s: sign-in says VAULT_TAMPERED', async (table, column) => {
    const { file, clock, ownerId, acme } = await seedVault();
    const id = table === 'group_keys' ? acme.groupId : ownerId;
    editFile(file, (db) => {
      const blob = getBlob(db, table, column, id);
      setValue(db, table, column, id, flipOneByte(blob, 0, blob.length - 1));
    });
    expect(await asyncOutcome(() => signInAgain(file, clock))).toBe('VAULT_TAMPERED');
  });
});

describe('a tampered audit log', () => {
  /** The audit rows' ids, and the id of the "password.reveal" row in the middle of them. */
  function auditIds(file: string): { ids: number[]; middle: number } {
    let ids: number[] = [];
    let middle = -1;
    editFile(file, (db) => {
      ids = db.prepare<[], { id: number }>('SELECT id FROM audit_log ORDER BY id').all().map((r) => r.id);
      middle = db.prepare<[], { id: number }>("SELECT id FROM audit_log WHERE action = 'password.reveal'").get()?.id ?? -1;
    });
    expect(ids.indexOf(middle)).toBeGreaterThan(0);
    expect(ids.indexOf(middle)).toBeLessThan(ids.length - 1);
    return { ids, middle };
  }

  async function verify(file: string) {
    const vault = Vault.open(file);
    try {
      return await vault.verifyAudit();
    } finally {
      await vault.close();
    }
  }

  it('verifies when untouched', async () => {
    const { file } = await seedVault();
    const { ids } = auditIds(file);
    expect(await verify(file)).toEqual({ ok: true, rows: ids.length });
  });

  it.each([
    ['action', "'entry.view'"],
    ['at', 'at + 1'],
    ['actor_id', 'NULL'],
    ['subject', "'mallory'"],
    ['entry_id', 'entry_id + 1'],
    ['sealed_detail', '(SELECT sealed_detail FROM audit_log WHERE action = \'otp.code\')'],
  ])('a middle row with its %s changed is reported at that row', async (column, value) => {
    const { file } = await seedVault();
    const { middle } = auditIds(file);
    editFile(file, (db) => db.prepare(`UPDATE audit_log SET ${column} = ${value} WHERE id = ?`).run(middle));
    expect(await verify(file)).toMatchObject({ ok: false, brokenAt: middle });
  });

  it('a deleted middle row is reported at the row after it', async () => {
    const { file } = await seedVault();
    const { ids, middle } = auditIds(file);
    editFile(file, (db) => db.prepare('DELETE FROM audit_log WHERE id = ?').run(middle));
    expect(await verify(file)).toMatchObject({ ok: false, brokenAt: ids[ids.indexOf(middle) + 1] });
  });

  it('a deleted last row is caught by the head recorded in meta', async () => {
    const { file } = await seedVault();
    const { ids } = auditIds(file);
    const last = ids[ids.length - 1] ?? -1;
    editFile(file, (db) => db.prepare('DELETE FROM audit_log WHERE id = ?').run(last));
    expect(await verify(file)).toMatchObject({ ok: false, rows: ids.length - 1, brokenAt: last });
  });
});

describe('the keyed audit anchor', () => {
  const rechain = rechainAudit;

  async function signInAgain(file: string, clock: Clock) {
    const vault = Vault.open(file, clock);
    const session = await vault.signIn(OWNER, PASSWORD);
    return { vault, session };
  }

  it('holds through failed sign-ins, which are written without a key', async () => {
    const { file, clock } = await seedVault();
    const vault = Vault.open(file, clock);
    await expect(vault.signIn(OWNER, 'not the password')).rejects.toThrow(CrewvaultError);
    await vault.close();
    const again = await signInAgain(file, clock);
    expect(again.session.auditAnchorAtSignIn).toMatchObject({ ok: true });
    expect((await again.session.verifyAuditLog()).chain).toMatchObject({ ok: true });
    await again.vault.close();
  });

  it.each([
    ['a reveal removed from the middle', "DELETE FROM audit_log WHERE action = 'password.reveal'", /was rewritten/, /does not follow the event before it from its device/],
    ['a row forged at the end', "INSERT INTO audit_log (uid, at, actor_id, action, subject, prev_hash, hash) VALUES (randomblob(16), 1, 1, 'user.create', 'mallory', x'', x'')", /without the key/, /nobody signed it/],
  ])('catches %s with every hash recomputed, which the chain alone cannot', async (_what, edit, reason, unsignedReason) => {
    const { file, clock } = await seedVault();
    editFile(file, (db) => {
      db.exec(edit);
      rechain(db);
    });
    // Before schema 11 the unkeyed walk was fooled here; the authors' signatures now catch it too.
    const unkeyed = Vault.open(file, clock);
    expect(await unkeyed.verifyAudit()).toMatchObject({ ok: false, reason: expect.stringMatching(unsignedReason) as unknown });
    await unkeyed.close();

    const { vault, session } = await signInAgain(file, clock);
    expect(session.auditAnchorAtSignIn).toMatchObject({ ok: false, reason: expect.stringMatching(reason) as unknown });
    expect((await session.verifyAuditLog()).anchor.ok).toBe(false);
    // The sign-in wrote the evidence into the log, anchored, before moving on.
    expect((await session.auditLog()).map((r) => r.action).slice(-2)).toEqual(['audit.anchor_broken', 'signin.ok']);
    await vault.close();
    // ... and the finding stays: the next sign-in still reports it, without a second record.
    const later = await signInAgain(file, clock);
    expect(later.session.auditAnchorAtSignIn).toMatchObject({ ok: false, fresh: false });
    expect((await later.session.auditLog()).filter((r) => r.action === 'audit.anchor_broken')).toHaveLength(1);
    await later.vault.close();
  });

  it('catches the anchor itself removed, and cannot be told the vault predates it', async () => {
    const { file, clock } = await seedVault();
    editFile(file, (db) => {
      db.exec("DELETE FROM audit_log WHERE action = 'password.reveal'");
      rechain(db);
      db.exec("DELETE FROM meta WHERE key = 'audit_anchor'");
    });
    const { vault, session } = await signInAgain(file, clock);
    expect(session.auditAnchorAtSignIn).toMatchObject({ ok: false, reason: 'the keyed anchor was removed' });
    await vault.close();

    // Marking the directory key as wrapped before the anchor existed breaks its seal instead.
    const { file: other, clock: otherClock } = await seedVault();
    editFile(other, (db) => {
      db.exec("DELETE FROM meta WHERE key = 'audit_anchor'");
      db.exec('UPDATE directory_keys SET key_version = 1');
    });
    const reopened = Vault.open(other, otherClock);
    await expect(reopened.signIn(OWNER, PASSWORD)).rejects.toThrow(CrewvaultError);
    await reopened.close();
  });
});

describe('a file that is not a vault this app can open', () => {
  async function openOutcome(file: string): Promise<string> {
    return asyncOutcome(() => Vault.open(file).close());
  }

  it.each([
    ['random bytes', () => Buffer.from(random.bytes(8192))],
    ['an empty file', () => Buffer.alloc(0)],
    ['a SQLite header followed by garbage', () => Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.from(random.bytes(8176))])],
  ])('%s: VAULT_CORRUPT', async (_name, content) => {
    const file = tempVaultPath();
    writeFileSync(file, content());
    expect(await openOutcome(file)).toBe('VAULT_CORRUPT');
  });

  it.each([
    ['a SQLite database of something else', 'CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES (\'hello\')'],
    ['a SQLite database with a meta table of another format', "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('format', 'keepass')"],
  ])('%s: VAULT_CORRUPT', async (_name, sql) => {
    const file = tempVaultPath();
    editFile(file, (db) => db.exec(sql));
    expect(await openOutcome(file)).toBe('VAULT_CORRUPT');
  });

  it('a vault whose schema is newer than this app: VAULT_NEWER', async () => {
    const { file } = await seedVault();
    editFile(file, (db) => db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`));
    expect(await openOutcome(file)).toBe('VAULT_NEWER');
  });
});
