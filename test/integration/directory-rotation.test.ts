// The directory key rotates when a user is disabled (issue #10, finding 5): the key they saved
// opens no customer name, group name or audit detail written afterwards, while everyone still
// active reads old and new alike — sessions opened before the rotation included, whose writes
// then keep the keyed audit anchor whole.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openJson } from '../../electron/vault/crypto';
import { contexts } from '../../electron/vault/keys';
import { Vault } from '../../electron/vault/vault';
import type { VaultSession } from '../../electron/vault/service';
import { FAST_KDF, manualClock, newVault, OWNER, PASSWORD } from '../support/vault';

/** The directory key a session holds (a private field: the test plays someone who saved it). */
function savedDirectoryKey(session: VaultSession): Buffer {
  return Buffer.from((session as unknown as { ring: { directoryKey: Buffer } }).ring.directoryKey);
}

function opens(key: Buffer, sealed: Buffer, context: ReturnType<typeof contexts.customerName>): boolean {
  try {
    openJson(key, sealed, context);
    return true;
  } catch {
    return false;
  }
}

function rows<T>(file: string, sql: string): T[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], T>(sql).all();
  } finally {
    db.close();
  }
}

async function staff() {
  const clock = manualClock();
  const { file, session: owner } = await newVault(clock);
  await owner.createUser('mallory', 'technician', 'mallory password', FAST_KDF);
  await owner.createUser('tom', 'technician', 'tom password', FAST_KDF);
  await owner.createEntry({ customer: 'Acme', title: 'VPN', password: 'acme-pass' });
  const vault = Vault.open(file, clock);
  const as = async (name: string) => {
    const session = await vault.signIn(name, `${name} password`);
    await session.changePassword(`${name} password`, `${name} password!`, FAST_KDF);
    return session;
  };
  return { file, clock, owner, vault, as };
}

describe('disabling a user rotates the directory key', () => {
  it('the key they saved opens no name or audit detail written afterwards; members read old and new', async () => {
    const { file, owner, vault, as } = await staff();
    const mallory = await as('mallory');
    const saved = savedDirectoryKey(mallory);
    const before = rows<{ id: number; uid: Buffer; sealed_name: Buffer }>(file, 'SELECT id, uid, sealed_name FROM customers');
    expect(before.every((c) => opens(saved, c.sealed_name, contexts.customerName(c)))).toBe(true);
    const lastRowBefore = (await owner.auditLog()).at(-1)?.id ?? 0;

    await owner.team.disableUser('mallory', await owner.team.userRevision('mallory'));
    await owner.createEntry({ customer: 'Globex', title: 'Mail', password: 'globex-pass' });
    await owner.team.createGroup('Globex team');

    const customers = rows<{ id: number; uid: Buffer; sealed_name: Buffer }>(file, 'SELECT id, uid, sealed_name FROM customers');
    expect(customers).toHaveLength(2);
    for (const c of customers) expect(opens(saved, c.sealed_name, contexts.customerName(c)), `customer ${c.id}`).toBe(false);
    const groups = rows<{ id: number; uid: Buffer; sealed_name: Buffer }>(file, 'SELECT id, uid, sealed_name FROM access_groups');
    for (const g of groups) expect(opens(saved, g.sealed_name, contexts.groupName(g)), `group ${g.id}`).toBe(false);
    const details = rows<{ id: number; uid: Buffer; sealed_detail: Buffer }>(file, `SELECT id, uid, sealed_detail FROM audit_log WHERE id > ${lastRowBefore} AND sealed_detail IS NOT NULL`);
    expect(details.length).toBeGreaterThan(2);
    for (const d of details) expect(opens(saved, d.sealed_detail.subarray(5), contexts.auditDetail(d, 2)) || opens(saved, d.sealed_detail, contexts.auditDetail(d)), `audit row ${d.id}`).toBe(false);

    // A member signing in now reads every detail, from before and after the rotation.
    const tom = await as('tom');
    expect((await tom.listCustomers()).map((c) => c.name)).toEqual(['Acme', 'Globex']);
    const log = await owner.auditLog();
    expect(log.find((r) => r.action === 'entry.create' && r.id <= lastRowBefore)?.detail).toBe('Acme/VPN');
    expect(log.find((r) => r.action === 'entry.create' && r.id > lastRowBefore)?.detail).toBe('Globex/Mail');
    expect(log.find((r) => r.action === 'user.disable')?.detail).toMatch(/^mallory \(1 group keys and the directory key rotated\)$/);
    expect((await owner.verifyAuditLog()).chain.ok).toBe(true);
    await vault.close();
  });

  it('a session opened before the rotation catches up: its reads and writes work and the keyed anchor holds', async () => {
    const { file, clock, owner, vault, as } = await staff();
    const tom = await as('tom');
    await owner.team.disableUser('mallory', await owner.team.userRevision('mallory'));
    // tom's ring still has version 1; the file is at version 2.
    expect((await tom.listCustomers()).map((c) => c.name)).toEqual(['Acme']);
    await tom.createEntry({ customer: 'Initech', title: 'Printer', password: 'p' });
    expect((await owner.listCustomers()).map((c) => c.name)).toEqual(['Acme', 'Initech']);
    owner.lock();
    const fresh = await Vault.open(file, clock).signIn(OWNER, PASSWORD);
    expect(fresh.auditAnchorAtSignIn).toMatchObject({ ok: true });
    expect((await fresh.auditLog()).some((r) => r.action === 'audit.anchor_broken')).toBe(false);
    expect((await fresh.auditLog()).find((r) => r.action === 'entry.create' && r.detail === 'Initech/Printer')).toBeDefined();
    await vault.close();
  });

  it('after two rotations a new sign-in still reads the first version\'s details down the history chain', async () => {
    const { file, clock, owner, as } = await staff();
    await owner.createUser('zed', 'technician', 'zed password', FAST_KDF);
    await owner.team.disableUser('mallory', await owner.team.userRevision('mallory'));
    await owner.team.disableUser('zed', await owner.team.userRevision('zed'));
    expect(rows<{ value: string }>(file, "SELECT value FROM meta WHERE key = 'directory_version'")).toEqual([{ value: '3' }]);
    expect(rows<{ version: number }>(file, 'SELECT version FROM directory_history ORDER BY version')).toEqual([{ version: 1 }, { version: 2 }]);
    await as('tom');
    const tom = await Vault.open(file, clock).signIn('tom', 'tom password!');
    expect((await tom.listCustomers()).map((c) => c.name)).toEqual(['Acme']);
    owner.lock();
    const alice = await Vault.open(file, clock).signIn(OWNER, PASSWORD);
    const details = (await alice.auditLog()).filter((r) => r.action === 'entry.create').map((r) => r.detail);
    expect(details).toEqual(['Acme/VPN']);
    expect((await alice.auditLog()).filter((r) => r.action === 'user.disable').map((r) => r.detail)).toEqual([
      'mallory (1 group keys and the directory key rotated)',
      'zed (1 group keys and the directory key rotated)',
    ]);
  });
});
