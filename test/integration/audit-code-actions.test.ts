// Audit actions of one-time codes (review round nine hole 3, #11/#13): only a current-step TOTP
// code shown on a screen is the passive, deduplicated otp.code; every code handed out on purpose
// (CLI print, copy, another step, every HOTP code) is written each time under its own action.
// The reviewer's three cases plus the rest of the class. Real vault files, sockets, the injected
// clock. Must never print a secret (the values below are test values, compared, not logged).
import { describe, expect, it } from 'vitest';
import { newRouter, ok, RFC, T0, code, holdInAgent, runUnlocked, Vault, parseOtpUri, manualClock, newVault, OWNER, PASSWORD } from '../support/review-nine';
/** RFC 4226's published HOTP values for its test key (Appendix D). */
function hotpVector(counter: number): string {
  return ['755224', '287082', '359152', '969429', '338314'][counter] ?? '';
}

describe('HOLE 3 (class: a code that leaves the vault on purpose is audited as a passive screen view — deduplicated per session and hidden behind "Show code views")', () => {
  async function setUp() {
    const clock = manualClock(T0);
    const { file, session: owner } = await newVault(clock);
    const otp = parseOtpUri(`otpauth://totp/Acme:ops?secret=${RFC}&issuer=Acme`);
    await owner.createEntry({ customer: 'Acme', title: 'Mail', username: 'ops', otp: { params: otp.params } });
    owner.lock();
    const vault = Vault.open(file, clock);
    const session = await vault.signIn(OWNER, PASSWORD);
    const held = await holdInAgent(vault, file, session, clock);
    const otpRows = async () => (await session.auditLog(10_000)).filter((r) => r.action.startsWith('otp.'));
    return { clock, file, session, otpRows, ...held };
  }

  it('three "crewvault otp" commands in an unlocked terminal, each printing the code for a script, leave one audit row', async () => {
    const { clock, file, io, output, otpRows } = await setUp();
    const before = (await otpRows()).length;
    for (let i = 0; i < 3; i++) {
      expect(await runUnlocked('otp', ['Acme/Mail', '--vault', file], io)).toBe(0);
      expect(output().stdout).toBe(`${code(RFC, clock.now())}\n`);
      clock.advance(60_000);
    }
    // Held: each command that hands a code out (to a pipe, a script, a clipboard tool) is an act.
    expect((await otpRows()).length - before, 'codes handed out by the CLI were deduplicated as passive views').toBe(3);
  });

  it('a code for a FUTURE step ("otp --at", collecting codes ahead) is audited as otp.code, the action the audit screen hides by default', async () => {
    const { clock, file, io, output, otpRows } = await setUp();
    const future = Math.floor(clock.now() / 1000) + 3600;
    expect(await runUnlocked('otp', ['Acme/Mail', '--at', String(future), '--vault', file], io)).toBe(0);
    expect(output().stdout).toBe(`${code(RFC, future * 1000)}\n`);
    const rows = await otpRows();
    const ahead = rows[rows.length - 1];
    expect(ahead?.detail).toContain(`step ${Math.floor(future / 30)}`);
    // AuditScreen.tsx hides action === 'otp.code' unless "Show code views" is on.
    expect(ahead?.action, 'a look-ahead code is recorded under the hidden "code view" action').not.toBe('otp.code');
  });

  it('an HOTP code (each one consumes the counter: the next person gets the next) is audited as otp.code from the desktop, hidden by default like a screen refresh', async () => {
    const { router } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    const hotp = parseOtpUri(`otpauth://hotp/Acme:vpn?secret=${RFC}&counter=0`);
    const entry = ok(await router.call('entries.create', { customer: 'Acme', title: 'VPN token', otp: { uri: `otpauth://hotp/Acme:vpn?secret=${RFC}&counter=0` } })) as { id: number };
    expect(hotp.params.kind).toBe('hotp');
    const first = ok(await router.call('otp.code', { id: entry.id })) as { code: string; counter: number };
    expect(first.code).toBe(hotpVector(0));
    const log = ok(await router.call('audit.list', {})) as Array<{ action: string; detail: string }>;
    const row = log.find((r) => r.detail.includes('HOTP counter 0'));
    expect(row).toBeDefined();
    expect(row?.action, 'an HOTP code handed out is filed under the hidden "code view" action').not.toBe('otp.code');
  });

  it('the rest of the class: CLI prints, copies, other steps and HOTP codes are each written every time; only screen views of the current step are deduplicated', async () => {
    const { clock, file, io, output, otpRows } = await setUp();
    const before = (await otpRows()).length;
    // Two prints inside one step and one interval: two rows, otp.print.
    for (let i = 0; i < 2; i++) {
      expect(await runUnlocked('otp', ['Acme/Mail', '--vault', file], io)).toBe(0);
      output();
    }
    // A code for a step already past: otp.code_at, even asked twice.
    const past = Math.floor(clock.now() / 1000) - 600;
    for (let i = 0; i < 2; i++) {
      expect(await runUnlocked('otp', ['Acme/Mail', '--at', String(past), '--vault', file], io)).toBe(0);
      expect(output().stdout).toBe(`${code(RFC, past * 1000)}\n`);
    }
    const rows = (await otpRows()).slice(before).map((r) => r.action);
    expect(rows).toEqual(['otp.print', 'otp.print', 'otp.code_at', 'otp.code_at']);
  });

  it('through the desktop: three screen views in one interval are one otp.code, two copies two otp.copy, and an HOTP code copied is otp.hotp', async () => {
    const { router } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    const totp = ok(await router.call('entries.create', { customer: 'Acme', title: 'Mail', otp: { uri: `otpauth://totp/Acme:ops?secret=${RFC}` } })) as { id: number };
    const hotp = ok(await router.call('entries.create', { customer: 'Acme', title: 'VPN token', otp: { uri: `otpauth://hotp/Acme:vpn?secret=${RFC}&counter=0` } })) as { id: number };
    for (let i = 0; i < 3; i++) ok(await router.call('otp.code', { id: totp.id }));
    for (let i = 0; i < 2; i++) ok(await router.call('secrets.copy', { id: totp.id, what: 'otpCode' }));
    ok(await router.call('secrets.copy', { id: hotp.id, what: 'otpCode' }));
    ok(await router.call('otp.code', { id: hotp.id }));
    const log = (ok(await router.call('audit.list', {})) as Array<{ action: string; detail: string }>).filter((r) => r.action.startsWith('otp.'));
    expect(log.map((r) => r.action)).toEqual(['otp.code', 'otp.copy', 'otp.copy', 'otp.hotp', 'otp.hotp']);
    expect(log[3]?.detail).toContain('HOTP counter 0, copied');
    expect(log[4]?.detail).toContain('HOTP counter 1');
  });
});
