/**
 * Hostile review of C7: an entry a member adds offline in a group deleted elsewhere is dropped
 * when the deletion is taken in, but the audit event of its creation, signed on the member's
 * device chain, still goes to the team. No other desktop ever gets that entry, so each sets the
 * event aside ("names an entry this vault does not have") and, after it, every later event of
 * the member's device ("does not follow"): the member's chain stops on every other desktop. Now a
 * desktop holds an entry named only by such an event, in a group deleted there, as an emptied
 * tombstone, and the chain goes on.
 * Real files, a real team server on PGlite over loopback HTTP, the CLI's sync.
 * Must never put a password in a process argument.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import { useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 6, 6, 0, 0));
const team = useTeamDesktops('crewvault-c7-events', clock);
const { a, b, c, onDesktop, sync, setPassword } = team;

function heldOn(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], { reason: string }>('SELECT reason FROM replica_held').all().map((r) => r.reason);
  } finally {
    db.close();
  }
}

describe('the events of changes dropped with a deleted group (C7 hostile review)', () => {
  it('leaves the member\'s device chain whole on the owner\'s desktop', async () => {
    // Bob, offline, adds Console to Ops; the owner deletes Ops' entries and Ops.
    clock.advance(1_000);
    await onDesktop(b, (s) => s.createEntries([{ customer: 'Acme', title: 'Console', password: 'c-bob', groupId: team.opsId }]));
    clock.advance(1_000);
    await onDesktop(a, async (s) => {
      for (const e of (await s.listEntries()).filter((e) => e.groupId === team.opsId)) await s.deleteEntry(e.id, (await s.resolvePath(`${e.customer}/${e.title}`)).revision ?? -1);
      await s.team.deleteGroup(team.opsId, await s.team.groupRevision(team.opsId));
    });
    expect((await sync(a)).code).toBe('ok');
    for (let i = 0; i < 2; i++) expect((await sync(b)).code).toBe('ok');
    // Bob goes on working: a later event of his device.
    await setPassword(b, 'Acme/Printer', 'p-bob');
    expect((await sync(b)).code).toBe('ok');
    expect((await sync(a)).code).toBe('ok');
    expect(heldOn(a.file)).toEqual([]);
    // Carol, never in Ops, takes them too; both logs verify whole.
    expect((await sync(c)).code).toBe('ok');
    expect(heldOn(c.file)).toEqual([]);
    for (const d of [a, c]) {
      const vault = Vault.open(d.file, clock);
      try {
        expect((await vault.verifyAudit()).ok, d.name).toBe(true);
      } finally {
        await vault.close();
      }
    }
    // Console never appears on the owner's desktop: the event's entry is held as an emptied tombstone only.
    expect((await onDesktop(a, (s) => s.listEntries())).map((e) => e.title)).not.toContain('Console');
  }, 180_000);
});
