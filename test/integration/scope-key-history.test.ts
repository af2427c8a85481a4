/**
 * A group's earlier event scope keys across several rotations, on one vault file (#15,
 * electron/vault/scope-key-history.ts): the owner's v3 events of a group at versions 1, 2 and 3 are
 * each matched by a member granted at version 3 (the list sealed at each rotation carries the ones
 * before it), by no key of a member cut off at version 2, and a list kept at another version than
 * the one held opens nothing. Real vault files, real crypto, people signing in on the one file.
 * Must never: sleep on the wall clock (the clock is injected), or print a key.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { scopeHashes } from '../../electron/vault/audit-event-texts';
import { uidText } from '../../electron/vault/ids';
import { Vault } from '../../electron/vault/vault';
import { scopeMatches, type HeldScopeKey } from '../../shared/sync/event-v3';
import { FAST_KDF, manualClock, newVault } from '../support/vault';

const PASSWORDS = { tom: 'tom keeps the racks tidy', ann: 'ann patches the firewalls', jim: 'jim joined this week' } as const;
const [TOM, ANN, JIM] = ['tom', 'ann', 'jim'] as const;

/** Each v3 event of group `groupId` in `file`: its global id and scope tag (hex). */
function groupEvents(file: string, groupId: number): Array<{ uid: string; scope: string }> {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[number], { uid: Buffer; scope: Buffer }>('SELECT uid, scope FROM audit_log WHERE group_id = ? AND scope IS NOT NULL ORDER BY id').all(groupId)
      .map((r) => ({ uid: uidText(r.uid), scope: r.scope.toString('hex') }));
  } finally {
    db.close();
  }
}

describe('a group\'s earlier scope keys, carried across its rotations', () => {
  it('a member granted at version 3 matches the tags of versions 1 to 3; one cut off at version 2 matches none; a list of another version opens nothing', async () => {
    const clock = manualClock();
    const { file, session } = await newVault(clock);
    await session.replica.startSigningEventsV3();
    const vault = await session.replica.vaultId();
    for (const name of [TOM, ANN, JIM]) await session.createUser(name, 'technician', PASSWORDS[name], FAST_KDF);
    const ops = await session.team.createGroup('Ops');
    const revision = async (): Promise<number> => session.team.groupRevision(ops.id);
    await session.team.grant(ops.id, TOM, false, await revision());
    await session.team.grant(ops.id, ANN, false, await revision());
    await session.createEntries([{ customer: 'Acme', title: 'Switch', password: 's-1', groupId: ops.id }]);
    // Version 1 to 2 (tom cut off), 2 to 3 (ann cut off), then jim granted at 3.
    await session.team.revoke(ops.id, TOM, await session.team.memberRevision(ops.id, TOM));
    clock.advance(1_000);
    await session.team.revoke(ops.id, ANN, await session.team.memberRevision(ops.id, ANN));
    await session.team.grant(ops.id, JIM, false, await revision());
    await session.close();
    const events = groupEvents(file, ops.id);
    // Events at each of the three versions (the keyed tags differ by version: three distinct sets are checked below).
    expect(events.length).toBeGreaterThanOrEqual(5);

    const keysOf = async (name: keyof typeof PASSWORDS): Promise<readonly HeldScopeKey[]> => {
      const s = await Vault.open(file, clock).signIn(name, PASSWORDS[name]);
      try {
        const keys = await s.replica.groupsOwedWhole();
        if (keys === 'every') throw new Error(`${name} is owed every body`);
        return keys;
      } finally {
        await s.close();
      }
    };
    const matched = (keys: readonly HeldScopeKey[]): boolean[] => events.map((e) => keys.some((k) => scopeMatches(vault, e.uid, e.scope, k, scopeHashes)));
    const jims = await keysOf(JIM);
    expect(matched(jims)).toEqual(events.map(() => true));
    // Each version's key matches some event: the three keys are the three versions', not one.
    const opsKeys = jims.filter((k) => events.some((e) => scopeMatches(vault, e.uid, e.scope, k, scopeHashes)));
    // One of them worked out from the key jim holds, the two before it carried in the list (matched with the group named only).
    expect(opsKeys.map((k) => k.derived)).toEqual([true, false, false]);
    expect(matched(await keysOf(TOM))).toEqual(events.map(() => false));

    // The list kept at version 3 named as version 2: it opens nothing for jim (its seal names its version), and his keys are version 3's alone.
    const db = new Database(file);
    const key = `scope_history:${ops.id}`;
    const kept = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(key)?.value ?? '';
    expect(kept).toMatch(/^3:/);
    db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(kept.replace(/^3:/, '2:'), key);
    db.close();
    const without = await keysOf(JIM);
    expect(matched(without).filter(Boolean).length).toBeLessThan(events.length);
    expect(without.length).toBe(jims.length - 2);
  });
});
