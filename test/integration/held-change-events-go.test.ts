/**
 * One change a desktop may not send holds back none of its later audit events (last session's
 * review, LOW 1). carol's custom role Tech loses entries.edit while she holds an unsent edit of
 * Printer: the edit stays on her desktop (sync-role-narrowed-edit.test.ts). She then reveals the
 * password of Router, another entry. Before: the push's sent mark stopped before the edit, and her
 * desktop's events were read only up to that mark, so the reveal's audit event (and every event
 * after the edit) never reached the team: the owner never saw that she read Router's password,
 * at every sync, for as long as the role stayed narrowed. Expected: the reveal reaches the owner
 * at her next sync; the edit still waits on her desktop and goes once the role allows it again.
 * The same for a new entry she made before her role lost entries.create (#15): the event of its
 * making named an entry the owner lacks, so it waited, and every later event of her device with
 * it; now the owner takes it (the entry held there as a tombstone named only) and the events after
 * it, and the owner's whole history verifies.
 * A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync
 * (test/support/team-desktops.ts). Must never put a password in a process argument.
 */
import { describe, expect, it } from 'vitest';
import { CAROL, setAsideOn, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { carolNarrowed } from '../support/carol-narrowed';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 5, 0, 0));
const team = useTeamDesktops('crewvault-held-events', clock);
const { a, b, c, onDesktop, answer, setPassword } = team;
const { carolsEvents, historyOf, passwordOn, carolMakesThenNarrowed, carolRevealsRouter } = carolNarrowed(team, clock);

const TECH = ['entries.view', 'passwords.reveal', 'otp.view', 'entries.create', 'entries.edit'];
const NO_EDIT = ['entries.view', 'passwords.reveal', 'otp.view', 'entries.create'];
const NO_CREATE = ['entries.view', 'passwords.reveal', 'otp.view', 'entries.edit'];
/** Sees codes only: an HOTP code taken moves the entry's counter, a change carol never sends ('counter'). */
const CODES = ['entries.view', 'otp.view'];

/** The password reveals of `title` by carol in the audit log of `d`, as the owner reads it. */
async function carolsReveals(d: Desktop, title: string): Promise<number> {
  return onDesktop(d, async (s) => (await s.auditLog()).filter((r) => r.actor === CAROL && r.action === 'password.reveal' && r.detail.includes(title)).length);
}

describe('carol\'s edit waits on her desktop after her role narrowed', () => {
  it('her later reveal of another entry still reaches the owner', async () => {
    await onDesktop(a, async (s) => {
      await s.team.defineRole('Tech', TECH, 0);
      await s.team.changeRole(CAROL, 'Tech', await s.team.userRevision(CAROL));
      await s.createEntry({ customer: 'Acme', title: 'Router', password: 'r-1' });
    });
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    await setPassword(c, 'Acme/Printer', 'p-carol');
    await onDesktop(a, async (s) => s.team.defineRole('Tech', NO_EDIT, await s.team.roleRevision('Tech')));
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    clock.advance(1_000);
    expect(await passwordOn(c, 'Router')).toBe('r-1');
    expect(await answer(c)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    expect(await answer(a)).toBe('ok');
    expect(await carolsReveals(a, 'Router'), 'carol\'s reveal of Router in the owner\'s audit log').toBe(1);
    // The edit itself still waits on her desktop, not sent, and not lost.
    expect(await passwordOn(a, 'Printer')).toBe('p-1');
    expect(await passwordOn(c, 'Printer')).toBe('p-carol');
    // The role allows it again: the edit goes, after the events already sent (none of them twice).
    await onDesktop(a, async (s) => s.team.defineRole('Tech', TECH, await s.team.roleRevision('Tech')));
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    expect(await answer(a)).toBe('ok');
    expect(await passwordOn(a, 'Printer')).toBe('p-carol');
    expect(await carolsReveals(a, 'Router')).toBe(1);
  });

  it('a codes-only person\'s HOTP counter step, never sent, holds back none of her codes\' events', async () => {
    await onDesktop(a, async (s) => {
      await s.team.defineRole('Codes', CODES, 0);
      await s.team.changeRole(CAROL, 'Codes', await s.team.userRevision(CAROL));
      await s.createEntry({ customer: 'Acme', title: 'Token', otp: { params: { kind: 'hotp', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, period: 30, counter: 0 } } });
      await s.createEntry({ customer: 'Acme', title: 'Mail', otp: { params: { kind: 'totp', secret: 'GEZDGNBVGY3TQOJQ', algorithm: 'SHA1', digits: 6, period: 30, counter: 0 } } });
    });
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    clock.advance(1_000);
    await onDesktop(c, async (s) => {
      const entries = await s.listEntries();
      for (const title of ['Token', 'Mail']) {
        const entry = entries.find((e) => e.title === title);
        if (entry === undefined) throw new Error(`${title} is not on carol's desktop`);
        await s.otpCode(entry.id);
      }
    });
    expect(await answer(c)).toBe('ok');
    expect(await answer(a)).toBe('ok');
    expect(await carolsEvents(a, 'otp.hotp', 'Token'), 'carol\'s HOTP code of Token in the owner\'s log').toBe(1);
    expect(await carolsEvents(a, 'otp.code', 'Mail'), 'carol\'s code of Mail in the owner\'s log').toBe(1);
  });

  it('her reveal after a new entry she may no longer send reaches the owner at once, and so does the entry\'s creation event (#15)', async () => {
    await onDesktop(a, async (s) => {
      await s.team.defineRole('Tech', TECH, await s.team.roleRevision('Tech'));
      await s.team.changeRole(CAROL, 'Tech', await s.team.userRevision(CAROL));
    });
    expect(await answer(a)).toBe('ok');
    // Bob, a member of the group, catches up while her role may add entries.
    for (const d of [c, b]) expect(await answer(d), d.name).toBe('ok');
    await carolMakesThenNarrowed('Acme', 'Carol NAS', 'nas-1', NO_CREATE);
    await carolRevealsRouter();
    expect(await answer(a)).toBe('ok');
    // Before: the event of her entry's making named an entry the owner lacks, so it waited on her desktop, and her
    // reveal after it, for as long as her role stayed narrowed. Now the owner takes it (the entry held there as an
    // emptied tombstone, named only) and every event after it; the entry itself still waits on her desktop.
    expect(setAsideOn(a)).toEqual([]);
    expect(await carolsReveals(a, 'Router'), 'carol\'s second reveal of Router in the owner\'s audit log').toBe(2);
    expect(await carolsEvents(a, 'entry.create', 'Carol NAS'), 'carol\'s making of Carol NAS in the owner\'s log').toBe(1);
    expect(await passwordOn(a, 'Carol NAS')).toBeUndefined();
    expect(await passwordOn(c, 'Carol NAS')).toBe('nas-1');
    // The owner's whole history verifies: every event's signature under its author's key, every device's chain.
    expect(await onDesktop(a, async (s) => (await s.verifyAuditLog()).chain)).toMatchObject({ ok: true });
    // Bob, a member of the group, takes them too: nothing set aside, his history whole.
    expect(await answer(b)).toBe('ok');
    expect(setAsideOn(b)).toEqual([]);
    expect(await historyOf(b)).toMatchObject({ ok: true });
    // Her role may add entries again: the entry goes, taken in over the tombstone, and no event comes twice.
    await onDesktop(a, async (s) => s.team.defineRole('Tech', TECH, await s.team.roleRevision('Tech')));
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    expect(await answer(a)).toBe('ok');
    expect(setAsideOn(a)).toEqual([]);
    expect(await passwordOn(a, 'Carol NAS')).toBe('nas-1');
    expect(await carolsReveals(a, 'Router')).toBe(2);
    expect(await carolsEvents(a, 'entry.create', 'Carol NAS')).toBe(1);
    expect(await onDesktop(a, async (s) => (await s.verifyAuditLog()).chain)).toMatchObject({ ok: true });
  });
});
