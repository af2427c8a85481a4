// Issue #13 "Nothing lost": a team vault written by each earlier schema's own code (schemas 1-4,
// 6, 7, 8 and 10-19; 9 is global-ids.test's, 5 secret-keys.test's) opens with today's code, is migrated
// to the latest schema, and every person signs in with nothing lost: entries, secrets, notes,
// TOTP and HOTP codes (the counter continues), the custom role, the MFA policy and an
// enrolment, settings, a deleted entry and group staying deleted, and the audit log, which
// still verifies. The files are test/fixtures/schemaN-team.crewvault, each made by its maker
// at the commit test/fixtures/schema-team-fixtures.json names (test/fixtures/README.md), and for
// schemas 1-4 and 6 schema-early-fixtures.json (codes there checked against oathtool, the key on
// its stdin). Works on copies; must never change a fixture.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION } from '../../electron/vault/migrations';
import { Vault } from '../../electron/vault/vault';
import { totpCode } from '../../shared/otp';
import { manualClock, tempVaultPath } from '../support/vault';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');
const MADE_BY = JSON.parse(readFileSync(path.join(FIXTURES, 'schema-team-fixtures.json'), 'utf8')) as Record<string, { writtenBy: string; maker: string; tomMfaSecret: string }>;
const T = Date.UTC(2026, 10, 30, 9, 0, 0);
const totp = (secret: string, at: number): string => totpCode({ kind: 'totp', secret, algorithm: 'SHA1', digits: 6, period: 30, counter: 0 }, at).code;

/**
 * The schema a file is at, read from its header (SQLite's user_version, a 4-byte big-endian
 * integer at offset 60), not by opening it: even a read-only connection to a WAL file leaves
 * -shm and -wal files beside a fixture.
 */
function userVersion(file: string): number {
  return readFileSync(file).readUInt32BE(60);
}

describe('a team vault written by each earlier schema\'s own code', () => {
  it('there is one for every schema from 7 on but 9 (global-ids.test) and the latest', () => {
    const versions = Object.keys(MADE_BY).map(Number).sort((a, b) => a - b);
    const expected = Array.from({ length: LATEST_SCHEMA_VERSION - 7 }, (_, i) => i + 7).filter((v) => v !== 9);
    expect(versions).toEqual(expected);
    for (const v of versions) expect(userVersion(path.join(FIXTURES, `schema${v}-team.crewvault`)), `schema${v}-team.crewvault`).toBe(v);
  });

  for (const [version, made] of Object.entries(MADE_BY)) {
    it(`schema ${version} (written at ${made.writtenBy}): migrated, every person signs in, nothing lost`, async () => {
      const file = tempVaultPath();
      copyFileSync(path.join(FIXTURES, `schema${version}-team.crewvault`), file);
      const vault = Vault.open(file, manualClock(T));

      // Tom changed his password and enrolled an authenticator under that code: both still hold.
      const tom = await vault.signIn('tom', 'tom password 2');
      await tom.mfa.verifyCode(totp(made.tomMfaSecret, T), T);
      const tomsAcme = (await tom.listEntries()).find((e) => e.title === 'M365 admin');
      expect(tomsAcme && (await tom.revealPassword(tomsAcme.id))).toBe('acme-secret-pass');
      tom.lock();

      const alice = await vault.signIn('alice', 'alice password');
      const entries = await alice.listEntries();
      expect(entries.map((e) => `${e.customer}/${e.title}`)).toEqual(['Acme/M365 admin', 'Acme/Router', 'Globex/VPN']);
      const byTitle = (title: string): number => entries.find((e) => e.title === title)?.id ?? 0;
      expect(await alice.revealPassword(byTitle('Router'))).toBe('router-pass');
      expect((await alice.getEntry(byTitle('VPN'))).notes).toBe('globex notes');
      expect((await alice.getEntry(byTitle('M365 admin'))).url).toBe('https://portal.acme.test');
      expect((await alice.otpCode(byTitle('M365 admin'), T)).code).toBe(totp('JBSWY3DPEHPK3PXP', T));
      // The maker took the HOTP code at counter 5: the next one is 6, never 5 again.
      expect(await alice.otpCode(byTitle('VPN'), T)).toMatchObject({ counter: 6 });
      expect((await alice.team.listRoles()).map((r) => r.name)).toContain('helpdesk');
      expect(await alice.mfa.policy()).toMatchObject({ global: 'optional' });
      expect((await alice.settings()).clipboardClearSeconds).toBe(20);
      expect((await alice.team.listGroups()).map((g) => g.name).sort()).toEqual(['Acme team', 'Default']);
      const log = await alice.auditLog();
      expect(log.filter((r) => r.action === 'entry.create').map((r) => r.detail)).toEqual(['Acme/M365 admin', 'Acme/Router', 'Globex/VPN', 'Globex/Old firewall']);
      expect(log.find((r) => r.action === 'user.disable')?.detail).toMatch(/mallory/);
      const verified = await alice.verifyAuditLog();
      expect(verified.chain).toMatchObject({ ok: true });
      expect(verified.anchor).toMatchObject({ ok: true });
      alice.lock();

      for (const name of ['adam', 'cody', 'audrey', 'lena', 'hal']) (await vault.signIn(name, `${name} password`)).lock();
      await expect(vault.signIn('mallory', 'mallory password')).rejects.toThrow();
      expect(await vault.verifyAudit()).toMatchObject({ ok: true });
      await vault.close();
      // Closing folds the journal in, so the header says what the migrations made it.
      expect(userVersion(file)).toBe(LATEST_SCHEMA_VERSION);
    });
  }
});

// Schemas 1-4 and 6 (issue #13): vaults written by those schemas' own code
// (test/fixtures/schema-early-fixtures.json names the commit and maker of each; schema 5 is
// secret-keys.test's). Each holds what its code could write: schema 1 users of every built-in
// role and entries; from 2 access groups with a lead, a revoke (key rotated) and a disabled
// user; from 3 a custom role and a replaced one-time password; from 4 an MFA enrolment and a
// per-role policy; at 6 a setting. Codes are checked against oathtool, not our own OTP code.
interface EarlyFixture {
  readonly writtenBy: string;
  readonly maker: string;
  readonly mfa?: { readonly user: string; readonly secret: string; readonly recovery: string };
}
const EARLY = JSON.parse(readFileSync(path.join(FIXTURES, 'schema-early-fixtures.json'), 'utf8')) as Record<string, EarlyFixture>;

/** oathtool's code; the key goes in on stdin, never in the process arguments. */
function oathtool(args: readonly string[], base32Key: string): string {
  return execFileSync('oathtool', ['--base32', ...args, '-'], { input: `${base32Key}\n`, encoding: 'utf8' }).trim();
}
const ISO_T = new Date(T).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
const oathTotp = (key: string): string => oathtool(['--totp', `--now=${ISO_T}`], key);

/** What a file holds, read on a copy by SQLite itself (the fixture is never opened). */
function fileRows<R>(file: string, sql: string): R[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[], R>(sql).all();
  } finally {
    db.close();
  }
}

describe('a vault written by each of the earliest schemas\' own code (1-4, 6)', () => {
  it('there is one for every schema below 7 but 5 (secret-keys.test), each at its schema', () => {
    expect(Object.keys(EARLY).map(Number).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 6]);
    for (const v of Object.keys(EARLY)) expect(userVersion(path.join(FIXTURES, `schema${v}-team.crewvault`)), `schema${v}-team.crewvault`).toBe(Number(v));
  });

  for (const [key, made] of Object.entries(EARLY)) {
    const version = Number(key);
    it(`schema ${version} (written at ${made.writtenBy}): works before an owner signs in, the owner's sign-in finishes the migration, nothing lost`, async () => {
      const file = tempVaultPath();
      copyFileSync(path.join(FIXTURES, `schema${version}-team.crewvault`), file);
      // What the earlier code wrote, read before today's code touches the file.
      const written = fileRows<{ id: number; at: number; action: string }>(file, 'SELECT id, at, action FROM audit_log ORDER BY id');
      const users = fileRows<{ name: string; role: string; disabled: number }>(file, 'SELECT name, role, disabled_at IS NOT NULL AS disabled FROM users ORDER BY id');
      // The group the maker made second ("Acme team"), with who holds its key.
      const acmeMembers = fileRows<{ name: string; lead: number }>(file, 'SELECT u.name, k.is_lead AS lead FROM group_keys k JOIN users u ON u.id = k.user_id WHERE k.group_id = 2 ORDER BY u.name');
      expect(written.length).toBeGreaterThan(10);
      const vault = Vault.open(file, manualClock(T));
      const ownerWrap = (alice: { mfa: { verifyCode(code: string, at: number): Promise<void> } }): Promise<void> =>
        made.mfa?.user === 'alice' ? alice.mfa.verifyCode(oathTotp(made.mfa.secret), T) : Promise.resolve();

      // Until an owner signs in, the keys-bound part waits (groups unsplit below 6, seals by row
      // id) and the vault still works: lena, a lead, reads and reveals.
      const unsplit = (): number => fileRows<{ n: number }>(file, 'SELECT count(*) AS n FROM access_groups WHERE secret_split = 0')[0]?.n ?? -1;
      const resealed = (): string | undefined => fileRows<{ value: string }>(file, "SELECT value FROM meta WHERE key = 'row_id_seals'")[0]?.value;
      const lena = await vault.signIn('lena', 'lena password');
      expect(await lena.revealPassword((await lena.listEntries()).find((e) => e.title === 'Router')?.id ?? 0)).toBe('router-pass');
      lena.lock();
      expect(unsplit()).toBe(version < 6 ? (version === 1 ? 1 : 2) : 0);
      expect(resealed()).not.toBe('done');

      if (version >= 4 && made.mfa?.user === 'tom') {
        // Tom's password change and authenticator hold: his code from oathtool, then his recovery code.
        const tom = await vault.signIn('tom', 'tom password 2');
        await tom.mfa.verifyCode(oathTotp(made.mfa.secret), T);
        const acme = (await tom.listEntries()).find((e) => e.title === 'M365 admin');
        expect(acme && (await tom.revealPassword(acme.id))).toBe('acme-secret-pass');
        tom.lock();
        const again = await vault.signIn('tom', 'tom password 2');
        await again.mfa.useRecoveryCode(made.mfa.recovery);
        again.lock();
      } else if (version === 3) {
        (await vault.signIn('tom', 'tom password 2')).lock();
        await expect(vault.signIn('tom', 'tom password')).rejects.toThrow();
      }

      const alice = await vault.signIn('alice', 'alice password');
      await ownerWrap(alice);
      expect(unsplit()).toBe(0);
      expect(resealed()).toBe('done');
      const log = await alice.auditLog();
      expect(log.filter((r) => r.action === 'vault.keys_split').map((r) => r.actor)).toEqual(version < 6 ? ['alice'] : []);
      expect(log.filter((r) => r.action === 'vault.ids_resealed').map((r) => r.actor)).toEqual(['alice']);

      const entries = await alice.listEntries();
      expect(entries.map((e) => `${e.customer}/${e.title}`)).toEqual(['Acme/M365 admin', 'Acme/Router', 'Globex/VPN']);
      const byTitle = (title: string): number => entries.find((e) => e.title === title)?.id ?? 0;
      const secrets: Record<string, string> = { 'M365 admin': 'acme-secret-pass', Router: 'router-pass', VPN: 'globex-pass' };
      for (const [title, password] of Object.entries(secrets)) expect(await alice.revealPassword(byTitle(title)), title).toBe(password);
      expect(await alice.getEntry(byTitle('M365 admin'))).toMatchObject({ username: 'admin@acme.test', url: 'https://portal.acme.test', notes: 'acme notes' });
      expect(await alice.getEntry(byTitle('VPN'))).toMatchObject({ username: 'ops', notes: 'globex notes' });
      expect((await alice.otpCode(byTitle('M365 admin'), T)).code).toBe(oathTotp('JBSWY3DPEHPK3PXP'));
      // The earlier code used the HOTP code at counter 5: the next is 6's, as oathtool computes it.
      const hotp = await alice.otpCode(byTitle('VPN'), T);
      expect(hotp).toMatchObject({ counter: 6 });
      expect(hotp.code).toBe(oathtool(['--hotp', '--counter=6'], 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'));

      // People, roles, groups, policy and settings.
      expect((await alice.team.listUsers()).map((u) => ({ name: u.name, role: u.role, disabled: u.disabled }))).toEqual(users.map((u) => ({ ...u, disabled: u.disabled === 1 })));
      if (version >= 3) expect((await alice.team.listRoles()).find((r) => r.name === 'helpdesk')).toBeDefined();
      const groups = await alice.team.listGroups();
      expect(groups.map((g) => g.name).sort()).toEqual(version === 1 ? ['Default'] : ['Acme team', 'Default']);
      if (version >= 2) {
        const acme = groups.find((g) => g.name === 'Acme team');
        const members = acme ? await alice.team.members(acme.id) : [];
        // The members and leads the earlier code wrote (its creator leads it too); mallory was revoked.
        expect(members.map((m) => ({ name: m.name, lead: m.lead })).sort((a, b) => a.name.localeCompare(b.name))).toEqual(acmeMembers.map((m) => ({ name: m.name, lead: m.lead === 1 })));
        expect(acmeMembers.map((m) => m.name)).toEqual(['adam', 'alice', 'audrey', 'cody', 'lena', 'tom']);
      }
      expect((await alice.mfa.policy()).roles).toEqual(version >= 4 ? { technician: 'required' } : {});
      if (made.mfa) expect((await alice.team.listUsers()).filter((u) => u.mfa).map((u) => u.name)).toEqual([made.mfa.user]);
      expect((await alice.settings()).clipboardClearSeconds).toBe(version >= 6 ? 20 : 30);

      // Every audit row the earlier code wrote is still there, in order, and the log verifies.
      const oldest = await alice.auditExportPage(undefined, written.length);
      expect(oldest.records.map((r) => ({ id: r.id, at: r.at, action: r.action }))).toEqual(written);
      expect(log.filter((r) => r.action === 'entry.create').map((r) => r.detail)).toEqual(['Acme/M365 admin', 'Acme/Router', 'Globex/VPN', 'Globex/Old firewall']);
      expect(log.filter((r) => r.action === 'entry.delete').map((r) => r.detail)).toEqual(['Globex/Old firewall']);
      if (version >= 2) expect(log.find((r) => r.action === 'user.disable')?.detail).toMatch(/mallory/);
      const verified = await alice.verifyAuditLog();
      expect(verified.chain).toMatchObject({ ok: true });
      expect(verified.anchor).toMatchObject({ ok: true });
      alice.lock();

      for (const name of ['adam', 'cody', 'audrey', ...(version >= 3 ? ['hal'] : [])]) (await vault.signIn(name, `${name} password`)).lock();
      if (version >= 2) await expect(vault.signIn('mallory', 'mallory password')).rejects.toThrow();
      expect(await vault.verifyAudit()).toMatchObject({ ok: true });
      await vault.close();
      expect(userVersion(file)).toBe(LATEST_SCHEMA_VERSION);
    });
  }
});
