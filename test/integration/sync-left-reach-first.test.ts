/**
 * An entry crossing the edge of a person's reach (review 13b holes 2, 3 and 4), on carol's desktop
 * that joined through its first sync (c2: filled from the server's snapshot, no file copy of the
 * owner's entries), and what the server tells of it: an entry moved out of her only group leaves
 * c2 and comes back when moved back; one moved in from a group she never held arrives; her unsent
 * edit crossed by a move keeps her other changes going and is kept as a copy; and the "left your
 * reach" ids a pull hands are only of entries the person held (never to someone who joined the
 * group after the move). A real team server (PGlite, loopback HTTP), real vault files, the CLI's
 * sync (test/support/team-desktops.ts). Must never put a password in a process argument.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { uidText } from '../../electron/vault/ids';
import { VAULT_OBJECT_KINDS } from '../../shared/sync/records';
import { CAROL, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 4, 0, 0));
const team = useTeamDesktops('crewvault-left-reach-first', clock, { firstSyncCarol: true });
const { a, b, c2, onDesktop, sync, setPassword, teamClient } = team;

async function answer(d: Desktop): Promise<string> {
  const out = await sync(d);
  return out.code === 'ok' ? 'ok' : `${out.code}: ${out.stderr.trim()}`;
}

/** Every entry a desktop lists, as title=password. */
const entries = (d: Desktop): Promise<string[]> => onDesktop(d, async (s) => {
  const out: string[] = [];
  for (const e of await s.listEntries()) out.push(`${e.title}=${await s.revealPassword(e.id)}`);
  return out.sort();
});

async function moveOnOwner(title: string, into: number | 'default'): Promise<void> {
  await onDesktop(a, async (s) => {
    const e = await s.resolvePath(`Acme/${title}`);
    const target = into === 'default' ? (await s.team.listGroups()).find((g) => g.id !== team.opsId && g.name !== 'Lab')?.id ?? -1 : into;
    await s.team.moveEntry(e.id, target, e.revision ?? -1);
  });
  expect(await answer(a)).toBe('ok');
}

/** An entry's global id, read from the owner's file by its local id. */
function globalId(localId: number): string {
  const db = new Database(a.file, { readonly: true });
  try {
    const row = db.prepare('SELECT uid FROM entries WHERE id = ?').get(localId) as { uid: Buffer } | undefined;
    return row === undefined ? '' : uidText(row.uid);
  } finally {
    db.close();
  }
}

describe('entries crossing the edge of carol\'s reach, on a desktop that joined through its first sync', () => {
  it('holds only what the default group holds after its first sync', async () => {
    expect(await entries(c2)).toEqual(['Printer=p-1']);
  });

  it('an entry moved out of her only group leaves it, told in one line, and comes back when moved back', async () => {
    await onDesktop(a, (s) => s.createEntry({ customer: 'Acme', title: 'Camera', password: 'cam-1' }));
    expect(await answer(a)).toBe('ok');
    expect(await answer(c2)).toBe('ok');
    expect(await entries(c2)).toEqual(['Camera=cam-1', 'Printer=p-1']);
    await moveOnOwner('Camera', team.opsId);
    const out = await sync(c2);
    expect(out.code, out.stderr).toBe('ok');
    expect((JSON.parse(out.stdout) as { leftReach?: string }).leftReach).toBe('1 entry left your reach (moved into an access group you do not hold) and was taken off this desktop.');
    expect(await answer(c2)).toBe('ok');
    expect(await entries(c2)).toEqual(['Printer=p-1']);
    await moveOnOwner('Camera', 'default');
    expect(await answer(c2)).toBe('ok');
    expect(await entries(c2)).toEqual(['Camera=cam-1', 'Printer=p-1']);
  });

  it('an entry moved into her group from one she never held arrives', async () => {
    await moveOnOwner('Switch', 'default');
    expect([await answer(c2), await answer(c2)]).toEqual(['ok', 'ok']);
    expect(await entries(c2)).toEqual(['Camera=cam-1', 'Printer=p-1', 'Switch=s-1']);
  });

  it('her unsent edit crossed by a move out of her reach holds back none of her other changes, and is kept as a copy', async () => {
    await setPassword(c2, 'Acme/Camera', 'cam-carol');
    await moveOnOwner('Camera', team.opsId);
    clock.advance(1_000);
    await onDesktop(c2, (s) => s.createEntry({ customer: 'Acme', title: 'Carol NAS', password: 'nas-1' }));
    await setPassword(c2, 'Acme/Printer', 'p-carol');
    expect([await answer(c2), await answer(c2)]).toEqual(['ok', 'ok']);
    expect(await entries(c2)).toEqual(['Camera (conflict copy)=cam-carol', 'Carol NAS=nas-1', 'Printer=p-carol', 'Switch=s-1']);
    expect(await answer(a)).toBe('ok');
    expect(await entries(a)).toEqual(['Camera (conflict copy)=cam-carol', 'Camera=cam-1', 'Carol NAS=nas-1', 'Firewall=f-1', 'Printer=p-carol', 'Switch=s-1']);
  });

  it('tells the ids of entries that left a group only to those who held it before they left', async () => {
    // Firewall leaves Ops for Lab (nobody's); carol is given Ops only after.
    const firewallId = await onDesktop(a, async (s) => {
      const lab = await s.team.createGroup('Lab');
      const entry = await s.resolvePath('Acme/Firewall');
      await s.team.moveEntry(entry.id, lab.id, entry.revision ?? -1);
      return entry.id;
    });
    expect(await answer(a)).toBe('ok');
    await onDesktop(a, async (s) => s.team.grant(team.opsId, CAROL, false, await s.team.groupRevision(team.opsId)));
    expect(await answer(a)).toBe('ok');
    const firewall = globalId(firewallId);
    expect(firewall).toMatch(/^[0-9a-f-]{36}$/);
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const leftFor = async (d: Desktop): Promise<readonly string[]> => {
      const client = await teamClient(d);
      const seen: string[] = [];
      let since = 0;
      for (;;) {
        const page = await client.call('syncPull', { vault, since, kinds: [...VAULT_OBJECT_KINDS], left: true });
        seen.push(...(page.left ?? []));
        if (!page.more) return seen;
        since = page.upTo;
      }
    };
    // bob held Ops when Firewall left it: told its id, and his desktop drops it.
    expect(await leftFor(b)).toContain(firewall);
    expect(await answer(b)).toBe('ok');
    expect((await entries(b)).some((e) => e.startsWith('Firewall='))).toBe(false);
    // carol joined Ops after: never told Firewall's id (nor Camera's: it is in Ops, hers now, and handed whole).
    const toCarol = await leftFor(c2);
    expect(toCarol).not.toContain(firewall);
    expect(toCarol).toEqual([]);
    expect(await answer(c2)).toBe('ok');
    expect(await entries(c2)).toEqual(['Camera (conflict copy)=cam-carol', 'Camera=cam-1', 'Carol NAS=nas-1', 'Printer=p-carol', 'Switch=s-1']);
  });
});
