// Issue #13 "Nothing lost": a team vault written by each earlier schema's own code (schemas 7, 8
// and 10-19; 9 is global-ids.test's, 5 secret-keys.test's) opens with today's code, is migrated
// to the latest schema, and every person signs in with nothing lost: entries, secrets, notes,
// TOTP and HOTP codes (the counter continues), the custom role, the MFA policy and an
// enrolment, settings, a deleted entry and group staying deleted, and the audit log, which
// still verifies. The files are test/fixtures/schemaN-team.crewvault, each made by its maker
// at the commit test/fixtures/schema-team-fixtures.json names (test/fixtures/README.md).
// Works on copies; must never change a fixture.
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
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
