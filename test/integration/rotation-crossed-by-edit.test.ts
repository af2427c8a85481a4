/**
 * A rotation crossed by an edit (#15, the BUSY jam docs/SYNC.md names at the end of the
 * concurrent-rotation paragraph): the owner revokes carol on desktop A (A rotates Ops's key and
 * re-seals its entries one revision on) while an edit of one of those entries, made on another
 * desktop under the key A rotated from, reaches the server first (legitimately: the rotation is not
 * there yet). A's re-seal then conflicts on the server and its pull could not take the edit, sealed
 * under a key A no longer held: every sync answered BUSY, for ever. Expected: within a few syncs
 * both desktops hold the edit (nothing lost silently) at the new key version, carol is cut off (no
 * wrap of it), and the key A rotated from is no longer kept once the server stored the rotation. A real server (PGlite, loopback HTTP), the real
 * `crewvault sync` code, a private Secret Service. Must never: put a password in a process
 * argument (answers go on the scripted stdin), or pass while a sync answers BUSY or an edit is lost.
 * Where the key rotated from is not kept (a rotation made by the earlier code), the sync ends in one
 * clear CONFLICT naming why, not BUSY after three rounds (electron/team/sync.ts stuckOnHeld).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { useRotationDesktops } from '../support/rotation-desktops';
import { manualClock } from '../support/vault';

const CAROL = 'carol';
const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));
/** The desktop that rotates (A) and the one whose edit crosses its rotation (B); carol in Ops. */
const world = useRotationDesktops('crewvault-rotation-crossed', clock, { members: [CAROL], second: 'b' });
const { a, a2: b, onDesktop, trySync, sync, setPassword, passwords } = world;

describe('an edit crossing a rotation', () => {
  it('converges within a few syncs: the edit kept under the new key, carol cut off, no BUSY', async () => {
    // A revokes carol (rotating Ops, re-sealing Switch and Firewall); B edits Switch under the old
    // key and its sync reaches the server first.
    await onDesktop(a, async (s) => s.team.revoke(world.opsId, CAROL, await s.team.memberRevision(world.opsId, CAROL)));
    await setPassword(b, 'Acme/Switch', 's-b');
    await sync(b);
    // A syncs: each answer noted, none may be BUSY (or any other error).
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) {
      const out = await trySync(a);
      answers.push(out.code === 'ok' ? 'ok' : out.stderr.trim());
    }
    expect(answers).toEqual(['ok', 'ok', 'ok']);
    await sync(b);
    // B's edit is kept, now under A's new key, on both desktops; Firewall as it was.
    for (const d of [a, b]) expect(await passwords(d), d.name).toEqual(['Firewall=f-1', 'Switch=s-b']);
    // Both hold the new key version and no wrap of it for carol; A kept the key it rotated from
    // only until the server stored its rotation (a revoked member's key does not linger).
    for (const d of [a, b]) {
      const file = new Database(d.file, { readonly: true });
      try {
        expect((file.prepare('SELECT key_version FROM access_groups WHERE id = ?').get(world.opsId) as { key_version: number }).key_version, d.name).toBe(2);
        expect(file.prepare('SELECT count(*) AS n FROM group_keys gk JOIN users u ON u.id = gk.user_id WHERE gk.group_id = ? AND u.name = ?').get(world.opsId, CAROL), d.name).toEqual({ n: 0 });
        expect(file.prepare("SELECT count(*) AS n FROM meta WHERE key LIKE 'rotated_from:%'").get(), d.name).toEqual({ n: 0 });
      } finally {
        file.close();
      }
    }
    const members = await onDesktop(a, (s) => s.team.members(world.opsId));
    expect(members.map((m) => m.name)).not.toContain(CAROL);
  });

  it('keeps both where the rotating desktop edited the entry too: the crossing edit in place, its own as a conflict copy', async () => {
    await onDesktop(a, async (s) => s.team.grant(world.opsId, CAROL, false, await s.team.groupRevision(world.opsId)));
    await sync(a);
    await sync(b);
    // A edits Firewall and revokes carol again; B's edit of Firewall reaches the server first.
    await setPassword(a, 'Acme/Firewall', 'f-a');
    await onDesktop(a, async (s) => s.team.revoke(world.opsId, CAROL, await s.team.memberRevision(world.opsId, CAROL)));
    await setPassword(b, 'Acme/Firewall', 'f-b');
    await sync(b);
    const answers: string[] = [];
    for (let i = 0; i < 2; i++) {
      const out = await trySync(a);
      answers.push(out.code === 'ok' ? 'ok' : out.stderr.trim());
    }
    expect(answers).toEqual(['ok', 'ok']);
    await sync(b);
    for (const d of [a, b]) expect(await passwords(d), d.name).toEqual(['Firewall (conflict copy)=f-a', 'Firewall=f-b', 'Switch=s-b']);
    const file = new Database(a.file, { readonly: true });
    try {
      expect(file.prepare("SELECT count(*) AS n FROM meta WHERE key LIKE 'rotated_from:%'").get()).toEqual({ n: 0 });
    } finally {
      file.close();
    }
  });

  it('ends in one clear CONFLICT, not BUSY, where the key rotated from is not kept (a rotation made by the earlier code)', async () => {
    await onDesktop(a, async (s) => s.team.grant(world.opsId, CAROL, false, await s.team.groupRevision(world.opsId)));
    await sync(a);
    await sync(b);
    await onDesktop(a, async (s) => s.team.revoke(world.opsId, CAROL, await s.team.memberRevision(world.opsId, CAROL)));
    // As a file whose rotation was made before the key was kept: the kept version removed.
    const file = new Database(a.file);
    const removed = file.prepare("DELETE FROM meta WHERE key LIKE 'rotated_from:%'").run();
    file.close();
    expect(removed.changes).toBe(1);
    await setPassword(b, 'Acme/Switch', 's-b2');
    await sync(b);
    const out = await trySync(a);
    expect(out.code, out.stderr).toBe('CONFLICT');
    expect(out.message).toMatch(/cannot take in yet.*sealed under a key of an access group/);
  });
});
