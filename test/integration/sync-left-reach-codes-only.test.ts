/**
 * An entry leaving the reach of someone whose role may not add entries (codes-only: sees codes,
 * adds nothing) while a change of theirs to it waits unsent: the HOTP code they took steps its
 * counter here, a change never sent (docs/SYNC.md: a codes-only person's counter step). The owner
 * demotes carol to codes_only (a role that still holds the group's secret key where the server does
 * not compute codes), makes an HOTP entry Token in the default group, carol takes a code of it, and
 * the owner moves Token into Ops, which carol does not hold. Before: carol's sync kept her counter
 * step as a copy, "Token (conflict copy)", a new entry her role may not add: her push left it out at
 * every sync ("your role may not add entries (entries.create)", for good), her events after it never
 * went, and her desktop showed codes of an entry nobody else holds. Expected: the change is dropped,
 * told in the sync line, audited as `group.changes_dropped` of reason `left_reach` (no name in plain
 * text), and nothing of hers waits behind it.
 * A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync
 * (test/support/team-desktops.ts). Must never put a password in a process argument.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CAROL, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { auditActionsIn } from '../support/customer-seen';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 3, 0, 0));
const team = useTeamDesktops('crewvault-left-reach-codes-only', clock);
const { a, c, onDesktop, sync } = team;

interface Told {
  readonly leftReach?: string;
  readonly setAside?: unknown;
}

async function told(d: Desktop): Promise<Told & { readonly code: string }> {
  const out = await sync(d);
  if (out.code !== 'ok') return { code: `${out.code}: ${out.stderr.trim()}` };
  const parsed = JSON.parse(out.stdout) as Told;
  return { code: 'ok', ...(parsed.leftReach === undefined ? {} : { leftReach: parsed.leftReach }), ...(parsed.setAside === undefined ? {} : { setAside: parsed.setAside }) };
}

/** A desktop's `group.changes_dropped` events: their reason code, and whether the detail is sealed (no name in plain text). */
function drops(d: Desktop): Array<{ subject: string | null; sealed: boolean }> {
  const db = new Database(d.file, { readonly: true });
  try {
    return (db.prepare("SELECT subject, sealed_detail IS NOT NULL AS sealed FROM audit_log WHERE action = 'group.changes_dropped'").all() as Array<{ subject: string | null; sealed: number }>)
      .map((r) => ({ subject: r.subject, sealed: r.sealed === 1 }));
  } finally {
    db.close();
  }
}

const titles = (d: Desktop): Promise<string[]> => onDesktop(d, async (s) => (await s.listEntries()).map((e) => e.title).sort());

describe('an entry leaving a codes-only member\'s reach with her HOTP counter step unsent', () => {
  it('drops the step, told and audited, and keeps no copy her role may not add', async () => {
    await onDesktop(a, async (s) => {
      await s.team.changeRole(CAROL, 'codes_only', await s.team.userRevision(CAROL));
      await s.createEntry({ customer: 'Acme', title: 'Token', otp: { params: { kind: 'hotp', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, period: 30, counter: 0 } } });
      await s.createEntry({ customer: 'Acme', title: 'Portal', otp: { params: { kind: 'totp', secret: 'KRSXG5CTMVRXEZLU', algorithm: 'SHA1', digits: 6, period: 30, counter: 0 } } });
    });
    for (const d of [a, c]) expect((await told(d)).code, d.name).toBe('ok');
    expect(await titles(c)).toEqual(['Portal', 'Printer', 'Token']);
    // carol takes a code: her desktop steps Token's counter, a change it never sends.
    clock.advance(1_000);
    await onDesktop(c, async (s) => s.otpCode((await s.resolvePath('Acme/Token')).id));
    await onDesktop(a, async (s) => { const e = await s.resolvePath('Acme/Token'); await s.team.moveEntry(e.id, team.opsId, e.revision ?? -1); });
    expect((await told(a)).code).toBe('ok');
    const first = await told(c);
    // What she does next is audited, and waits behind no change of hers: her code of Portal reaches the owner.
    clock.advance(1_000);
    await onDesktop(c, async (s) => s.otpCode((await s.resolvePath('Acme/Portal')).id));
    const second = await told(c);
    expect((await told(a)).code).toBe('ok');
    expect({ first, second, onCarol: await titles(c), portalCodeOnOwner: auditActionsIn(a.file, 'otp.code') }).toEqual({
      first: { code: 'ok', leftReach: '1 entry left your reach (moved into an access group you do not hold) and was taken off this desktop; 1 change made here was dropped (your role may not add entries (entries.create), so no copy of it could be kept).' },
      second: { code: 'ok' },
      onCarol: ['Portal', 'Printer'],
      portalCodeOnOwner: 1,
    });
    expect(drops(c)).toEqual([{ subject: 'left_reach', sealed: true }]);
    expect(auditActionsIn(c.file, 'entry.conflict_copy')).toBe(0);
  });
});
