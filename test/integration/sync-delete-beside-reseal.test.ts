/**
 * Findings C5/C6 of the review of how desktops merge concurrent changes: a change that says nothing
 * new — an HOTP code's counter step, a key rotation's re-seal — made on one desktop beside a delete
 * made on another brought the deleted entry back (as the entry itself, or as a conflict copy). A
 * delete wins over such a change, whichever reaches the server first; an edit of what the entry
 * says beside a delete is still kept (the delete loses, as before). A real team server (PGlite,
 * loopback HTTP), the owner's two desktops (test/support/team-desktops.ts), the CLI's sync.
 */
import { describe, expect, it } from 'vitest';
import { parseOtpUri } from '../../shared/otp';
import { BOB, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));
const team = useTeamDesktops('crewvault-delete-reseal', clock);
const { a, a2, onDesktop, sync } = team;
const RFC_KEY = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

async function synced(d: Desktop): Promise<{ conflictCopies: number }> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
  return JSON.parse(out.stdout) as { conflictCopies: number };
}

async function titles(d: Desktop): Promise<string[]> {
  return onDesktop(d, async (s) => (await s.listEntries()).map((e) => `${e.customer}/${e.title}`).sort());
}

async function remove(d: Desktop, path: string): Promise<void> {
  clock.advance(1_000);
  await onDesktop(d, async (s) => {
    const entry = await s.resolvePath(path);
    await s.deleteEntry(entry.id, entry.revision ?? -1);
  });
}

async function takeCode(d: Desktop, path: string): Promise<void> {
  await onDesktop(d, async (s) => { await s.otpCode((await s.resolvePath(path)).id); });
}

async function setPassword(d: Desktop, path: string, password: string): Promise<void> {
  clock.advance(1_000);
  await onDesktop(d, async (s) => {
    const entry = await s.resolvePath(path);
    await s.updateEntry(entry.id, { password }, entry.revision ?? -1);
  });
}

/** The owner's desktop a revokes bob from Ops (a rotation: every entry of Ops re-sealed, no content changed). */
async function rotateOps(): Promise<void> {
  clock.advance(1_000);
  await onDesktop(a, async (s) => s.team.revoke(team.opsId, BOB, await s.team.memberRevision(team.opsId, BOB)));
}

async function newHotpEntry(title: string): Promise<void> {
  await onDesktop(a, (s) => s.createEntry({ customer: 'Acme', title, otp: { params: parseOtpUri(`otpauth://hotp/Acme:${title}?secret=${RFC_KEY}&counter=0`).params } }));
  await synced(a);
  await synced(a2);
}

/** Both desktops synced until each holds the other's last change. */
async function settle(first: Desktop, second: Desktop): Promise<number> {
  let copies = 0;
  for (const d of [first, second, first]) copies += (await synced(d)).conflictCopies;
  return copies;
}

describe('a delete beside a change that says nothing new', () => {
  it('deleted here, an HOTP code taken there first: the delete stands on both desktops, no copy', async () => {
    await newHotpEntry('Token one');
    await remove(a2, 'Acme/Token one');
    await takeCode(a, 'Acme/Token one');
    expect(await settle(a, a2)).toBe(0);
    for (const d of [a, a2]) expect(await titles(d), d.name).not.toContain('Acme/Token one');
  });

  it('an HOTP code taken here, deleted there first: the delete stands, no conflict copy', async () => {
    await newHotpEntry('Token two');
    await takeCode(a2, 'Acme/Token two');
    await remove(a, 'Acme/Token two');
    expect(await settle(a, a2)).toBe(0);
    for (const d of [a, a2]) expect((await titles(d)).filter((t) => t.startsWith('Acme/Token two')), d.name).toEqual([]);
  });

  it('deleted here, the entry re-sealed there first by a key rotation: the delete stands on both desktops', async () => {
    await remove(a2, 'Acme/Switch');
    await rotateOps();
    expect(await settle(a, a2)).toBe(0);
    for (const d of [a, a2]) expect((await titles(d)).filter((t) => t.startsWith('Acme/Switch')), d.name).toEqual([]);
  });

  it('re-sealed here by a key rotation, deleted there first: the delete stands, no conflict copy', async () => {
    // bob back in Ops, so that revoking him again rotates its key once more.
    await onDesktop(a, async (s) => s.team.grant(team.opsId, BOB, false, await s.team.groupRevision(team.opsId)));
    expect(await settle(a, a2)).toBe(0);
    await remove(a2, 'Acme/Firewall');
    expect((await synced(a2)).conflictCopies).toBe(0);
    await rotateOps();
    expect(await settle(a, a2)).toBe(0);
    for (const d of [a, a2]) expect((await titles(d)).filter((t) => t.startsWith('Acme/Firewall')), d.name).toEqual([]);
  });

  it('an edit beside a delete is still kept, whichever reached the server first', async () => {
    await onDesktop(a, (s) => s.createEntries([{ customer: 'Acme', title: 'Modem', password: 'm-1' }, { customer: 'Acme', title: 'Scanner', password: 'sc-1' }]));
    expect(await settle(a, a2)).toBe(0);
    await remove(a2, 'Acme/Modem');
    await setPassword(a, 'Acme/Modem', 'm-2');
    await setPassword(a2, 'Acme/Scanner', 'sc-2');
    await remove(a, 'Acme/Scanner');
    expect(await settle(a, a2)).toBe(1);
    for (const d of [a, a2]) {
      const shown = await titles(d);
      expect(shown.filter((t) => t.startsWith('Acme/Modem') || t.startsWith('Acme/Scanner')), d.name).toEqual(['Acme/Modem', 'Acme/Scanner (conflict copy)']);
    }
  });
});
