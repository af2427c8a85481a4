/**
 * Review 13a hole 4 as a class: every server route that takes a vault id or an entry id settles
 * access before it tells anything of what it names. Asked as a stranger (an account of this server
 * that is no person of the vault) about a vault the server holds and one it does not, each route
 * answers alike; asked as a member of another group (H) about an entry of G, one that was never
 * stored, and G's entry named in H, the entry routes answer alike. Routes: syncPull, syncSnapshot,
 * syncPush, codes, codesSeal and the sync stream; and a member account asking for an emergency code
 * for a user id that exists and one that does not. Real HTTP on loopback, PGlite.
 * Must never: print a key or a token.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { SYNC_STREAM_PATH } from '../../shared/api/server-contract';
import { useTestDatabases } from './databases';
import { entryIn, pushOf, serverWithPeople, twoGroupVaultPushed, type TwoGroupVault } from './people';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();
const GARBAGE = Buffer.from(randomBytes(96)).toString('base64url');

describe('routes taking a vault or an entry id answer a stranger and a member of another group alike (review 13a hole 4)', () => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let other: Person;
  let stranger: Person;
  let w: TwoGroupVault;
  let inG: string;
  beforeAll(async () => {
    ({ server, owner, people: { tech, other, stranger } } = await serverWithPeople(await databases.open('pglite'), ['tech', 'other', 'stranger']));
    w = await twoGroupVaultPushed({ owner, tech, other });
    const pulled = await tech.client.ok('syncPull', { vault: w.vault, since: 0 });
    inG = pulled.records.find((r) => r.record.kind === 'entry' && r.record.group === w.g)?.record.id ?? '';
    expect(inG).not.toBe('');
  }, 120_000);

  const said = (reply: { ok: true } | { ok: false; error: { code: string; message: string } }): string => (reply.ok ? 'answered' : `${reply.error.code}: ${reply.error.message}`);

  /** What each route says to `who` of `vault` (and `entry` in `group`), one line a route. */
  async function routes(who: Person, vault: string, entry: string, group: string): Promise<Record<string, string>> {
    const stream = await fetch(`${server.url}${SYNC_STREAM_PATH}?vault=${vault}`, { headers: who.client.authHeaders() });
    const streamSays = `${stream.status} ${stream.status === 200 ? 'open' : await stream.text()}`;
    if (stream.status === 200) await stream.body?.cancel();
    return {
      pull: said(await who.client.call('syncPull', { vault, since: 0 })),
      snapshot: said(await who.client.call('syncSnapshot', { vault, part: 'state', after: 0 })),
      push: said(await who.client.call('syncPush', pushOf(vault, [entryIn(randomUUID(), group)]))),
      codes: said(await who.client.call('codes', { vault, entry })),
      seal: said(await who.client.call('codesSeal', { vault, records: [{ kind: 'server_code', entry, group, keyVersion: 1, sealed: GARBAGE }] })),
      stream: streamSays,
    };
  }

  it('answers a stranger alike for a vault the server holds and one it does not, on every route', async () => {
    const held = await routes(stranger, w.vault, inG, w.g);
    const none = await routes(stranger, randomBytes(16).toString('hex'), inG, w.g);
    const noneOther = await routes(stranger, randomBytes(16).toString('hex'), randomUUID(), randomUUID());
    expect(none).toEqual(held);
    expect(noneOther).toEqual(held);
    for (const answer of Object.values(held)) expect(answer).toMatch(/FORBIDDEN|^403 /);
  });

  it('answers a member of H alike for G\'s entry, G\'s entry named in H, and an entry never stored, on the entry routes', async () => {
    const ask = async (entry: string, group: string): Promise<string[]> => [
      said(await other.client.call('codes', { vault: w.vault, entry })),
      said(await other.client.call('codesSeal', { vault: w.vault, records: [{ kind: 'server_code', entry, group, keyVersion: 1, sealed: GARBAGE }] })),
    ];
    const ofG = await ask(inG, w.g);
    expect(await ask(inG, w.h)).toEqual(ofG);
    expect(await ask(randomUUID(), w.g)).toEqual(ofG);
    expect(await ask(randomUUID(), w.h)).toEqual(ofG);
  });

  it('answers a member account alike for an emergency code for a user who exists and one who does not', async () => {
    const said = async (userId: string): Promise<string> => {
      const reply = await stranger.client.call('mfaEmergencyIssue', { userId });
      return reply.ok ? 'issued' : `${reply.error.code}: ${reply.error.message}`;
    };
    const ofTech = await said(tech.user.id);
    expect(ofTech).toMatch(/^FORBIDDEN/);
    expect(await said(randomBytes(16).toString('hex'))).toBe(ofTech);
  });
});
