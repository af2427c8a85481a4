/**
 * Hostile review of 940f723 (an event naming an entry a receiver lacks is held as #15's tombstone
 * only from an author known there to have held the group it names): the note of a membership that
 * left no row (`replica.member_known.*`, replica-people-in.ts takeMember) was written for any signed
 * revoked record of the pair, whoever signed it. carol (the default group only) signs a revoke of
 * herself in Ops, which the server refuses from her (she does not manage Ops) but a dishonest server
 * hands the owner anyway, and a reveal of a made-up entry of Ops on her own chain: the owner, whose
 * own check of such a revoke asks nothing of a pair holding no row, noted her as a member of Ops on
 * her signature alone and took the reveal (a tombstone made, nothing set aside). A note now counts
 * only by a signer who manages the group here (event-author.ts mayHaveHeldGroup): the reveal is set
 * aside, as an author never in the group is. A real team server (PGlite, loopback HTTP), real vault
 * files, the sync's own code; the server's dishonesty is a client that adds one record to a page.
 * Must never put a password in a process argument.
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { serverPlace } from '../../electron/team/profiles';
import { keptSession } from '../../electron/team/sign-in';
import { syncOnce } from '../../electron/team/sync';
import type { TeamClient } from '../../electron/team/client';
import { sha256Hex } from '../../electron/vault/replica-people-checks';
import { signBytes } from '../../electron/vault/signing';
import type { ServerRouteInput, ServerRouteName, ServerRouteOutput } from '../../shared/api/server-contract';
import { memberRecordId, recordSigningText, REPLICA_FORMAT, type MemberRecord } from '../../shared/sync/records';
import { entryUidIn, groupUidIn, CAROL, setAsideOn, useTeamDesktops } from '../support/team-desktops';
import { signerOf } from '../support/desktop-copies';
import { carolsChainTail, carolsReveal } from '../support/carol-signs';
import { manualClock } from '../support/vault';

/** Whether the file holds a row (a tombstone included) of the entry with global id `uid`. */
function entryHeld(file: string, uid: string): boolean {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT 1 FROM entries WHERE uid = ?').get(Buffer.from(uid.replaceAll('-', ''), 'hex')) !== undefined;
  } finally {
    db.close();
  }
}

/** `client`, its pulls handing `added` in place of the record with id `replaced` (a dishonest server handing a record it never stored, at a sequence of its own). */
function pullsReplacing(client: TeamClient, replaced: string, added: MemberRecord): TeamClient {
  const call = client.call.bind(client);
  client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
    const reply = await call(name, input, sent);
    if (name !== 'syncPull') return reply;
    const page = reply as ServerRouteOutput<'syncPull'>;
    return { ...page, records: page.records.map((r) => (r.record.id === replaced ? { seq: r.seq, record: added } : r)) } as ServerRouteOutput<N>;
  };
  return client;
}

const clock = manualClock(Date.UTC(2026, 11, 8, 3, 0, 0));
const team = useTeamDesktops('crewvault-event-forged-note', clock);
const { a, c, onDesktop, answer, teamClient } = team;

describe('a member\'s own signed revoke of herself in a group she never held, handed by a dishonest server', () => {
  it('does not let her reveal of a made-up entry in that group in: set aside, no tombstone', async () => {
    // An entry of carol's own group, whose record the dishonest server hands the owner the forged revoke in place of.
    clock.advance(1_000);
    const cover = entryUidIn(c.file, (await onDesktop(c, (s) => s.createEntry({ customer: 'Acme', title: 'Carol Cover', password: 'cover-1' }))).id);
    expect(await answer(c)).toBe('ok');
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const ops = groupUidIn(a.file, team.opsId);
    clock.advance(1_000);
    const tail = carolsChainTail(c.file);
    const owner = new Database(a.file, { readonly: true });
    const opsVersion = owner.prepare<[number], { key_version: number }>('SELECT key_version FROM access_groups WHERE id = ?').get(team.opsId)?.key_version;
    owner.close();
    if (opsVersion === undefined) throw new Error('the owner has no Ops');
    const privateKey = await onDesktop(c, (s) => Promise.resolve(signerOf(s).privateKey));
    const carol = tail.actor;
    const revoke: Omit<MemberRecord, 'signature'> = {
      kind: 'member', id: memberRecordId(ops, carol, sha256Hex), revision: 1, group: ops, user: carol, keyVersion: opsVersion,
      lead: false, byRole: false, wrappedKey: '', wrappedSecretKey: null, revoked: true, author: carol, signerKey: tail.signerKey,
    };
    const forgedRevoke: MemberRecord = { ...revoke, signature: signBytes(privateKey, Buffer.from(recordSigningText(vault, revoke), 'utf8')).toString('base64url') };
    const forgedReveal = await carolsReveal(team, vault, tail, clock.now(), randomUUID(), ops);
    // The server refuses her revoke of herself (she does not manage Ops); it stores the reveal (an event's author is not judged there).
    await expect((await teamClient(c)).call('syncPush', { batch: { format: REPLICA_FORMAT, vault, records: [forgedRevoke] } })).rejects.toThrow();
    await (await teamClient(c)).call('syncPush', { batch: { format: REPLICA_FORMAT, vault, records: [forgedReveal] } });

    const kept = await keptSession(serverPlace(a.env), new URL(team.server.url).origin, () => clock.now());
    await onDesktop(a, (s) => syncOnce(pullsReplacing(kept.client, cover, forgedRevoke), s.replica));
    const aside = setAsideOn(a);
    expect(aside, 'the reveal set aside').toHaveLength(1);
    expect(aside[0]).toContain('an access group its event\'s author is not known here to have held');
    expect(entryHeld(a.file, forgedReveal.entry ?? ''), 'no tombstone of the made-up entry').toBe(false);
    const reveals = await onDesktop(a, async (s) => (await s.auditLog()).filter((r) => r.actor === CAROL && r.action === 'password.reveal'));
    expect(reveals, 'no reveal of carol\'s in the owner\'s log').toHaveLength(0);
    expect(await onDesktop(a, async (s) => (await s.verifyAuditLog()).chain)).toMatchObject({ ok: true });
  });
});
