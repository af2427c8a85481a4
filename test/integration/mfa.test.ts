// Sign-in MFA in the service, on real files with an injected clock: enrolment, the ±1 step
// window and its edges, replay, single-use recovery codes, 2-minute emergency codes, resets,
// and the failed-password backoff surviving a restart.
import { createHmac } from 'node:crypto';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import { parseOtpUri, decodeSecret } from '../../shared/otp';
import { FAST_KDF, manualClock, newVault, OWNER, PASSWORD } from '../support/vault';

/** RFC 6238 over node:crypto, independent of the engine under test. */
function code(secret: string, step: number): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', Buffer.from(decodeSecret(secret.replace(/\s/g, '')))).update(message).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

const T0 = Date.UTC(2026, 10, 22, 9, 0, 0); // a step boundary (30 s divides it)
const STEP = T0 / 30_000;

async function enrolled() {
  const clock = manualClock(T0);
  const { file, session } = await newVault(clock);
  const enrolment = await session.mfa.beginEnrolment();
  const recovery = await session.mfa.confirmEnrolment(code(enrolment.secret, STEP), T0);
  return { file, clock, session, secret: enrolment.secret, recovery, uri: enrolment.uri };
}

describe('enrolment', () => {
  it('shows the key in groups of four and as a Crewvault otpauth URI, and needs one good code', async () => {
    const clock = manualClock(T0);
    const { session } = await newVault(clock);
    const enrolment = await session.mfa.beginEnrolment();
    expect(enrolment.secret).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
    const uri = parseOtpUri(enrolment.uri);
    expect(uri).toMatchObject({ issuer: 'Crewvault', account: OWNER, params: { kind: 'totp', digits: 6, period: 30, algorithm: 'SHA1' } });
    await expect(session.mfa.confirmEnrolment('000000', T0)).rejects.toThrow(expect.objectContaining({ code: 'WRONG_CODE' }));
    expect((await session.mfa.status()).enabled).toBe(false);
    const recovery = await session.mfa.confirmEnrolment(code(enrolment.secret, STEP), T0);
    expect(recovery).toHaveLength(10);
    for (const r of recovery) expect(r).toMatch(/^[A-Z2-9]{5}-[A-Z2-9]{5}$/);
    expect(await session.mfa.status()).toEqual({ enabled: true, recoveryCodesLeft: 10 });
  });

  it('keeps the key sealed and the recovery codes hashed in the file', async () => {
    const { file, session, secret, recovery } = await enrolled();
    await session.close();
    const bytes = readFileSync(file);
    expect(bytes.includes(Buffer.from(secret.replace(/\s/g, '')))).toBe(false);
    for (const r of recovery) expect(bytes.includes(Buffer.from(r))).toBe(false);
  });
});

describe('codes at sign-in', () => {
  it('accepts the step before, the current and the next; refuses two away', async () => {
    const { session, secret } = await enrolled();
    const at = T0 + 10 * 30_000 + 12_000; // 12 s into step STEP + 10
    await expect(session.mfa.verifyCode(code(secret, STEP + 8), at)).rejects.toThrow(expect.objectContaining({ code: 'WRONG_CODE' }));
    await expect(session.mfa.verifyCode(code(secret, STEP + 12), at)).rejects.toThrow(expect.objectContaining({ code: 'WRONG_CODE' }));
    await session.mfa.verifyCode(code(secret, STEP + 9), at);
    await session.mfa.verifyCode(code(secret, STEP + 10), at);
    await session.mfa.verifyCode(code(secret, STEP + 11), at);
  });

  it('never accepts a code twice, nor one older than the last accepted (RFC 6238 §5.2)', async () => {
    const { session, secret } = await enrolled();
    const at = T0 + 100 * 30_000;
    await session.mfa.verifyCode(code(secret, STEP + 100), at);
    await expect(session.mfa.verifyCode(code(secret, STEP + 100), at)).rejects.toThrow(expect.objectContaining({ code: 'WRONG_CODE' }));
    await expect(session.mfa.verifyCode(code(secret, STEP + 99), at)).rejects.toThrow(expect.objectContaining({ code: 'WRONG_CODE' }));
    // The enrolment code itself was used: it cannot sign anyone in afterwards.
    const fresh = await enrolled();
    await expect(fresh.session.mfa.verifyCode(code(fresh.secret, STEP), T0)).rejects.toThrow(expect.objectContaining({ code: 'WRONG_CODE' }));
  });

  it('uses each recovery code once, however it is typed', async () => {
    const { session, recovery } = await enrolled();
    const first = recovery[0] ?? '';
    expect(await session.mfa.useRecoveryCode(` ${first.toLowerCase().replace('-', '')} `)).toBe(9);
    await expect(session.mfa.useRecoveryCode(first)).rejects.toThrow(expect.objectContaining({ code: 'WRONG_CODE' }));
    await expect(session.mfa.useRecoveryCode('AAAAA-AAAAA')).rejects.toThrow(expect.objectContaining({ code: 'WRONG_CODE' }));
    const again = await session.mfa.regenerateRecoveryCodes();
    await expect(session.mfa.useRecoveryCode(recovery[1] ?? '')).rejects.toThrow(expect.objectContaining({ code: 'WRONG_CODE' }));
    expect(await session.mfa.useRecoveryCode(again[0] ?? '')).toBe(9);
  });

  it('an emergency code works once, for two minutes', async () => {
    const { file, clock, session: owner } = await enrolled();
    await owner.createUser('tom', 'technician', 'tom one-time', FAST_KDF);
    const vault = Vault.open(file, clock);
    const tom = await vault.signIn('tom', 'tom one-time');
    const issued = await owner.mfa.issueEmergencyCode('tom', T0);
    expect(issued).toMatch(/^[A-Z]{6}$/);
    await expect(tom.mfa.useEmergencyCode(issued, T0 + 120_001)).rejects.toThrow(expect.objectContaining({ code: 'WRONG_CODE' }));
    const second = await owner.mfa.issueEmergencyCode('tom', T0);
    await tom.mfa.useEmergencyCode(second.toLowerCase(), T0 + 120_000);
    await expect(tom.mfa.useEmergencyCode(second, T0 + 1000)).rejects.toThrow(expect.objectContaining({ code: 'WRONG_CODE' }));
    // Only someone who manages users issues or resets.
    await expect(tom.mfa.issueEmergencyCode(OWNER)).rejects.toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    await expect(tom.mfa.resetFor(OWNER)).rejects.toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    await vault.close();
  });

  it('a reset or turning it off destroys the key, the recovery codes and trusted computers', async () => {
    const { file, clock, session, secret } = await enrolled();
    // Not one's own: that is "turn it off", which the policy may forbid (issue #10: nobody acts on themselves this way).
    await expect(session.mfa.resetFor(OWNER)).rejects.toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    await session.createUser('olga', 'owner', 'olga password', FAST_KDF);
    const olga = await Vault.open(file, clock).signIn('olga', 'olga password');
    await olga.mfa.resetFor(OWNER);
    expect(await session.mfa.status()).toEqual({ enabled: false, recoveryCodesLeft: 0 });
    // The reset ends the session it was against (a lost phone: whoever holds it may hold that
    // session too), as a password reset does; the next sign-in starts from no authenticator.
    await expect(session.mfa.verifyCode(code(secret, STEP + 1), T0 + 30_000)).rejects.toThrow(expect.objectContaining({ code: 'LOCKED' }));
    await expect(session.recheck()).rejects.toThrow(expect.objectContaining({ code: 'LOCKED' }));
    const again = await Vault.open(file, clock).signIn(OWNER, PASSWORD);
    await expect(again.mfa.verifyCode(code(secret, STEP + 1), T0 + 30_000)).rejects.toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT mfa_sealed_secret, mfa_enabled_at FROM users WHERE id = 1').get()).toEqual({ mfa_sealed_secret: null, mfa_enabled_at: null });
    db.close();
    const actions = (await again.auditLog()).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['mfa.enable', 'mfa.reset']));
    await olga.close();
  });
});

describe('failed passwords', () => {
  it('back off after three, and the wait survives a restart', async () => {
    const clock = manualClock(T0);
    const { file, session } = await newVault(clock);
    await session.close();
    const vault = Vault.open(file, clock);
    for (let i = 0; i < 3; i++) await expect(vault.signIn(OWNER, 'wrong')).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    await expect(vault.signIn(OWNER, PASSWORD)).rejects.toMatchObject({ code: 'TOO_MANY_ATTEMPTS' });
    await vault.close();
    const restarted = Vault.open(file, clock);
    await expect(restarted.signIn(OWNER, PASSWORD)).rejects.toMatchObject({ code: 'TOO_MANY_ATTEMPTS', message: expect.stringContaining('try again in 1 s') as string });
    clock.advance(1000);
    await expect(restarted.signIn(OWNER, 'wrong')).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    await expect(restarted.signIn(OWNER, PASSWORD)).rejects.toMatchObject({ message: expect.stringContaining('try again in 2 s') as string });
    clock.advance(2000);
    expect((await restarted.signIn(OWNER, PASSWORD)).user.name).toBe(OWNER);
    // A good password clears the count.
    await expect(restarted.signIn(OWNER, 'wrong')).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    expect((await restarted.signIn(OWNER, PASSWORD)).user.name).toBe(OWNER);
    await restarted.close();
  });
});
