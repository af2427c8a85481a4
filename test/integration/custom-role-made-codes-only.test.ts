/**
 * An owner redefining a custom role so it only sees codes, while a holder of it is in a group whose
 * codes the server computes (review 13a hole 1's rule seen from an honest desktop): the owner's
 * desktop rotates the group (its holder re-wrapped without the secret key) and sends the role and
 * the rotation in one sync. The server refuses a role record that makes a holder of the secret key
 * codes-only at the group's current version, so the role must reach it after the rotation, and a
 * role widened (the secret key given back at the same version) before the wraps that give it.
 * Each way the owner's sync is ok, the holder's desktop follows, and a code comes from the right place.
 * Real server on PGlite, real vault files, the CLI's `crewvault sync`. Must never print a key or a code.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BOB, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 5, 0, 0));
const desktops = useTeamDesktops('crewvault-role-codes-only', clock);
const { a, b, onDesktop, sync } = desktops;
const FIELDTECH = ['entries.view', 'passwords.reveal', 'otp.view', 'otp.reveal_secret', 'entries.create', 'entries.edit', 'entries.delete'];
const CODES_ONLY = ['entries.view', 'otp.view'];

/** Bob's wrap of `groupId` in `file`: the group's version there and whether it holds the secret key. */
function bobsWrap(file: string, groupId: number): { version: number; secret: boolean } {
  const db = new Database(file, { readonly: true });
  try {
    const row = db.prepare(`SELECT g.key_version AS version, gk.wrapped_secret_key IS NOT NULL AS secret FROM group_keys gk
      JOIN users u ON u.id = gk.user_id JOIN access_groups g ON g.id = gk.group_id WHERE u.name = ? AND gk.group_id = ?`).get(BOB, groupId) as { version: number; secret: number } | undefined;
    if (row === undefined) throw new Error('bob holds no wrap of the group');
    return { version: row.version, secret: row.secret === 1 };
  } finally {
    db.close();
  }
}

describe('a custom role made codes-only, and widened again, while its holder is in a server-codes group', () => {
  it('the owner\'s sync is ok each way and the holder\'s desktop follows', async () => {
    const ops = desktops.opsId;
    await onDesktop(a, async (s) => {
      await s.team.defineRole('Fieldtech', FIELDTECH, 0);
      await s.team.changeRole(BOB, 'Fieldtech', await s.team.userRevision(BOB));
      await s.team.setServerCodes(ops, true, await s.team.groupRevision(ops));
    });
    expect((await sync(a)).code).toBe('ok');
    expect((await sync(b)).code).toBe('ok');
    expect(bobsWrap(b.file, ops).secret).toBe(true);

    // Narrowed to codes-only: the rotation must be stored before the role.
    await onDesktop(a, async (s) => s.team.defineRole('Fieldtech', CODES_ONLY, await s.team.roleRevision('Fieldtech')));
    const narrowed = await sync(a);
    expect(narrowed.code, narrowed.stderr).toBe('ok');
    expect((await sync(a)).code).toBe('ok');
    const bobNarrowed = await sync(b);
    expect(bobNarrowed.code, bobNarrowed.stderr).toBe('ok');
    expect(bobsWrap(b.file, ops)).toEqual({ version: bobsWrap(a.file, ops).version, secret: false });

    // Widened again: the role must be stored before the wraps that give the secret key back.
    await onDesktop(a, async (s) => s.team.defineRole('Fieldtech', FIELDTECH, await s.team.roleRevision('Fieldtech')));
    const widened = await sync(a);
    expect(widened.code, widened.stderr).toBe('ok');
    const bobWidened = await sync(b);
    expect(bobWidened.code, bobWidened.stderr).toBe('ok');
    expect(bobsWrap(b.file, ops)).toEqual({ version: bobsWrap(a.file, ops).version, secret: true });
    expect(await onDesktop(b, async (s) => s.revealPassword((await s.resolvePath('Acme/Switch')).id))).toBe('s-1');
  }, 180_000);
});
