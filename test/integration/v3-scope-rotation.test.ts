/**
 * v3 scope tags across a group key rotation (#15, docs/SYNC.md "Events of groups one does not hold",
 * the key-rotation limit): an event's scope tag is keyed with the group's scope key at the version its
 * author held, and a member keeps one version of a group's key. Before, a member granted after a
 * rotation matched no tag written before it, so a server withholding such an event's body from them
 * (handing it redacted) went unseen: the desktop took it redacted. Now the rotating desktop seals the
 * earlier versions' scope keys under the new list key in the group record (scope-key-history.ts), and
 * a holder of the new version matches the old tags; the member cut off at the rotation is given
 * nothing to link them with. Real server on PGlite over loopback HTTP, real vault files and crypto,
 * the real `crewvault` sync and audit verify; the dishonest server is carol's real pull with one
 * event swapped for the redacted form the server really hands bob.
 * Must never: sleep on the wall clock (the clock is injected), or print a key or password.
 */
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scopeHashes } from '../../electron/vault/audit-event-texts';
import { uidText } from '../../electron/vault/ids';
import { Vault } from '../../electron/vault/vault';
import { scopeMatches, type HeldScopeKey } from '../../shared/sync/event-v3';
import type { RecordBatch } from '../../shared/sync/record-batches';
import { VAULT_OBJECT_KINDS, type ReplicaRecord } from '../../shared/sync/records';
import { BOB, CAROL, CAROL_PASSWORD, useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock, OWNER, PASSWORD } from '../support/vault';
import { auditChainOf, readOneRow } from '../support/vault-file-reads';

const clock = manualClock();
const world = useTeamDesktops('v3-scope-rotation', clock);

/** Everything the server hands `d`'s account from `since` on, page by page: the records in order and the batches they name. */
async function pullAll(d: Desktop, vault: string, since: number): Promise<{ records: ReplicaRecord[]; batches: RecordBatch[]; upTo: number }> {
  const client = await world.teamClient(d);
  const records: ReplicaRecord[] = [];
  const batches: RecordBatch[] = [];
  let at = since;
  for (;;) {
    const page = await client.call('syncPull', { vault, since: at, kinds: [...VAULT_OBJECT_KINDS] });
    records.push(...page.records.map((r) => r.record));
    batches.push(...(page.batches ?? []));
    at = page.upTo;
    if (!page.more) return { records, batches, upTo: at };
  }
}

/** Whether any of `keys` (a desktop's scope keys owed whole) matches the scope tag `scope` of event `uid`. */
function matches(keys: readonly HeldScopeKey[] | 'every', vault: string, uid: string, scope: string): boolean {
  return keys !== 'every' && keys.some((k) => scopeMatches(vault, uid, scope, k, scopeHashes));
}

describe('v3 scope tags across a rotation', () => {
  it('an event from before a rotation: matched by a member granted after it (a withheld body refused), not by the member cut off at it', async () => {
    const { a, b, c, onDesktop, sync, cli, setPassword, server, opsId } = world;
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    // E: the owner's edit of Switch, in Ops at key version 1, tagged under that version's scope key.
    await setPassword(a, 'Acme/Switch', 's-2');
    const row = readOneRow<{ uid: Buffer; scope: Buffer | null }>(a.file, 'SELECT uid, scope FROM audit_log WHERE group_id = ? ORDER BY id DESC LIMIT 1', opsId);
    if (row?.scope === null || row === undefined) throw new Error('the owner signed no v3 event of Ops');
    const e = { uid: uidText(row.uid), scope: row.scope.toString('hex') };
    expect((await sync(a)).code).toBe('ok');
    // The owner cuts bob off (Ops to key version 2) and grants carol at version 2; bob's and carol's desktops have not synced since E.
    await onDesktop(a, async (s) => {
      await s.team.revoke(opsId, BOB, await s.team.memberRevision(opsId, BOB));
      await s.team.grant(opsId, CAROL, false, await s.team.groupRevision(opsId));
    });
    expect((await sync(a)).code).toBe('ok');

    // A server that withholds E's body from carol: her real pull with E swapped for the redacted form the server hands bob.
    const scratch = path.join(path.dirname(c.file), 'desktop-c-scratch.crewvault');
    copyFileSync(c.file, scratch);
    const since = await onDesktop(c, (s) => s.replica.pulledUpTo());
    const carols = await pullAll(c, vault, since);
    const bobs = await pullAll(b, vault, 0);
    const redacted = bobs.records.find((r) => r.id === e.uid);
    expect(redacted).toMatchObject({ kind: 'event', entry: null, bodyDigest: expect.any(String) as unknown });
    expect(carols.records.find((r) => r.id === e.uid)).toMatchObject({ kind: 'event', bodySalt: expect.any(String) as unknown });
    const withheld = carols.records.map((r) => (r.id === e.uid && redacted !== undefined ? redacted : r));
    const dishonest = await Vault.open(scratch, clock).signIn(CAROL, CAROL_PASSWORD);
    try {
      const outcome = await dishonest.replica.applyPulled(vault, withheld, { pulledUpTo: carols.upTo, hold: true, caughtUp: true }, carols.batches);
      // Before: taken redacted (carol's key of version 2 matched no tag of version 1). Now: refused as withheld, one line.
      expect(outcome.held.filter((h) => h.id === e.uid).map((h) => h.reason)).toEqual([expect.stringMatching(/of a group this desktop holds: the server withheld it/) as unknown]);
    } finally {
      await dishonest.close();
    }

    // The honest server: carol takes E whole, and her scope keys (version 2 held) match its version-1 tag.
    expect((await sync(c)).code).toBe('ok');
    expect(readOneRow<{ body_salt: Buffer | null }>(c.file, 'SELECT body_salt FROM audit_log WHERE uid = ?', row.uid)?.body_salt).not.toBeNull();
    expect(matches(await onDesktop(c, (s) => s.replica.groupsOwedWhole()), vault, e.uid, e.scope)).toBe(true);

    // bob, cut off at the rotation, takes E redacted and holds no key that links it to Ops (nor any key of Ops at all).
    expect((await sync(b)).code).toBe('ok');
    expect(readOneRow<{ body_salt: Buffer | null; body_digest: Buffer | null }>(b.file, 'SELECT body_salt, body_digest FROM audit_log WHERE uid = ?', row.uid)).toMatchObject({ body_salt: null, body_digest: expect.any(Buffer) as unknown });
    expect(matches(await onDesktop(b, (s) => s.replica.groupsOwedWhole()), vault, e.uid, e.scope)).toBe(false);
    expect(readOneRow<{ n: number }>(b.file, 'SELECT count(*) AS n FROM group_keys WHERE group_id = ?', opsId)?.n).toBe(0);

    // Every chain verifies, and the owner's walk of the server's whole history.
    for (const d of [b, c]) expect(await auditChainOf(d.file, clock), d.name).toMatchObject({ ok: true });
    const owner = await cli(a, ['audit', 'verify', '--server', server.url, '--vault', a.file, '--user', OWNER], [PASSWORD]);
    expect(owner.stdout).toMatch(/Audit history on .* intact/);
  }, 180_000);
});
