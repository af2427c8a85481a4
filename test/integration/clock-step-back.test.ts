/**
 * An honest clock stepping back never wedges a device's chain (follows 715b4b5, review 12b hole 3).
 * Every desktop sets aside an event dated before the one it follows on its own device chain, and
 * with it the rest of that device's chain (store-audit.ts appendReceivedEvent); an honest desktop
 * whose clock steps back (an NTP correction, a VM resumed, a laptop's RTC reset) would write just
 * such an event, and every other desktop would set it and all the device's later events aside for
 * good. appendAudit now dates an event no earlier than its device's previous one. Bob's desktop
 * reveals, its injected clock steps back 30 s, and it reveals again: the second reveal is dated at
 * the first's time; the owner's desktop and carol's (who holds the entry's group not, and takes
 * those events redacted) take both through a real team server (PGlite, loopback HTTP, the real
 * `crewvault sync`), nothing set aside, and `audit verify` is green on every one of them.
 * Must never: put a password in a process argument (answers go on the scripted stdin), or sleep on
 * the wall clock (the clock is injected and stepped by hand).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import { useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 9, 0, 0));
const world = useTeamDesktops('crewvault-clock-step-back', clock);
const { a, b, c, onDesktop, sync } = world;

function rows<T>(file: string, sql: string): T[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], T>(sql).all();
  } finally {
    db.close();
  }
}

const heldCount = (d: Desktop): number => rows<{ n: number }>(d.file, 'SELECT count(*) AS n FROM replica_held')[0]?.n ?? 0;

/** Bob's reveals as a desktop's log holds them: global id (hex) and time, in the log's order. */
const revealsOf = (d: Desktop): Array<{ uid: string; at: number }> =>
  rows<{ uid: string; at: number }>(d.file, "SELECT lower(hex(a.uid)) AS uid, a.at FROM audit_log a JOIN users u ON u.id = a.actor_id WHERE u.name = 'bob' AND a.action = 'password.reveal' ORDER BY a.id");

async function verified(d: Desktop): Promise<Awaited<ReturnType<Vault['verifyAudit']>>> {
  const vault = Vault.open(d.file, clock);
  try {
    return await vault.verifyAudit();
  } finally {
    await vault.close();
  }
}

describe('a desktop whose clock steps back', () => {
  it('dates its next event at its previous one\'s time, and every other desktop takes both through the server, nothing set aside', async () => {
    const heldBefore = { a: heldCount(a), c: heldCount(c) };
    clock.advance(60_000);
    const first = clock.now();

    // Bob reveals Switch, his desktop's clock steps back 30 s, and he reveals it again in the same session.
    await onDesktop(b, async (s) => {
      const entry = await s.resolvePath('Acme/Switch');
      await s.revealPassword(entry.id);
      clock.set(first - 30_000);
      await s.revealPassword(entry.id);
    });
    const written = revealsOf(b).slice(-2);
    expect(written.length).toBe(2);
    // Both written, the second dated at the first's time (its clock read 30 s earlier).
    expect(written.map((r) => r.at)).toEqual([first, first]);
    expect((await verified(b)).ok).toBe(true);

    // A minute of the stepped-back clock later, bob's desktop pushes and the others pull.
    clock.set(first + 30_000);
    expect((await sync(b)).code).toBe('ok');
    for (const d of [a, c]) expect((await sync(d)).code, d.name).toBe('ok');

    // The owner's desktop holds both, at the times bob's signed; carol's holds them too (redacted:
    // she holds no key of Ops); neither set anything aside; every log verifies.
    expect(revealsOf(a).slice(-2)).toEqual(written);
    const carols = new Set(rows<{ uid: string }>(c.file, 'SELECT lower(hex(uid)) AS uid FROM audit_log').map((r) => r.uid));
    expect(written.every((r) => carols.has(r.uid))).toBe(true);
    expect({ a: heldCount(a), c: heldCount(c) }).toEqual(heldBefore);
    for (const d of [a, b, c]) expect(await verified(d), d.name).toMatchObject({ ok: true });
  }, 120_000);
});
