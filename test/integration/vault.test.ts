// The vault through its service, on real files: round trips, sign-in, codes, reveals, audit.
import { describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import { CrewvaultError } from '../../shared/errors';
import { parseOtpUri } from '../../shared/otp';
import { manualClock, newVault, OWNER, PASSWORD } from '../support/vault';

const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const totpUri = `otpauth://totp/Microsoft:admin@acme.com?secret=${RFC_SECRET}&digits=8&issuer=Microsoft`;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CrewvaultError) return error.code;
    throw error;
  }
  return 'ok';
}

describe('the vault service', () => {
  it('round-trips an entry through close and a fresh sign-in', async () => {
    const { file, session, clock } = await newVault();
    const created = await session.createEntry({
      customer: 'Acme Corp', title: 'Microsoft 365 admin', username: 'admin@acme.com', password: 'hunter2!',
      url: 'https://portal.office.com', notes: 'Break-glass account', otp: parseOtpUri(totpUri),
    });
    session.lock();
    const vault = Vault.open(file, clock);
    const again = await vault.signIn(OWNER, PASSWORD);
    const details = await again.getEntry(created.id);
    expect(details).toMatchObject({
      customer: 'Acme Corp', title: 'Microsoft 365 admin', username: 'admin@acme.com', url: 'https://portal.office.com',
      notes: 'Break-glass account', hasPassword: true, otp: { kind: 'totp', algorithm: 'SHA1', digits: 8, period: 30, issuer: 'Microsoft' },
    });
    expect(JSON.stringify(details)).not.toContain('hunter2');
    expect(JSON.stringify(details)).not.toContain(RFC_SECRET);
    expect(await again.revealPassword(created.id)).toBe('hunter2!');
    expect((await again.revealOtpSecret(created.id)).secret).toBe('GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ');
    expect(await again.otpCode(created.id, 59_000)).toMatchObject({ code: '94287082' });
    await vault.close();
  });

  it('refuses a wrong password and an unknown user alike, and audits both', async () => {
    const { file, session, clock } = await newVault();
    session.lock();
    const vault = Vault.open(file, clock);
    expect(await codeOf(vault.signIn(OWNER, 'wrong password'))).toBe('WRONG_PASSWORD');
    expect(await codeOf(vault.signIn('mallory', PASSWORD))).toBe('WRONG_PASSWORD');
    const ok = await vault.signIn(undefined, PASSWORD);
    expect(ok.user.name).toBe(OWNER);
    // An unknown name is audited by a keyed tag, never in clear (it may be a mistyped password).
    expect((await ok.auditLog()).map((r) => `${r.action}:${r.actor ?? '-'}:${r.detail}`)).toEqual([
      'vault.create:alice:alice', 'signin.failed:alice:alice', expect.stringMatching(/^signin\.failed:-:unknown user [0-9a-f]{12}$/), 'signin.ok:alice:alice',
    ]);
    expect(await vault.verifyAudit()).toEqual({ ok: true, rows: 4 });
    await vault.close();
  });

  it('finds "Customer/Title" exactly, case- and space-insensitively, and says when it is ambiguous', async () => {
    const { session } = await newVault();
    await session.createEntry({ customer: 'Acme Corp', title: 'VPN', otp: parseOtpUri(totpUri) });
    await session.createEntry({ customer: 'Acme/Corp', title: 'Router', username: 'root' });
    await session.createEntry({ customer: 'Beta', title: 'VPN' });
    await session.createEntry({ customer: 'Beta', title: 'vpn ' });
    expect((await session.resolvePath('acme  corp/vpn')).title).toBe('VPN');
    expect((await session.resolvePath('Acme/Corp/Router')).username).toBe('root');
    await expect(session.resolvePath('Acme Corp/Nope')).rejects.toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    await expect(session.resolvePath('Beta/VPN')).rejects.toThrow(expect.objectContaining({ code: 'AMBIGUOUS' }));
    await expect(session.resolvePath('no slash')).rejects.toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('lists, searches and counts by customer', async () => {
    const { session } = await newVault();
    await session.createEntries([
      { customer: 'Acme Corp', title: 'VPN', username: 'ops', url: 'https://vpn.acme.example' },
      { customer: 'Acme Corp', title: 'Firewall', username: 'admin' },
      { customer: 'Beta Ltd', title: 'Mail', username: 'postmaster', url: 'https://mail.beta.example' },
    ]);
    expect((await session.listEntries()).map((e) => `${e.customer}/${e.title}`)).toEqual(['Acme Corp/Firewall', 'Acme Corp/VPN', 'Beta Ltd/Mail']);
    expect(await session.listEntries({ customer: 'acme corp' })).toHaveLength(2);
    expect((await session.listEntries({ search: 'BETA.example' })).map((e) => e.title)).toEqual(['Mail']);
    expect((await session.listEntries({ search: 'admin' })).map((e) => e.title)).toEqual(['Firewall']);
    expect(await session.listCustomers()).toEqual([
      { id: expect.any(Number) as number, name: 'Acme Corp', entryCount: 2 },
      { id: expect.any(Number) as number, name: 'Beta Ltd', entryCount: 1 },
    ]);
  });

  it('edits, removes an OTP and deletes, auditing field names but never values', async () => {
    const { session } = await newVault();
    const entry = await session.createEntry({ customer: 'Acme', title: 'VPN', password: 'old-secret', otp: parseOtpUri(totpUri) });
    await session.updateEntry(entry.id, { password: 'new-secret', title: 'VPN gateway' }, (await session.getEntry(entry.id)).revision);
    expect(await session.revealPassword(entry.id)).toBe('new-secret');
    expect((await session.resolvePath('Acme/VPN gateway')).id).toBe(entry.id);
    expect(await session.findByPath('Acme/VPN')).toEqual([]);
    await session.updateEntry(entry.id, { otp: null }, (await session.getEntry(entry.id)).revision);
    expect((await session.getEntry(entry.id)).otp).toBeNull();
    await expect(session.otpCode(entry.id)).rejects.toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    await session.deleteEntry(entry.id, (await session.getEntry(entry.id)).revision);
    await expect(session.getEntry(entry.id)).rejects.toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    const log = (await session.auditLog()).map((r) => `${r.action} ${r.detail}`);
    expect(log.slice(-5)).toEqual([
      'entry.create Acme/VPN', 'entry.edit Acme/VPN gateway (password, title)', 'password.reveal Acme/VPN gateway',
      'entry.remove_otp Acme/VPN gateway (otp)', 'entry.delete Acme/VPN gateway',
    ]);
    expect(JSON.stringify(log)).not.toContain('secret');
  });

  it('advances and persists an HOTP counter each time a code is used', async () => {
    const clock = manualClock();
    const { file, session } = await newVault(clock);
    const entry = await session.createEntry({ customer: 'Bank', title: 'Token', otp: parseOtpUri(`otpauth://hotp/Bank:me?secret=${RFC_SECRET}&counter=0`) });
    expect(await session.otpCode(entry.id)).toEqual({ kind: 'hotp', code: '755224', next: '287082', counter: 0 });
    expect(await session.otpCode(entry.id)).toEqual({ kind: 'hotp', code: '287082', next: '359152', counter: 1 });
    session.lock();
    const vault = Vault.open(file, clock);
    const again = await vault.signIn(OWNER, PASSWORD);
    expect(await again.otpCode(entry.id)).toMatchObject({ code: '359152', counter: 2 });
    await vault.close();
  });

  it('refuses bad input with INVALID_INPUT and changes nothing', async () => {
    const { session } = await newVault();
    const before = (await session.auditLog()).length;
    for (const input of [
      { customer: ' ', title: 'x' },
      { customer: 'Acme', title: '' },
      { customer: 'Acme', title: 'x'.repeat(201) },
      { customer: 'Acme', title: 'bell\u0007' },
      { customer: 'Acme', title: 'x', otp: { params: { kind: 'totp' as const, secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1' as const, digits: 9, period: 30, counter: 0 } } },
    ]) {
      await expect(session.createEntry(input)).rejects.toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
    expect(await session.listEntries()).toEqual([]);
    expect(await session.listCustomers()).toEqual([]);
    expect(await session.auditLog()).toHaveLength(before);
  });

  it('answers LOCKED after lock', async () => {
    const { session } = await newVault();
    session.lock();
    await expect(session.listEntries()).rejects.toThrow(expect.objectContaining({ code: 'LOCKED' }));
  });

  it('imports otpauth lines: good ones together, bad ones by line number', async () => {
    const { session } = await newVault();
    const text = [
      '# exported from an old phone',
      totpUri,
      '',
      'otpauth://totp/alice@example.com?secret=JBSWY3DPEHPK3PXP',
      'otpauth://totp/GitHub:octo?secret=JBSWY3D0EHPK3PXP',
      'otpauth://hotp/Bank:me?secret=JBSWY3DPEHPK3PXP&counter=4',
      'not a uri',
    ].join('\n');
    const result = await session.importOtpauth(text);
    expect(result.added.map((e) => `${e.customer}/${e.title}/${e.username}`)).toEqual(['Microsoft/Microsoft/admin@acme.com', 'Bank/Bank/me']);
    expect(result.problems.map((p) => p.line)).toEqual([4, 5, 7]);
    expect(result.problems[1]?.message).toContain('Line 5: Secret key has "0" at position 8');
    const withCustomer = await session.importOtpauth('otpauth://totp/alice@example.com?secret=JBSWY3DPEHPK3PXP', { customer: 'Acme Corp' });
    expect(withCustomer.added.map((e) => `${e.customer}/${e.title}`)).toEqual(['Acme Corp/alice@example.com']);
  });
});
