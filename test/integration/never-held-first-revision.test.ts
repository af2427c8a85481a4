/**
 * A desktop that never held an entry's first revision judges a later one as the change it is, not
 * as its latest author's creating it (hostile review of #15). bob's custom role loses
 * entries.create after he edits (or moves) an entry: its record now carries revision 2, base 1,
 * his name. carol's desktop, which never held it (granted its group after, or the entry moved into
 * hers), judged it as a new entry (entries.create in a group they hold) and set it aside for good:
 * the entry missing from a group she holds, on her desktop only. Now a record based on a revision
 * the team held (base > 0) whose earlier revisions this desktop never held needs what a change
 * of it in its group needs (entries.edit; a tombstone entries.delete). The same for an entry an
 * event alone named here first (namedOnlyEntry's tombstone).
 * A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync
 * (test/support/team-desktops.ts). Must never put a password in a process argument.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import { BOB, CAROL, entryUidIn, pullsWithholding, setAsideOn, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 7, 6, 0, 0));
const team = useTeamDesktops('crewvault-never-held-first', clock);
const { a, b, c, onDesktop, answer, setPassword } = team;

const TECH = ['entries.view', 'passwords.reveal', 'otp.view', 'entries.create', 'entries.edit'];
const NO_CREATE = ['entries.view', 'passwords.reveal', 'otp.view', 'entries.edit'];

async function passwordOn(d: Desktop, title: string): Promise<string | undefined> {
  return onDesktop(d, async (s) => {
    const entry = (await s.listEntries()).find((e) => e.title === title);
    return entry === undefined ? undefined : s.revealPassword(entry.id);
  });
}

/** Whether `file` holds entry `uid` only as the tombstone an event alone made of it (revision 0, key version 0, deleted). */
function namedOnlyIn(file: string, uid: string): boolean {
  const db = new Database(file, { readonly: true });
  try {
    const row = db.prepare('SELECT revision, key_version, deleted_at FROM entries WHERE uid = ?').get(Buffer.from(uid.replaceAll('-', ''), 'hex')) as { revision: number; key_version: number; deleted_at: number | null } | undefined;
    return row !== undefined && row.revision === 0 && row.key_version === 0 && row.deleted_at !== null;
  } finally {
    db.close();
  }
}

/** Moves the entry at `entryPath` into the default group (Printer's) on `d`. */
async function moveToPrinters(d: Desktop, entryPath: string): Promise<void> {
  await onDesktop(d, async (s) => {
    const entry = await s.resolvePath(entryPath);
    const target = (await s.getEntry((await s.resolvePath('Acme/Printer')).id)).groupId;
    await s.team.moveEntry(entry.id, target, entry.revision ?? -1);
  });
}

describe('a later revision of an entry this desktop never held', () => {
  it('an edit by someone who may not add entries is taken when the group is granted after it', async () => {
    await onDesktop(a, async (s) => {
      await s.team.defineRole('NoCreate', NO_CREATE, 0);
      await s.team.changeRole(BOB, 'NoCreate', await s.team.userRevision(BOB));
      await s.createEntry({ customer: 'Acme', title: 'Camera', password: 'cam-1', groupId: team.opsId });
    });
    expect(await answer(a)).toBe('ok');
    expect(await answer(b)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    clock.advance(1_000);
    await setPassword(b, 'Acme/Camera', 'cam-bob');
    expect(await answer(b)).toBe('ok');
    await onDesktop(a, async (s) => { await s.team.grant(team.opsId, CAROL, false, await s.team.groupRevision(team.opsId)); });
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    // Before: set aside on carol's desktop, 'does what its sender may not (entries.create in a group they hold)'.
    expect(setAsideOn(c)).toEqual([]);
    expect(await passwordOn(c, 'Camera')).toBe('cam-bob');
    expect(await passwordOn(c, 'Firewall')).toBe('f-1');
  });

  it('a move into her group, of an entry she never held, by someone whose role lost entries.create since is taken', async () => {
    await onDesktop(a, async (s) => {
      await s.team.defineRole('Tech', TECH, 0);
      await s.team.changeRole(BOB, 'Tech', await s.team.userRevision(BOB));
      await s.team.revoke(team.opsId, CAROL, await s.team.groupRevision(team.opsId));
      await s.createEntry({ customer: 'Acme', title: 'Gateway', password: 'gw-1', groupId: team.opsId });
    });
    for (const d of [a, b, c]) expect(await answer(d), d.name).toBe('ok');
    clock.advance(1_000);
    await moveToPrinters(b, 'Acme/Gateway');
    expect(await answer(b)).toBe('ok');
    await onDesktop(a, async (s) => s.team.defineRole('Tech', NO_CREATE, await s.team.roleRevision('Tech')));
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    // Before: set aside on carol's desktop, judged as bob creating it in her group.
    expect(setAsideOn(c)).toEqual([]);
    expect(await passwordOn(c, 'Gateway')).toBe('gw-1');
  });

  it('a move into her group of an entry emptied here when her access to its group was removed, by someone whose role lost entries.create since, is taken', async () => {
    await onDesktop(a, async (s) => s.team.defineRole('Tech', TECH, await s.team.roleRevision('Tech')));
    for (const d of [a, b, c]) expect(await answer(d), d.name).toBe('ok');
    clock.advance(1_000);
    await moveToPrinters(b, 'Acme/Firewall');
    expect(await answer(b)).toBe('ok');
    await onDesktop(a, async (s) => s.team.defineRole('Tech', NO_CREATE, await s.team.roleRevision('Tech')));
    expect(await answer(a)).toBe('ok');
    expect(await answer(c)).toBe('ok');
    // Before: 'does what its sender may not (entries.edit in a group they do not hold)', for good.
    expect(setAsideOn(c)).toEqual([]);
    expect(await passwordOn(c, 'Firewall')).toBe('f-1');
  });

  it('an entry an event alone named here first (its record held back by the server), edited by someone who may not add entries, is taken when its record comes', async () => {
    await onDesktop(a, async (s) => {
      await s.team.changeRole(CAROL, 'NoCreate', await s.team.userRevision(CAROL));
      await s.team.grant(team.opsId, CAROL, false, await s.team.groupRevision(team.opsId));
    });
    for (const d of [a, b, c]) expect(await answer(d), d.name).toBe('ok');
    clock.advance(1_000);
    const kioskId = await onDesktop(a, async (s) => {
      await s.createEntry({ customer: 'Acme', title: 'Kiosk', password: 'kiosk-1', groupId: team.opsId });
      return (await s.resolvePath('Acme/Kiosk')).id;
    });
    expect(await answer(a)).toBe('ok');
    const kioskUid = entryUidIn(a.file, kioskId);
    // bob's desktop syncs through a server that holds Kiosk's record back: the event of its making comes, Kiosk is held as a tombstone named only.
    const kept = await keptSession(serverPlace(b.env), new URL(team.server.url).origin, () => clock.now());
    await onDesktop(b, (s) => syncOnce(pullsWithholding(kept.client, (r) => r.kind === 'entry' && r.id === kioskUid), s.replica));
    expect(await passwordOn(b, 'Kiosk')).toBeUndefined();
    expect(namedOnlyIn(b.file, kioskUid)).toBe(true);
    // carol, who may edit but not add entries, changes it: its record is at revision 2, hers.
    expect(await answer(c)).toBe('ok');
    clock.advance(1_000);
    await setPassword(c, 'Acme/Kiosk', 'kiosk-carol');
    expect(await answer(c)).toBe('ok');
    expect(await answer(b)).toBe('ok');
    // Before: set aside on bob's desktop for good, judged as carol creating it over the tombstone.
    expect(setAsideOn(b)).toEqual([]);
    expect(await passwordOn(b, 'Kiosk')).toBe('kiosk-carol');
  });
});
