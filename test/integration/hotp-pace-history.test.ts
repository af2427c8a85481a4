/**
 * The HOTP pace of a codes-only person on a new desktop whose audit history is still arriving
 * (electron/vault/hotp-pace.ts, docs/SYNC.md "Speed" step 8): their last code, taken on their old
 * desktop a moment ago, is in the history the new one has not taken in yet, so the new desktop
 * must not give them a code the whole history would refuse. Real vault files through the router:
 * the new desktop is a copy made before that code, with the history cursor a first sync leaves
 * (store-history.ts, set through the vault's own store). With the cursor: refused, even past the
 * interval (unknown counts as just now); the same file without it (the old rule's view of it)
 * hands a code the whole history refuses — the case the cursor closes. Someone who may see the
 * key is not held back. Time is the router's injected clock.
 */
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOTP_CODE_INTERVAL_MS } from '../../electron/vault/codes-service';
import { setHistoryCursor } from '../../electron/vault/store-history';
import { Vault } from '../../electron/vault/vault';
import { errorCode, newRouter, ok } from '../support/router';
import { manualClock, OWNER, PASSWORD } from '../support/vault';

const CODY = 'cody';
const CODY_PASSWORD = 'cody password chosen';

async function owing(file: string, owed: boolean): Promise<void> {
  const vault = Vault.open(file, manualClock());
  await vault.store.write((w) => setHistoryCursor(w, owed ? { upTo: 1_000, after: 0 } : null));
  await vault.close();
}

describe('a codes-only person\'s HOTP pace while the history is owed', () => {
  it('is never looser than with the whole history', async () => {
    // The old desktop: the owner's vault, an HOTP entry, cody (codes only) with a password of his own.
    const old = newRouter();
    ok(await old.router.call('vault.create', { username: OWNER, password: PASSWORD }));
    const entry = ok(await old.router.call('entries.create', { customer: 'Acme', title: 'Token', otp: { secret: 'JBSWY3DPEHPK3PXP', kind: 'hotp' } })) as { id: number };
    ok(await old.router.call('users.create', { username: CODY, role: 'codes_only', password: 'cody one-time password' }));
    ok(await old.router.call('session.signIn', { username: CODY, password: 'cody one-time password' }));
    ok(await old.router.call('session.changePassword', { current: 'cody one-time password', next: CODY_PASSWORD }));
    ok(await old.router.call('session.lock', {}));
    await old.router.close();
    // The new desktop: the vault as it stood before cody's code (his code is in a history it lacks).
    const newFile = path.join(path.dirname(old.vaultPath), 'new-desktop.crewvault');
    copyFileSync(old.vaultPath, newFile);

    // Cody takes a code on the old desktop at t0.
    const again = newRouter(old.vaultPath);
    ok(await again.router.call('session.signIn', { username: CODY, password: CODY_PASSWORD }));
    const t0 = again.clock.now();
    ok(await again.router.call('otp.code', { id: entry.id }));
    // With the whole history, a code 5 s later is refused.
    again.clock.advance(5_000);
    expect(errorCode(await again.router.call('otp.code', { id: entry.id }))).toBe('TOO_MANY_ATTEMPTS');
    await again.router.close();

    // On the new desktop with the history owed: refused at t0 + 5 s, and past the interval too (unknown is just now).
    await owing(newFile, true);
    const fresh = newRouter(newFile);
    fresh.clock.set(t0 + 5_000);
    ok(await fresh.router.call('session.signIn', { username: CODY, password: CODY_PASSWORD }));
    const refused = await fresh.router.call('otp.code', { id: entry.id });
    expect(errorCode(refused)).toBe('TOO_MANY_ATTEMPTS');
    if (!refused.ok) expect(refused.error.message).toContain('audit history this desktop is still taking in');
    fresh.clock.set(t0 + HOTP_CODE_INTERVAL_MS + 1_000);
    expect(errorCode(await fresh.router.call('otp.code', { id: entry.id }))).toBe('TOO_MANY_ATTEMPTS');
    // Someone who may see the key takes codes ahead anyway: not held back.
    ok(await fresh.router.call('session.signIn', { username: OWNER, password: PASSWORD }));
    ok(await fresh.router.call('otp.code', { id: entry.id }));
    await fresh.router.close();

    // The same file without the cursor (what the rule before it saw): a code at t0 + 5 s, which the whole history refuses.
    await owing(newFile, false);
    const looser = newRouter(newFile);
    looser.clock.set(t0 + 5_000);
    ok(await looser.router.call('session.signIn', { username: CODY, password: CODY_PASSWORD }));
    ok(await looser.router.call('otp.code', { id: entry.id }));
    // And the pace holds from that code as before.
    looser.clock.advance(5_000);
    expect(errorCode(await looser.router.call('otp.code', { id: entry.id }))).toBe('TOO_MANY_ATTEMPTS');
    await looser.router.close();
  });
});
