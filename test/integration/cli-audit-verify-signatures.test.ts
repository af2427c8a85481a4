// `crewvault audit verify` checks authors' signatures as well as the chains (issue #13), through
// the real binary as a person runs it: each forgery below remakes every hash and the head as a
// member with the file could, so only the signatures and device chains can catch it. The vault
// is a real file written by the services; must never print a secret.
import Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import { rechainAudit } from '../support/audit-forger';
import { crewvault } from '../support/cli';
import { FAST_KDF, manualClock, newVault } from '../support/vault';

let file: string;

/** alice (owner) and mallory (technician) each write events on this desktop; alice reveals a password, then adds an entry. */
beforeEach(async () => {
  const clock = manualClock();
  const made = await newVault(clock);
  file = made.file;
  const alice = made.session;
  await alice.createUser('mallory', 'technician', 'mallory password', FAST_KDF);
  const vault = Vault.open(file, clock);
  const mallory = await vault.signIn('mallory', 'mallory password');
  await mallory.changePassword('mallory password', 'mallory chose this', FAST_KDF);
  const entry = await alice.createEntry({ customer: 'Acme', title: 'VPN', password: 'vpn-secret-pass' });
  await alice.revealPassword(entry.id);
  await mallory.listEntries();
  // An event after the reveal on this device: dropping the newest events is what the keyed
  // anchor and each person's pins catch (signed-audit.test), not the chains.
  await alice.createEntry({ customer: 'Acme', title: 'Mail', password: 'mail-secret-pass' });
  await mallory.close();
  await alice.close();
  await vault.close();
});

function forge(work: (db: Database.Database, revealId: number) => void): number {
  const db = new Database(file);
  try {
    const reveal = db.prepare<[], { id: number }>("SELECT id FROM audit_log WHERE action = 'password.reveal'").get();
    if (!reveal) throw new Error('no reveal row');
    work(db, reveal.id);
    rechainAudit(db);
    return reveal.id;
  } finally {
    db.close();
  }
}

const verify = () => crewvault(['audit', 'verify', '--vault', file]);

describe('crewvault audit verify', () => {
  it('passes an honest log', () => {
    const result = verify();
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(result.stdout).toMatch(/^Audit log intact: \d+ rows, every link verified\.\n$/);
  });

  it('fails an event edited after its author signed it, with every hash remade, and names the row', () => {
    const id = forge((db, revealId) => db.prepare("UPDATE audit_log SET action = 'entry.view' WHERE id = ?").run(revealId));
    const result = verify();
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`Audit log broken at row ${id}`);
    expect(result.stderr).toMatch(/changed after its author signed it/);
    expect(`${result.stdout}${result.stderr}`).not.toContain('vpn-secret-pass');
  });

  it('fails an event taken out of its device\'s chain, with every hash remade', () => {
    forge((db, revealId) => db.prepare('DELETE FROM audit_log WHERE id = ?').run(revealId));
    const result = verify();
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/does not follow the event before it from its device/);
  });

  it('fails an event whose signer is changed to another member, with every hash remade', () => {
    forge((db, revealId) => {
      const mallorysKey = db.prepare<[], { id: number }>("SELECT k.id FROM signing_keys k JOIN users u ON u.id = k.user_id WHERE u.name = 'mallory'").get();
      db.prepare('UPDATE audit_log SET signer_key_id = ? WHERE id = ?').run(mallorysKey?.id, revealId);
    });
    const result = verify();
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/Audit log broken at row \d+/);
  });
});
