/**
 * A desktop two people share, whose other person is disabled before their events went
 * (electron/vault/store-events-not-sent.ts, docs/SYNC.md "A desktop two people share"). The
 * team-desktops world (a real server on PGlite, loopback HTTP, real files, the CLI's sync): carol
 * signs in on bob's desktop and reveals a password there; the owner disables her and syncs; bob
 * changes Switch's password on his desktop and syncs. The server refuses, whole, a push carrying
 * an event of a disabled person (server/sync/verify.ts), so before this every sync of bob's desktop
 * was FORBIDDEN, his change with it, for ever. Now the push leaves out this device's chain from
 * carol's first unsent event on (her events, and bob's sign-in after them, which links through
 * them), says so in one line (sync and audit verify), keeps them in the file, and sends everything else; the desktop's
 * later events go on a new device id and reach the owner's desktop.
 * Must never: put a password in a process argument, or pass while a push was refused.
 */
import { describe, expect, it } from 'vitest';
import { BOB, CAROL, CAROL_PASSWORD, useTeamDesktops } from '../support/team-desktops';
import { eventsBy } from '../support/people-world';
import { Vault } from '../../electron/vault/vault';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 13, 0, 0));
const world = useTeamDesktops('crewvault-shared-disabled', clock);

describe('a desktop two people share, one of them disabled before their events went', () => {
  it('pushes everything but the disabled person\'s events and its chain after them, says so once, and goes on', async () => {
    const { a, b } = world;
    // Carol, on bob's desktop, reveals the printer's password: her events on its device chain, not sent yet.
    const carolsBefore = new Set(eventsBy(b.file, CAROL));
    clock.advance(1_000);
    const carol = await Vault.open(b.file, clock).signIn(CAROL, CAROL_PASSWORD);
    try {
      const printer = await carol.resolvePath('Acme/Printer');
      expect(await carol.revealPassword(printer.id)).toBe('p-1');
    } finally {
      await carol.close();
    }
    const carolsHere = eventsBy(b.file, CAROL).filter((id) => !carolsBefore.has(id));
    expect(carolsHere.length).toBeGreaterThan(0);
    // The owner disables her (her earlier events here are now a disabled person's).
    clock.advance(1_000);
    await world.onDesktop(a, async (s) => s.team.disableUser(CAROL, await s.team.userRevision(CAROL)));
    expect((await world.sync(a)).code).toBe('ok');
    // Bob changes Switch on his desktop, and syncs.
    await world.setPassword(b, 'Acme/Switch', 's-bob');
    const first = await world.sync(b);
    expect(first.code, first.stderr).toBe('ok');
    const told = JSON.parse(first.stdout) as { pushed: number; eventsNotSent?: string };
    expect(told.pushed).toBeGreaterThan(0);
    expect(told.eventsNotSent).toMatch(/^\d+ audit events? of this desktop will not be sent: from carol's first unsent one on \(carol is disabled in this vault, and the team server takes no event of a disabled person; the events after it on this desktop's chain follow it\)\. They stay in this file's audit log; this desktop's later events go on a new device id\.$/);
    // Kept in bob's file, never on the server.
    const carolsNow = new Set(eventsBy(b.file, CAROL));
    expect(carolsHere.filter((id) => !carolsNow.has(id))).toEqual([]);
    const onServer = new Set((await world.server.database.query("SELECT record_id FROM sync_records WHERE kind = 'event'")).map((r) => String(r.record_id).replaceAll('-', '').toLowerCase()));
    expect(carolsHere.filter((id) => onServer.has(id))).toEqual([]);
    // `crewvault audit verify` on bob's desktop says the same of its log.
    const verified = await world.cli(b, ['audit', 'verify', '--vault', b.file], []);
    expect(verified.stdout).toMatch(/^Audit log intact: \d+ rows, every link verified\.\n\d+ audit events? of this desktop will not be sent: from carol's first unsent one on /m);
    // Everything else went: the owner's desktop takes bob's change.
    expect((await world.sync(a)).code).toBe('ok');
    expect(await world.onDesktop(a, async (s) => s.revealPassword((await s.resolvePath('Acme/Switch')).id))).toBe('s-bob');
    // The next syncs go on, on a new device id: bob's later events reach the owner's desktop; nothing said again.
    const again = await world.sync(b);
    expect(again.code, again.stderr).toBe('ok');
    expect((JSON.parse(again.stdout) as { eventsNotSent?: string }).eventsNotSent).toBeUndefined();
    const bobsBefore = new Set(eventsBy(a.file, BOB));
    await world.onDesktop(b, async (s) => s.revealPassword((await s.resolvePath('Acme/Firewall')).id));
    expect((await world.sync(b)).code).toBe('ok');
    expect((await world.sync(a)).code).toBe('ok');
    const bobsNew = eventsBy(a.file, BOB).filter((id) => !bobsBefore.has(id));
    expect(bobsNew.length).toBeGreaterThan(0);
  }, 180_000);
});
