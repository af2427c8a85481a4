/**
 * A revoke whose rotation gave way (team.ts rotateAgain) and that its maker may no longer make
 * again. bob, a team lead of Ops, revokes carol on his desktop; before he syncs, the owner revokes
 * dave from Ops (a rotation of its own, kept by the server first) and makes bob a technician (no
 * longer managing Ops). bob's sync gives way to the owner's rotation and cannot make his revoke
 * again: it was skipped with no word, and carol kept Ops. Now it is noted on bob's desktop, audited
 * there once (group.revoke_unmade), and told at each sync (SyncOutcome.revokesUnmade, printed by
 * `crewvault sync`: an owner or admin must make it) until carol no longer holds Ops (the owner's
 * revoke of her lands). Real desktops (real vault files, the CLI's sync, a private Secret Service)
 * against a real team server on loopback (test/support/team-desktops.ts).
 * Must never put a password in a process argument.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { SyncOutcome } from '../../electron/team/sync';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { FAST_KDF, manualClock } from '../support/vault';

const DAVE = 'dave';
const clock = manualClock(Date.UTC(2026, 11, 2, 9, 0, 0));
const team = useTeamDesktops('crewvault-revoke-unmade', clock);
const { a, b, onDesktop, sync } = team;

/** `crewvault sync --json` on a desktop that must answer ok: its outcome. */
async function synced(d: typeof a): Promise<SyncOutcome> {
  const out = await sync(d);
  expect(out.code, `${d.name}: sync: ${out.stderr}`).toBe('ok');
  return JSON.parse(out.stdout) as SyncOutcome;
}

/** Who holds a wrap of Ops in a desktop's vault file, sorted (read from the file: bob, no lead now, may not list members). */
function opsHolders(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare('SELECT u.name FROM group_keys gk JOIN users u ON u.id = gk.user_id WHERE gk.group_id = ?').all(team.opsId) as Array<{ name: string }>;
    return rows.map((r) => r.name).sort();
  } finally {
    db.close();
  }
}

/** The desktop's audit rows of an action (read from its vault file). */
function auditedHere(file: string, action: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM audit_log WHERE action = ?').get(action) as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('a revoke given way that its maker may no longer make', () => {
  it('is noted, audited once and told at each sync until an owner\'s revoke lands', async () => {
    const ops = team.opsId;
    // The owner's desktop takes in the others' first syncs first (its changes below are made on what the server holds).
    await synced(a);
    // The owner makes bob a team lead of Ops, and puts carol and dave (a technician with no desktop) in it.
    await onDesktop(a, async (s) => {
      await s.team.changeRole(BOB, 'team_lead', await s.team.userRevision(BOB));
      await s.team.setLead(ops, BOB, true, await s.team.memberRevision(ops, BOB));
      await s.createUser(DAVE, 'technician', 'a one-time password for dave', FAST_KDF);
      for (const name of [CAROL, DAVE]) await s.team.grant(ops, name, false, await s.team.groupRevision(ops));
    });
    await synced(a);
    await synced(b);
    // bob revokes carol (his rotation, unsent); the owner revokes dave (a rotation to the same version) and makes bob a technician.
    clock.advance(1_000);
    await onDesktop(b, async (s) => s.team.revoke(ops, CAROL, await s.team.memberRevision(ops, CAROL)));
    clock.advance(1_000);
    await onDesktop(a, async (s) => {
      await s.team.revoke(ops, DAVE, await s.team.memberRevision(ops, DAVE));
      await s.team.changeRole(BOB, 'technician', await s.team.userRevision(BOB));
    });
    await synced(a);
    // bob's sync gives way to the owner's rotation; his revoke of carol is not his to make any more: told, not skipped.
    const first = await synced(b);
    expect(first.revokesUnmade).toBe('A revoke of yours not made: carol from Ops (another rotation was kept first, and you may no longer make it again): an owner or admin must make it.');
    expect(opsHolders(b.file)).toContain(CAROL);
    // Told again at the next sync while carol holds Ops; audited once.
    const again = await synced(b);
    expect(again.revokesUnmade).toBe(first.revokesUnmade);
    expect(auditedHere(b.file, 'group.revoke_unmade')).toBe(1);
    // The CLI prints it as a line of its own.
    const printed = await team.cli(b, ['sync', team.server.url, '--vault', b.file, '--user', BOB], ['bob keeps the switches running']);
    expect(printed.stdout).toContain('crewvault: A revoke of yours not made: carol from Ops');
    // The owner makes the revoke: once it lands on bob's desktop, nothing is told.
    await synced(a);
    await onDesktop(a, async (s) => s.team.revoke(ops, CAROL, await s.team.memberRevision(ops, CAROL)));
    await synced(a);
    const after = await synced(b);
    expect(after.revokesUnmade).toBeUndefined();
    expect(opsHolders(b.file)).not.toContain(CAROL);
    expect((await synced(b)).revokesUnmade).toBeUndefined();
    expect(auditedHere(b.file, 'group.revoke_unmade')).toBe(1);
  }, 240_000);
});
