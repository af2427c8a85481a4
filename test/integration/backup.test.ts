// Whole-vault backups on real files with real crypto (Argon2id, AES-256-GCM, SQLite's own
// VACUUM INTO): backup → verify → restore into a new path, then everyone signs in to the copy
// and finds every entry, secret, code, user, group, custom role, MFA setting and audit row as
// they were. A wrong password, any flipped byte, a hostile header, a non-owner and an existing
// target are refused, and nothing is written or left behind when they are.
import { closeSync, existsSync, ftruncateSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_BACKUP_BYTES, restoreBackup, verifyBackup, writeBackup } from '../../electron/vault/backup';
import type { VaultSession } from '../../electron/vault/service';
import type { EntrySummary } from '../../shared/model';
import { Vault } from '../../electron/vault/vault';
import { parseOtpUri } from '../../shared/otp';
import { totp } from '../support/totp';
import { FAST_KDF, manualClock, newVault, OWNER, PASSWORD, tempFolder } from '../support/vault';

const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);
const BACKUP_PW = 'backup password for the tests';
const ACME_PASSWORD = 'acme-vpn-Secret-7714';
const TOTP = parseOtpUri('otpauth://totp/Acme:ops?secret=JBSWY3DPEHPK3PXP&issuer=Acme');
const HOTP = parseOtpUri('otpauth://hotp/Bank:me?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=0&issuer=Bank');
const USERS = { tom: 'tech password', hank: 'helpdesk password', ada: 'admin password' } as const;

let privateTmp: string;
let savedTmp: string | undefined;

beforeEach(() => {
  // The backup's temporary folders go here, so each test can check none is left behind.
  privateTmp = tempFolder();
  savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = privateTmp;
});

afterEach(() => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
});

function expectNoTemporaryFiles(): void {
  // (The tests' own folders land there too, made with another prefix.)
  expect(readdirSync(privateTmp).filter((name) => name.startsWith('crewvault-backup-'))).toEqual([]);
}

function code(value: unknown): unknown {
  return expect.objectContaining({ code: value });
}

/** A vault with something of every kind: users of built-in and custom roles, a group with a
 * member, entries with passwords, notes, TOTP and HOTP, an MFA policy and an enrolled user. */
async function teamVault() {
  const clock = manualClock(T0);
  const { file, session: creator } = await newVault(clock);
  await creator.createUser('tom', 'technician', USERS.tom, FAST_KDF);
  await creator.createUser('ada', 'admin', USERS.ada, FAST_KDF);
  await creator.team.defineRole('helpdesk', ['entries.view', 'passwords.reveal', 'otp.view'], await creator.team.roleRevision('helpdesk'));
  await creator.createUser('hank', 'helpdesk', USERS.hank, FAST_KDF);
  const group = await creator.team.createGroup('Acme team');
  await creator.team.grant(group.id, 'tom', false, await creator.team.groupRevision(group.id));
  await creator.team.grant(group.id, 'hank', false, await creator.team.groupRevision(group.id));
  await creator.createEntry({ customer: 'Acme', title: 'VPN', username: 'ops', password: ACME_PASSWORD, notes: 'Gateway 10.0.0.1', otp: TOTP, groupId: group.id });
  await creator.createEntry({ customer: 'Bank', title: 'Portal', username: 'me', password: 'bank-portal-pw-99', otp: HOTP });
  await creator.createEntry({ customer: 'Beta', title: 'Mail', username: 'postmaster', url: 'https://mail.beta.example' });
  await creator.mfa.setPolicy('optional', undefined, (await creator.mfa.policy()).revision);
  await creator.mfa.setPolicy('required', 'auditor', (await creator.mfa.policy()).revision);
  await creator.close();

  const vault = Vault.open(file, clock);
  const tom = await vault.signIn('tom', USERS.tom);
  const enrolment = await tom.mfa.beginEnrolment();
  await tom.mfa.confirmEnrolment(totp(enrolment.secret, T0), T0);
  const owner = await vault.signIn(OWNER, PASSWORD);
  return { file, clock, vault, owner, tom, tomSecret: enrolment.secret };
}

/** Everything a person can see of the vault; reading it writes audit rows (and moves HOTP on). */
async function everything(session: VaultSession) {
  const entries = await session.listEntries();
  const canManage = (await session.permissions()).includes('users.manage');
  // One at a time, in the list's order (each read may write an audit row or move a counter).
  const each = async <T>(items: readonly EntrySummary[], read: (e: EntrySummary) => Promise<T>): Promise<T[]> => {
    const out: T[] = [];
    for (const e of items) out.push(await read(e));
    return out;
  };
  return {
    entries,
    details: await each(entries, (e) => session.getEntry(e.id)),
    passwords: await each(entries, (e) => session.revealPassword(e.id)),
    otpSecrets: (await session.permissions()).includes('otp.reveal_secret') ? await each(entries.filter((e) => e.otp), (e) => session.revealOtpSecret(e.id)) : undefined,
    codes: await each(entries.filter((e) => e.otp), async (e) => (await session.otpCode(e.id, T0)).code),
    users: canManage ? (await session.team.listUsers()) : undefined,
    groups: await session.team.listGroups(),
    roles: await session.team.listRoles(),
    permissions: await session.permissions(),
    policy: await session.mfa.policy(),
    mfa: await session.mfa.status(),
  };
}

async function backUp(owner: VaultSession, file: string, target: string, password = BACKUP_PW) {
  return writeBackup(owner, file, target, password, { kdf: FAST_KDF, now: () => T0 });
}

describe('backup → verify → restore', () => {
  it('restores the same vault: every entry, secret, code, user, group, role, MFA setting and audit row', async () => {
    const { file, clock, vault, owner, tom } = await teamVault();
    // Written after the last checkpoint, so only in the WAL: the snapshot must still hold it.
    const late = await owner.createEntry({ customer: 'Zeta', title: 'Late', password: 'written-just-before' });
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(0);

    const folder = tempFolder();
    const backupFile = path.join(folder, 'team.cvbackup');
    const made = await backUp(owner, file, backupFile);
    expect(made).toMatchObject({ createdAt: T0, users: 4, groups: 2, entries: 4, schema: expect.any(Number) as number });
    expect(statSync(backupFile).mode & 0o777).toBe(0o600);

    const logAtBackup = await owner.auditLog();
    // Written before the snapshot, so the backup holds the record of its own making.
    expect(logAtBackup.at(-1)).toMatchObject({ action: 'vault.backup', actor: OWNER, detail: `to ${backupFile}` });
    expect(made.auditRows).toBe(logAtBackup.length);
    const ownerSaw = await everything(owner);
    const tomSaw = await everything(tom);
    await vault.close();

    expect(await verifyBackup(backupFile, BACKUP_PW)).toEqual(made);
    const restoredFile = path.join(folder, 'restored.crewvault');
    expect(await restoreBackup(backupFile, BACKUP_PW, restoredFile)).toEqual(made);
    expect(statSync(restoredFile).mode & 0o777).toBe(0o600);
    expectNoTemporaryFiles();

    const restored = Vault.open(restoredFile, clock);
    try {
      expect(await restored.id()).toBe(made.vaultId);
      const owner2 = await restored.signIn(OWNER, PASSWORD);
      // The anchor the backup row moved still holds in the copy.
      expect(owner2.auditAnchorAtSignIn).toMatchObject({ ok: true });
      const log = await owner2.auditLog();
      expect(log.slice(0, logAtBackup.length)).toEqual(logAtBackup);
      expect(log.slice(logAtBackup.length).map((r) => r.action)).toEqual(['signin.ok']);
      expect(await everything(owner2)).toEqual(ownerSaw);
      expect((await owner2.listEntries()).map((e) => e.title)).toContain(late.title);

      const tom2 = await restored.signIn('tom', USERS.tom);
      expect(await everything(tom2)).toEqual(tomSaw);
      expect((await tom2.mfa.status()).enabled).toBe(true);
      expect((await tom2.listEntries()).map((e) => `${e.customer}/${e.title}`)).toEqual(tomSaw.entries.map((e) => `${e.customer}/${e.title}`));

      const hank2 = await restored.signIn('hank', USERS.hank);
      expect(hank2.user.role).toBe('helpdesk');
      expect(await hank2.permissions()).toEqual(['entries.view', 'passwords.reveal', 'otp.view']);
      expect(await hank2.revealPassword((await hank2.resolvePath('Acme/VPN')).id)).toBe(ACME_PASSWORD);
      await expect(restored.signIn('tom', 'not his password')).rejects.toThrow(code('WRONG_PASSWORD'));
      expect(await restored.verifyAudit()).toMatchObject({ ok: true });
    } finally {
      await restored.close();
    }

    // The original's anchor holds too: the backup row was keyed like any signed-in write.
    const again = Vault.open(file, clock);
    try {
      const owner3 = await again.signIn(OWNER, PASSWORD);
      expect(owner3.auditAnchorAtSignIn).toMatchObject({ ok: true });
      expect((await owner3.verifyAuditLog()).chain).toMatchObject({ ok: true });
    } finally {
      await again.close();
    }
  });

  it('holds no plaintext: not a secret, not a name, not even the SQLite header', async () => {
    const { file, vault, owner } = await teamVault();
    const backupFile = path.join(tempFolder(), 'team.cvbackup');
    await backUp(owner, file, backupFile);
    await vault.close();
    const bytes = readFileSync(backupFile);
    const plain = readFileSync(file);
    // What the vault file itself shows in clear, as a control: the backup shows none of it.
    for (const visible of ['SQLite format 3', 'helpdesk', 'signin.ok']) {
      expect(plain.includes(Buffer.from(visible)), visible).toBe(true);
      expect(bytes.includes(Buffer.from(visible)), visible).toBe(false);
    }
    for (const secret of [ACME_PASSWORD, 'bank-portal-pw-99', 'JBSWY3DPEHPK3PXP', 'Gateway 10.0.0.1', 'postmaster', 'Acme team']) {
      expect(bytes.includes(Buffer.from(secret)), secret).toBe(false);
      expect(bytes.includes(Buffer.from(secret, 'utf16le')), secret).toBe(false);
    }
    // The header is in clear, and says only the format and the KDF.
    const header = JSON.parse(bytes.subarray(20, 20 + bytes.readUInt32BE(16)).toString('utf8')) as Record<string, unknown>;
    expect(bytes.subarray(0, 16).toString('ascii')).toBe('CREWVAULT-BACKUP');
    expect(header).toEqual({
      format: 'crewvault-backup', version: 1, cipher: 'aes-256-gcm', createdAt: T0, nonce: expect.stringMatching(/^[A-Za-z0-9+/]{16}$/) as string,
      kdf: { algorithm: 'argon2id', memory: 1024, iterations: 1, parallelism: 1, salt: expect.any(String) as string },
    });
  });

  it('uses DESIGN.md\'s Argon2id settings unless told otherwise', async () => {
    const { file, vault, owner } = await teamVault();
    const backupFile = path.join(tempFolder(), 'team.cvbackup');
    await writeBackup(owner, file, backupFile, BACKUP_PW, { now: () => T0 });
    await vault.close();
    const bytes = readFileSync(backupFile);
    const header = JSON.parse(bytes.subarray(20, 20 + bytes.readUInt32BE(16)).toString('utf8')) as { kdf: unknown };
    expect(header.kdf).toMatchObject({ algorithm: 'argon2id', memory: 65536, iterations: 3, parallelism: 1 });
    expect(await verifyBackup(backupFile, BACKUP_PW)).toMatchObject({ entries: 3 });
  });
});

describe('what a backup refuses', () => {
  async function madeBackup() {
    const { file, vault, owner } = await teamVault();
    const folder = tempFolder();
    const backupFile = path.join(folder, 'team.cvbackup');
    await backUp(owner, file, backupFile);
    await vault.close();
    return { folder, backupFile, bytes: readFileSync(backupFile) };
  }

  it('a wrong backup password: WRONG_PASSWORD, and restore writes nothing', async () => {
    const { folder, backupFile } = await madeBackup();
    await expect(verifyBackup(backupFile, 'not the backup password')).rejects.toThrow(code('WRONG_PASSWORD'));
    const target = path.join(folder, 'restored.crewvault');
    await expect(restoreBackup(backupFile, 'not the backup password', target)).rejects.toThrow(code('WRONG_PASSWORD'));
    expect(readdirSync(folder)).toEqual(['team.cvbackup']);
    expectNoTemporaryFiles();
  });

  it('a flipped bit anywhere — magic, length, header, body, tag — and restore writes nothing', async () => {
    const { folder, bytes } = await madeBackup();
    const prefixLength = 20 + bytes.readUInt32BE(16);
    const body = Array.from({ length: 24 }, (_, i) => prefixLength + Math.floor(((bytes.length - 16 - prefixLength) * i) / 24));
    const tag = Array.from({ length: 16 }, (_, i) => bytes.length - 16 + i);
    const positions = [...Array.from({ length: prefixLength }, (_, i) => i), ...body, bytes.length - 17, ...tag];
    const altered = path.join(folder, 'altered.cvbackup');
    const target = path.join(folder, 'restored.crewvault');
    const answers = new Set<string>();
    for (const at of positions) {
      const copy = Buffer.from(bytes);
      copy[at] = (copy[at] ?? 0) ^ 0x01;
      writeFileSync(altered, copy);
      const refusal = await verifyBackup(altered, BACKUP_PW).then(() => undefined, (error: unknown) => error);
      expect(refusal, `byte ${at}`).toMatchObject({ code: expect.stringMatching(/^(WRONG_PASSWORD|VAULT_CORRUPT)$/) as string });
      answers.add((refusal as { code: string }).code);
      if (at % 7 === 0 || at >= bytes.length - 17) {
        await expect(restoreBackup(altered, BACKUP_PW, target), `byte ${at}`).rejects.toThrow(code(expect.stringMatching(/^(WRONG_PASSWORD|VAULT_CORRUPT)$/)));
        expect(existsSync(target)).toBe(false);
      }
    }
    // Both kinds happen: a broken header is seen as one; the rest fail the tag.
    expect([...answers].sort()).toEqual(['VAULT_CORRUPT', 'WRONG_PASSWORD']);
    // Cut short, or with a byte more.
    writeFileSync(altered, bytes.subarray(0, bytes.length - 1));
    await expect(verifyBackup(altered, BACKUP_PW)).rejects.toThrow(code('WRONG_PASSWORD'));
    writeFileSync(altered, Buffer.concat([bytes, Buffer.of(0)]));
    await expect(verifyBackup(altered, BACKUP_PW)).rejects.toThrow(code('WRONG_PASSWORD'));
    expectNoTemporaryFiles();
  });

  it('a hostile or foreign header, before any Argon2: settings beyond the limits, a newer format, over 4 GiB, not a backup', async () => {
    const { folder, bytes } = await madeBackup();
    const prefixLength = 20 + bytes.readUInt32BE(16);
    const header = JSON.parse(bytes.subarray(20, prefixLength).toString('utf8')) as { kdf: Record<string, unknown> } & Record<string, unknown>;
    const withHeader = (changed: Record<string, unknown>): string => {
      const json = Buffer.from(JSON.stringify(changed), 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(json.length);
      const file = path.join(folder, `edited-${Math.random().toString(36).slice(2)}.cvbackup`);
      writeFileSync(file, Buffer.concat([bytes.subarray(0, 16), length, json, bytes.subarray(prefixLength)]));
      return file;
    };
    // 8 GiB of memory or 1,000 passes would run for minutes if handed to Argon2.
    await expect(verifyBackup(withHeader({ ...header, kdf: { ...header.kdf, memory: 8 * 1024 * 1024 } }), BACKUP_PW)).rejects.toThrow(code('VAULT_CORRUPT'));
    await expect(verifyBackup(withHeader({ ...header, kdf: { ...header.kdf, iterations: 1000 } }), BACKUP_PW)).rejects.toThrow(code('VAULT_CORRUPT'));
    await expect(verifyBackup(withHeader({ ...header, kdf: { ...header.kdf, parallelism: 0 } }), BACKUP_PW)).rejects.toThrow(code('VAULT_CORRUPT'));
    await expect(verifyBackup(withHeader({ ...header, kdf: { ...header.kdf, algorithm: 'argon2i' } }), BACKUP_PW)).rejects.toThrow(code('VAULT_CORRUPT'));
    await expect(verifyBackup(withHeader({ ...header, version: 2 }), BACKUP_PW)).rejects.toThrow(code('VAULT_NEWER'));
    await expect(verifyBackup(withHeader({ ...header, extra: 1 }), BACKUP_PW)).rejects.toThrow(code('VAULT_CORRUPT'));
    // The same header, written again byte for byte: only an edit is refused.
    expect(await verifyBackup(withHeader(header), BACKUP_PW)).toMatchObject({ entries: 3 });

    const huge = path.join(folder, 'huge.cvbackup');
    const fd = openSync(huge, 'w');
    writeSync(fd, bytes.subarray(0, prefixLength));
    ftruncateSync(fd, MAX_BACKUP_BYTES + 1); // sparse: nothing is really written
    closeSync(fd);
    await expect(verifyBackup(huge, BACKUP_PW)).rejects.toThrow(code('VAULT_CORRUPT'));
    await expect(restoreBackup(huge, BACKUP_PW, path.join(folder, 'x.crewvault'))).rejects.toThrow(code('VAULT_CORRUPT'));

    writeFileSync(path.join(folder, 'notes.txt'), 'hello, not a backup at all');
    await expect(verifyBackup(path.join(folder, 'notes.txt'), BACKUP_PW)).rejects.toThrow(code('VAULT_CORRUPT'));
    await expect(verifyBackup(path.join(folder, 'missing.cvbackup'), BACKUP_PW)).rejects.toThrow(code('NOT_FOUND'));
    await expect(verifyBackup(folder, BACKUP_PW)).rejects.toThrow(code('INVALID_INPUT'));
    expect(existsSync(path.join(folder, 'x.crewvault'))).toBe(false);
    expectNoTemporaryFiles();
  });

  it('a non-owner (an admin, a technician): FORBIDDEN, no file, no audit row', async () => {
    const { file, vault, owner, tom } = await teamVault();
    const ada = await vault.signIn('ada', USERS.ada);
    const folder = tempFolder();
    const target = path.join(folder, 'team.cvbackup');
    for (const session of [ada, tom]) {
      await expect(writeBackup(session, file, target, BACKUP_PW, { kdf: FAST_KDF })).rejects.toThrow(code('FORBIDDEN'));
    }
    expect(readdirSync(folder)).toEqual([]);
    expect((await owner.auditLog()).map((r) => r.action)).not.toContain('vault.backup');
    await vault.close();
    expectNoTemporaryFiles();
  });

  it('a short backup password, an existing backup file, a missing folder: nothing written, nothing audited', async () => {
    const { file, vault, owner } = await teamVault();
    const folder = tempFolder();
    const target = path.join(folder, 'team.cvbackup');
    await expect(backUp(owner, file, target, 'short')).rejects.toThrow(code('INVALID_INPUT'));
    await expect(backUp(owner, file, path.join(folder, 'no-such-folder', 'b.cvbackup'))).rejects.toThrow(code('INVALID_INPUT'));
    writeFileSync(target, 'an older backup');
    await expect(backUp(owner, file, target)).rejects.toThrow(code('ALREADY_EXISTS'));
    expect(readFileSync(target, 'utf8')).toBe('an older backup');
    expect((await owner.auditLog()).map((r) => r.action)).not.toContain('vault.backup');
    await vault.close();
    expectNoTemporaryFiles();
  });

  it('a backup begun but not written (its name taken while the key was derived) is audited as not written, with the reason', async () => {
    const { file, vault, owner } = await teamVault();
    const target = path.join(tempFolder(), 'team.cvbackup');
    // The name is checked before the key is derived; taken meanwhile, the write refuses it.
    const begun = backUp(owner, file, target);
    writeFileSync(target, 'someone else\'s file');
    await expect(begun).rejects.toThrow(code('ALREADY_EXISTS'));
    expect(readFileSync(target, 'utf8')).toBe('someone else\'s file');
    const rows = (await owner.auditLog()).filter((r) => r.action === 'vault.backup').map((r) => r.detail);
    expect(rows).toEqual([`to ${target}`, `to ${target}: not written (ALREADY_EXISTS)`]);
    await vault.close();
    expectNoTemporaryFiles();
  });

  it('restore refuses an existing target (or its leftover journal) and a missing folder, before the password', async () => {
    const { folder, backupFile } = await madeBackup();
    const existing = path.join(folder, 'existing.crewvault');
    writeFileSync(existing, 'keep me');
    await expect(restoreBackup(backupFile, BACKUP_PW, existing)).rejects.toThrow(code('VAULT_EXISTS'));
    expect(readFileSync(existing, 'utf8')).toBe('keep me');
    const orphan = path.join(folder, 'orphan.crewvault');
    writeFileSync(`${orphan}-wal`, 'someone else\'s journal');
    await expect(restoreBackup(backupFile, BACKUP_PW, orphan)).rejects.toThrow(code('VAULT_EXISTS'));
    expect(existsSync(orphan)).toBe(false);
    await expect(restoreBackup(backupFile, BACKUP_PW, path.join(folder, 'nowhere', 'v.crewvault'))).rejects.toThrow(code('INVALID_INPUT'));
    // Refused before Argon2: a wrong password makes no difference to the answer.
    await expect(restoreBackup(backupFile, 'wrong', existing)).rejects.toThrow(code('VAULT_EXISTS'));
    expectNoTemporaryFiles();
  });
});
