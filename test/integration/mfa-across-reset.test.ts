// An owner's password reset keeps the user's authenticator working (issue #10, low finding):
// the reset gives the user a new key pair, and the MFA key that seals their authenticator
// secret, which every owner holds (schema 9), is handed to it instead of being orphaned.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import { base32Bytes, hotp } from '../support/totp';
import { FAST_KDF, manualClock, newVault } from '../support/vault';

const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);
const codeAt = (secret: string, ms: number): string => hotp(base32Bytes(secret), Math.floor(ms / 30_000));

async function enrolledTom() {
  const clock = manualClock(T0);
  const { file, session: owner } = await newVault(clock);
  await owner.createUser('tom', 'technician', 'tom password', FAST_KDF);
  const vault = Vault.open(file, clock);
  const tom = await vault.signIn('tom', 'tom password');
  await tom.changePassword('tom password', 'tom password!', FAST_KDF);
  const setup = await tom.mfa.beginEnrolment(T0);
  const secret = setup.secret.replace(/ /g, '');
  const recovery = await tom.mfa.confirmEnrolment(codeAt(secret, T0), T0);
  tom.lock();
  return { file, clock, owner, vault, secret, recovery };
}

function wrapsOf(file: string): Array<{ user_id: number; holder_id: number }> {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], { user_id: number; holder_id: number }>('SELECT user_id, holder_id FROM mfa_key_wraps ORDER BY user_id, holder_id').all();
  } finally {
    db.close();
  }
}

describe('an owner resets the password of someone with an authenticator', () => {
  it('their authenticator and recovery codes still work with the new password', async () => {
    const { clock, owner, vault, secret, recovery } = await enrolledTom();
    await owner.team.resetPassword('tom', 'one-time password', await owner.team.userRevision('tom'), FAST_KDF);
    clock.set(T0 + 60_000);
    const tom = await vault.signIn('tom', 'one-time password');
    expect(await tom.mfa.status()).toEqual({ enabled: true, recoveryCodesLeft: 10 });
    await tom.mfa.verifyCode(codeAt(secret, clock.now()), clock.now());
    await tom.changePassword('one-time password', 'tom new password', FAST_KDF);
    tom.lock();
    const again = await vault.signIn('tom', 'tom new password');
    expect(await again.mfa.useRecoveryCode(recovery[0] ?? '')).toBe(9);
    expect((await owner.auditLog()).find((r) => r.action === 'user.reset_password')?.detail).toBe('tom (new key pair, 1 group keys re-wrapped)');
  });

  it('enrolled before owners held MFA keys: the next sign-in with a code hands it over', async () => {
    const { file, clock, owner, vault, secret } = await enrolledTom();
    // As a vault from before schema 9 is: nobody holds tom's MFA key.
    const db = new Database(file);
    db.prepare('DELETE FROM mfa_key_wraps WHERE holder_id != user_id').run();
    db.close();
    clock.set(T0 + 60_000);
    const tom = await vault.signIn('tom', 'tom password!');
    await tom.mfa.verifyCode(codeAt(secret, clock.now()), clock.now());
    tom.lock();
    expect(wrapsOf(file)).toEqual([{ user_id: 2, holder_id: 1 }, { user_id: 2, holder_id: 2 }]);
    await owner.team.resetPassword('tom', 'one-time password', await owner.team.userRevision('tom'), FAST_KDF);
    clock.set(T0 + 120_000);
    const after = await vault.signIn('tom', 'one-time password');
    await after.mfa.verifyCode(codeAt(secret, clock.now()), clock.now());
  });

  it('where the owner holds no MFA key for them, it is reset (nothing could open it) and the audit says so', async () => {
    const { file, owner, vault } = await enrolledTom();
    const db = new Database(file);
    db.prepare('DELETE FROM mfa_key_wraps WHERE holder_id != user_id').run();
    db.close();
    await owner.team.resetPassword('tom', 'one-time password', await owner.team.userRevision('tom'), FAST_KDF);
    const tom = await vault.signIn('tom', 'one-time password');
    expect((await tom.mfa.status()).enabled).toBe(false);
    expect((await owner.auditLog()).find((r) => r.action === 'user.reset_password')?.detail).toMatch(/two-step sign-in reset/);
  });

  it('a new owner is handed the MFA keys; one who stops being owner holds none', async () => {
    const { file, owner } = await enrolledTom();
    await owner.createUser('olga', 'owner', 'olga password', FAST_KDF);
    // tom holds his own (each setup makes a new one); owners hold it too.
    const mine = { user_id: 2, holder_id: 2 };
    expect(wrapsOf(file)).toEqual([{ user_id: 2, holder_id: 1 }, mine, { user_id: 2, holder_id: 3 }]);
    await owner.team.changeRole('olga', 'admin', await owner.team.userRevision('olga'));
    expect(wrapsOf(file)).toEqual([{ user_id: 2, holder_id: 1 }, mine]);
    await owner.team.changeRole('olga', 'owner', await owner.team.userRevision('olga'));
    expect(wrapsOf(file)).toEqual([{ user_id: 2, holder_id: 1 }, mine, { user_id: 2, holder_id: 3 }]);
    await owner.team.disableUser('olga', await owner.team.userRevision('olga'));
    expect(wrapsOf(file)).toEqual([{ user_id: 2, holder_id: 1 }, mine]);
  });
});
