// Codes-only cannot collect codes ahead (issue #10, finding 2): someone who may see codes but
// not keys gets the current step only; every code shown at another time, and every copy, is
// audited with the step it was for. Through the service and through the real CLI.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../electron/cli/io';
import { runCli } from '../../electron/cli/main';
import { Router } from '../../electron/router';
import type { Clock } from '../../electron/vault/service';
import { Vault } from '../../electron/vault/vault';
import { parseOtpUri, timeStep, totpCode } from '../../shared/otp';
import { crewvault } from '../support/cli';
import { ok } from '../support/router';
import { FAST_KDF, manualClock, newVault } from '../support/vault';

const TOTP = parseOtpUri('otpauth://totp/Acme:ops?secret=JBSWY3DPEHPK3PXP&issuer=Acme');
const YEAR_MS = 365 * 24 * 3600_000;

/**
 * A clock that moves one millisecond at every read, as a real one moves between the reads of a
 * call: set just before a step's end, a call that read "now" twice sees two steps.
 */
function tickingClock(start = Date.UTC(2026, 10, 22, 9, 0, 0)): Clock & { set(ms: number): void } {
  let now = start;
  return { now: () => now++, set: (ms) => { now = ms; } };
}

/** The first millisecond of the step after `ms`'s (30-second periods). */
function nextStepStart(ms: number): number {
  return (timeStep(ms, 30) + 1) * 30_000;
}

async function vaultWithCody<C extends Clock>(clock: C) {
  const { file, session: owner } = await newVault(clock);
  await owner.createUser('cody', 'codes_only', 'cody password', FAST_KDF);
  await owner.createUser('tom', 'technician', 'tom password', FAST_KDF);
  const entry = await owner.createEntry({ customer: 'Acme', title: 'M365', otp: TOTP });
  const vault = Vault.open(file, clock);
  const as = async (name: string) => {
    const session = await vault.signIn(name, `${name} password`);
    await session.changePassword(`${name} password`, `${name} own password`, FAST_KDF);
    return session;
  };
  return { file, clock, owner, entry, as };
}

describe('codes for someone who may not see the key', () => {
  it('gets the current code (and the next), never one at another time', async () => {
    const { clock, entry, as } = await vaultWithCody(manualClock());
    const cody = await as('cody');
    const now = await cody.otpCode(entry.id, clock.now());
    const expected = totpCode(TOTP.params, clock.now());
    expect(now).toMatchObject({ code: expected.code, next: expected.next });
    for (const at of [clock.now() + YEAR_MS, clock.now() + 30_000, clock.now() - 30_000, 0]) {
      await expect(cody.otpCode(entry.id, at), String(at)).rejects.toThrow(expect.objectContaining({ code: 'FORBIDDEN' }) as unknown);
    }
  });

  it('someone who may see the key may ask for another time, and each such code is audited with its step', async () => {
    const { clock, owner, entry, as } = await vaultWithCody(manualClock());
    const tom = await as('tom');
    const at = clock.now() + YEAR_MS;
    expect((await tom.otpCode(entry.id, at)).code).toBe(totpCode(TOTP.params, at).code);
    expect((await tom.otpCode(entry.id, at)).code).toBe(totpCode(TOTP.params, at).code);
    const rows = (await owner.auditLog()).filter((r) => r.actor === 'tom' && r.action === 'otp.code_at');
    expect(rows.map((r) => r.detail)).toEqual([`Acme/M365 (step ${timeStep(at, 30)})`, `Acme/M365 (step ${timeStep(at, 30)})`]);
  });

  it('passive views are audited once per interval with their step; copies every time', async () => {
    const { clock, owner, entry, as } = await vaultWithCody(manualClock());
    const cody = await as('cody');
    await cody.otpCode(entry.id, clock.now());
    await cody.otpCode(entry.id, clock.now());
    await cody.otpCode(entry.id, clock.now(), 'copy');
    await cody.otpCode(entry.id, clock.now(), 'copy');
    const rows = (await owner.auditLog()).filter((r) => r.actor === 'cody' && r.action.startsWith('otp.'));
    const step = timeStep(clock.now(), 30);
    expect(rows.map((r) => `${r.action} ${r.detail}`)).toEqual([
      `otp.code Acme/M365 (step ${step})`,
      `otp.copy Acme/M365 (step ${step})`,
      `otp.copy Acme/M365 (step ${step})`,
    ]);
  });

  it('a passive view is audited again only after 10 minutes, or in a new session (#11: at most once per entry per session or 10 minutes)', async () => {
    const { file, clock, owner, entry, as } = await vaultWithCody(manualClock());
    const cody = await as('cody');
    const views = async (): Promise<number> => (await owner.auditLog()).filter((r) => r.actor === 'cody' && r.action === 'otp.code').length;
    await cody.otpCode(entry.id, clock.now());
    expect(await views()).toBe(1);
    // A list row asks every period: 19 more periods inside the 10 minutes add nothing.
    for (let i = 0; i < 19; i++) {
      clock.advance(30_000);
      await cody.otpCode(entry.id, clock.now());
    }
    expect(await views()).toBe(1);
    clock.advance(30_000); // 10 minutes since the first view
    await cody.otpCode(entry.id, clock.now());
    expect(await views()).toBe(2);
    await cody.otpCode(entry.id, clock.now());
    expect(await views()).toBe(2);
    // Signed in again: a new session records its first view at once.
    const again = await Vault.open(file, clock).signIn('cody', 'cody own password');
    await again.otpCode(entry.id, clock.now());
    expect(await views()).toBe(3);
  });

  it('the CLI refuses --at a year ahead for codes-only, and prints the code for a technician', async () => {
    const { file } = await vaultWithCody(manualClock());
    const at = String(Math.floor((Date.now() + YEAR_MS) / 1000));
    // First sign-ins change the one-time passwords through the CLI's own passwd.
    for (const name of ['cody', 'tom']) {
      const changed = crewvault(['passwd', '--vault', file, '--as', name], { input: `${name} password\n${name} cli password\n` });
      expect(changed.status, changed.stderr).toBe(0);
    }
    const cody = crewvault(['otp', '--vault', file, '--as', 'cody', 'Acme/M365', '--at', at], { input: 'cody cli password\n' });
    expect(cody.status).toBe(1);
    expect(cody.stderr).toMatch(/^crewvault: FORBIDDEN: .*current code/);
    expect(cody.stdout).toBe('');
    const tom = crewvault(['otp', '--vault', file, '--as', 'tom', 'Acme/M365', '--at', at], { input: 'tom cli password\n' });
    expect(tom.status, tom.stderr).toBe(0);
    expect(tom.stdout.trim()).toBe(totpCode(TOTP.params, Number(at) * 1000).code);
  });
});

describe('"now" for a code is read once, where the code is computed', () => {
  // A caller that read the time itself, then signed in or waited for the writer, could hand in
  // the last millisecond of a step while the vault's own read was in the next: someone who may
  // see the current code only was refused it as "a code at another time" (the CLI's otp did so
  // whenever its sign-in crossed a step's end). Each case below starts 1 to 40 ms before a
  // step's end, so some start lands on the ms between the two reads whatever their count.
  const STARTS = Array.from({ length: 40 }, (_, i) => i + 1);

  it('through the service: a code without a time is the current one, never FORBIDDEN', async () => {
    const clock = tickingClock();
    const { entry, as } = await vaultWithCody(clock);
    const cody = await as('cody');
    for (const before of STARTS) {
      const boundary = nextStepStart(clock.now() + 60_000);
      clock.set(boundary - before);
      const code = await cody.otpCode(entry.id, undefined, 'copy');
      expect([totpCode(TOTP.params, boundary - 1).code, totpCode(TOTP.params, boundary).code], `${before} ms before`).toContain(code.code);
    }
  });

  it('through the router: the screen\'s code and its copy', async () => {
    const clock = tickingClock();
    const { file, entry } = await vaultWithCody(clock);
    const router = new Router({ vaultPath: file, clock, clipboard: { kind: 'page' }, kdf: FAST_KDF });
    try {
      ok(await router.call('session.signIn', { username: 'cody', password: 'cody password' }));
      ok(await router.call('session.changePassword', { current: 'cody password', next: 'cody own password' }));
      for (const before of STARTS) {
        for (const [method, input] of [['otp.code', { id: entry.id }], ['secrets.copy', { id: entry.id, what: 'otpCode' }]] as const) {
          clock.set(nextStepStart(clock.now() + 60_000) - before);
          const reply = await router.call(method, input);
          expect(reply.ok ? 'ok' : reply.error.code, `${method} ${before} ms before`).toBe('ok');
        }
      }
    } finally {
      await router.close();
    }
  });

  it('through the CLI\'s otp, whose sign-in reads the clock many times', async () => {
    const clock = tickingClock();
    const { file, owner } = await vaultWithCody(clock);
    await owner.close();
    const runtime = mkdtempSync(path.join(tmpdir(), 'crewvault-codes-window-'));
    const cli = async (secrets: string[], ...args: string[]): Promise<{ status: number; out: string; err: string }> => {
      let out = '';
      let err = '';
      const io: CliIo = {
        out: (text) => { out += text; }, err: (text) => { err += text; }, readStdin: () => Promise.resolve(undefined),
        readSecret: () => Promise.resolve(secrets.shift() ?? ''), interactive: false, now: clock.now, env: { XDG_RUNTIME_DIR: runtime },
      };
      return { status: await runCli([...args, '--vault', file, '--as', 'cody'], io), out, err };
    };
    expect(await cli(['cody password', 'cody own password'], 'passwd')).toMatchObject({ status: 0, err: '' });
    for (const before of STARTS) {
      const boundary = nextStepStart(clock.now() + 60_000);
      clock.set(boundary - before);
      const result = await cli(['cody own password'], 'otp', 'Acme/M365');
      expect({ status: result.status, err: result.err }, `${before} ms before`).toEqual({ status: 0, err: '' });
      expect([totpCode(TOTP.params, boundary - 1).code, totpCode(TOTP.params, boundary).code]).toContain(result.out.trim());
    }
  });
});
