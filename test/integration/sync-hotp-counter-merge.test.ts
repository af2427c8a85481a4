/**
 * Finding C4 of the review of how desktops merge concurrent changes: two desktops take HOTP codes
 * of one entry offline, and one of them also edits it. The merge kept one side's counter (the
 * record's), lower than the other side's, so a code already used there was shown again (and a
 * desktop that had only taken codes got a conflict copy for it). The merged counter is the highest
 * either side holds, on the entry and on any conflict copy of it (which holds the same key). A real
 * team server (PGlite, loopback HTTP), the owner's two desktops (test/support/team-desktops.ts), the
 * CLI's sync, RFC 4226's test key. Must never print a secret (codes are compared, not logged).
 */
import { describe, expect, it } from 'vitest';
import type { VaultSession } from '../../electron/vault/service';
import { parseOtpUri } from '../../shared/otp';
import { useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));
const team = useTeamDesktops('crewvault-hotp-merge', clock);
const { a, a2, onDesktop, sync } = team;
/** RFC 4226 Appendix D: its key in base32 and the codes at counters 0 to 4. */
const RFC_KEY = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const HOTP = ['755224', '287082', '359152', '969429', '338314'];

async function synced(d: Desktop): Promise<{ conflictCopies: number }> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
  return JSON.parse(out.stdout) as { conflictCopies: number };
}

async function entryId(s: VaultSession, title: string): Promise<number> {
  return (await s.resolvePath(`Acme/${title}`)).id;
}

/** HOTP codes taken on a desktop (each steps the counter). */
async function takeCodes(d: Desktop, title: string, n: number): Promise<string[]> {
  return onDesktop(d, async (s) => {
    const codes: string[] = [];
    for (let i = 0; i < n; i++) codes.push((await s.otpCode(await entryId(s, title))).code);
    return codes;
  });
}

async function editPassword(d: Desktop, title: string, password: string): Promise<void> {
  clock.advance(1_000);
  await onDesktop(d, async (s) => {
    const entry = await s.resolvePath(`Acme/${title}`);
    await s.updateEntry(entry.id, { password }, entry.revision ?? -1);
  });
}

/** Titles and passwords of the entries named `title…` on a desktop. */
async function versions(d: Desktop, title: string): Promise<string[]> {
  return onDesktop(d, async (s) => {
    const out: string[] = [];
    for (const e of await s.listEntries()) if (e.title.startsWith(title)) out.push(`${e.title}=${await s.revealPassword(e.id)}`);
    return out.sort();
  });
}

async function newHotpEntry(title: string): Promise<void> {
  await onDesktop(a, (s) => s.createEntry({ customer: 'Acme', title, password: 'v-1', otp: { params: parseOtpUri(`otpauth://hotp/Acme:${title}?secret=${RFC_KEY}&counter=0`).params } }));
  await synced(a);
  await synced(a2);
}

describe('HOTP codes taken on two desktops at once, one of them also editing the entry', () => {
  it('codes taken here, an edit (and a code) there reaching the server first: the edit taken, no conflict copy, the counter the highest either side reached', async () => {
    await newHotpEntry('VPN');
    expect(await takeCodes(a2, 'VPN', 2)).toEqual([HOTP[0], HOTP[1]]);
    await editPassword(a, 'VPN', 'v-2');
    expect(await takeCodes(a, 'VPN', 1)).toEqual([HOTP[0]]);
    expect((await synced(a)).conflictCopies).toBe(0);
    // a2 only took codes: nothing of it is a conflict, and its counter (2) stands over a's (1).
    expect((await synced(a2)).conflictCopies).toBe(0);
    expect(await versions(a2, 'VPN')).toEqual(['VPN=v-2']);
    await synced(a);
    expect(await versions(a, 'VPN')).toEqual(['VPN=v-2']);
    // Counters 0 and 1 were used: neither desktop shows them again.
    expect(await takeCodes(a, 'VPN', 1)).toEqual([HOTP[2]]);
    expect(await takeCodes(a2, 'VPN', 1)).toEqual([HOTP[2]]);
  });

  it('an edit and a code here, more codes there reaching the server first: the edit kept as a copy, and neither the entry nor its copy below the highest counter', async () => {
    await newHotpEntry('Radius');
    expect(await takeCodes(a2, 'Radius', 3)).toEqual([HOTP[0], HOTP[1], HOTP[2]]);
    expect((await synced(a2)).conflictCopies).toBe(0);
    await editPassword(a, 'Radius', 'r-2');
    expect(await takeCodes(a, 'Radius', 1)).toEqual([HOTP[0]]);
    expect((await synced(a)).conflictCopies).toBe(1);
    expect(await versions(a, 'Radius')).toEqual(['Radius (conflict copy)=r-2', 'Radius=v-1']);
    // The copy holds the same key: a2 used counters 0 to 2, so the copy's next code is counter 3's.
    expect(await takeCodes(a, 'Radius (conflict copy)', 1)).toEqual([HOTP[3]]);
    expect(await takeCodes(a, 'Radius', 1)).toEqual([HOTP[3]]);
  });

  it('codes taken here, an edit there with no code: the edit taken at this side\'s counter, sent back to the other desktop', async () => {
    await newHotpEntry('Bastion');
    expect(await takeCodes(a2, 'Bastion', 2)).toEqual([HOTP[0], HOTP[1]]);
    await editPassword(a, 'Bastion', 'b-2');
    expect((await synced(a)).conflictCopies).toBe(0);
    expect((await synced(a2)).conflictCopies).toBe(0);
    await synced(a);
    expect(await takeCodes(a, 'Bastion', 1)).toEqual([HOTP[2]]);
  });
});
