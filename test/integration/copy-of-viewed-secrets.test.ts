// A code or secret the vault handed out to view, copied by the page through clipboard.copy, is
// copied by the vault's copy path and audited as a copy, or refused (review round eleven hole 2;
// the reviewer's two cases kept, plus a username (free text, copied as before), an OTP key and an
// HOTP code (refused, nothing copied)). Was:
// Review round eleven, hole (class: a code copied through the page is filed as a passive view).
// 1155144 decides the code actions in the vault: otp.code (a current-step view, deduplicated per
// session and hidden by default on the audit screen) vs otp.copy. But the desktop door also has
// clipboard.copy, which copies ANY text the page passes: a page (or a renderer compromised by a
// pasted link) takes the code from otp.code and copies it itself, and the vault, which handed that
// very code out seconds ago, files it as a view. The same for a password taken by secrets.reveal
// and copied by clipboard.copy: a reveal row, never a copy row. Real router, vault file, the
// injected clock. Secrets compared, never printed. FAILS on 70c7f83.
import { describe, expect, it } from 'vitest';
import { errorCode, newRouter, ok, RFC } from '../support/review-nine';
import { OWNER, PASSWORD } from '../support/vault';

describe('HOLE r11-copy (class: the page copies what the vault handed out for viewing)', () => {
  it('otp.code then clipboard.copy of that code puts the code on the clipboard with no otp.copy row', async () => {
    const { router } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    const entry = ok(await router.call('entries.create', { customer: 'Acme', title: 'Mail', otp: { uri: `otpauth://totp/Acme:ops?secret=${RFC}` } })) as { id: number };
    const shown = ok(await router.call('otp.code', { id: entry.id })) as { code: string };
    ok(await router.call('clipboard.copy', { text: shown.code }));
    const log = ok(await router.call('audit.list', {})) as Array<{ action: string }>;
    const actions = log.map((r) => r.action);
    expect(actions.filter((a) => a === 'otp.copy').length, 'the code reached the clipboard; the log says it was only viewed').toBe(1);
  });

  it('secrets.reveal then clipboard.copy of that password leaves no copy row', async () => {
    const { router } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    const entry = ok(await router.call('entries.create', { customer: 'Acme', title: 'Router', password: 'review eleven pw' })) as { id: number };
    const revealed = ok(await router.call('secrets.reveal', { id: entry.id, what: 'password' })) as { password?: string };
    ok(await router.call('clipboard.copy', { text: revealed.password ?? '' }));
    const log = ok(await router.call('audit.list', {})) as Array<{ action: string }>;
    expect(log.some((r) => /copy/.test(r.action)), 'the password reached the clipboard; the log has no copy').toBe(true);
  });

  it('a username is free text: copied as before, no refusal', async () => {
    const { router } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    const entry = ok(await router.call('entries.create', { customer: 'Acme', title: 'Router', username: 'ops-admin', password: 'review eleven pw' })) as { id: number };
    const got = ok(await router.call('entries.get', { id: entry.id })) as { username: string };
    const copied = ok(await router.call('clipboard.copy', { text: got.username })) as { value?: string };
    expect(copied.value === 'ops-admin').toBe(true);
  });

  it('an OTP key revealed, then clipboard.copy of it (key or URI): refused, nothing copied', async () => {
    const { router } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    const entry = ok(await router.call('entries.create', { customer: 'Acme', title: 'Mail', otp: { uri: `otpauth://totp/Acme:ops?secret=${RFC}` } })) as { id: number };
    const revealed = ok(await router.call('secrets.reveal', { id: entry.id, what: 'otpSecret' })) as { otpSecret?: string; otpUri?: string };
    expect(errorCode(await router.call('clipboard.copy', { text: revealed.otpSecret ?? '' }))).toBe('FORBIDDEN');
    expect(errorCode(await router.call('clipboard.copy', { text: revealed.otpUri ?? '' }))).toBe('FORBIDDEN');
  });

  it('an HOTP code shown, then clipboard.copy of it: refused (its Copy takes a code of its own), the counter not stepped again', async () => {
    const { router } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    const entry = ok(await router.call('entries.create', { customer: 'Acme', title: 'Token', otp: { uri: `otpauth://hotp/Acme:ops?secret=${RFC}&counter=0` } })) as { id: number };
    const shown = ok(await router.call('otp.code', { id: entry.id })) as { code: string };
    const codeRows = async (): Promise<number> => (ok(await router.call('audit.list', {})) as Array<{ action: string }>).filter((r) => r.action.startsWith('otp.')).length;
    const before = await codeRows();
    expect(errorCode(await router.call('clipboard.copy', { text: shown.code }))).toBe('FORBIDDEN');
    expect(await codeRows(), 'the refused copy took or recorded a code').toBe(before);
    // The vault's copy path still works for it.
    const copied = ok(await router.call('secrets.copy', { id: entry.id, what: 'otpCode' })) as { value?: string };
    expect(typeof copied.value === 'string' && /^\d{6}$/.test(copied.value)).toBe(true);
  });
});
