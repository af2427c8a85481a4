/**
 * The per-step limit of server-computed codes (server/codes/batch.ts) when an entry's key changes
 * its period: the count is kept per step by the instant the step ends, so a step of another length
 * starts it again once the old step is over. Kept by the step's number, a 30-second key changed to 60 seconds left a stored
 * number about twice any new one: the old window stayed "newest" and, past the limit, the entry's
 * codes were refused to that person for good. Real HTTP on loopback, PGlite, an injected clock.
 * Must never: print a key or a code.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealCodeKeyForServer, serverCodePublicKey } from '../../electron/team/server-codes';
import { encodeSecret } from '../../shared/otp';
import { serverCodeEntries } from './code-servers';
import { useTestDatabases } from './databases';
import { invitePerson, registerOwner, startTestServer, type Person, type TestServer } from './support';

const databases = useTestDatabases();

describe('the per-step limit of server-computed codes across a change of period', () => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  const vault = randomBytes(16).toString('hex');
  const group = randomUUID();
  const entry = randomUUID();

  beforeAll(async () => {
    server = await startTestServer(await databases.open('pglite'));
    owner = await registerOwner(server);
    tech = await invitePerson(server, owner);
    await serverCodeEntries(server, owner, tech, vault, group, [entry]);
  }, 120_000);
  afterAll(async () => server?.close());

  async function sealWithPeriod(period: number): Promise<void> {
    const key = serverCodePublicKey((await tech.client.ok('codesKey', undefined)).publicKey);
    const sealed = sealCodeKeyForServer(key, { vault, entry, group, keyVersion: 1 }, { kind: 'totp', secret: encodeSecret(randomBytes(20)), algorithm: 'SHA1', digits: 6, period, counter: 0 });
    await tech.client.ok('codesSeal', { vault, records: [{ kind: 'server_code', entry, group, keyVersion: 1, sealed }] });
  }

  /** To a second into the next step of `period` seconds (and of every shorter period that divides it). */
  function toNextStep(period: number): void {
    const ms = period * 1000;
    server.clock.advance((Math.floor(server.clock.now() / ms) + 1) * ms + 1_000 - server.clock.now());
  }

  /** Asks `n` codes one after another: how many were given, and what the rest were told. */
  async function ask(n: number): Promise<{ given: number; refused: string[] }> {
    const out = { given: 0, refused: [] as string[] };
    for (let i = 0; i < n; i += 1) {
      const reply = await tech.client.call('codes', { vault, entry });
      if (reply.ok) out.given += 1;
      else out.refused.push(reply.error.code);
    }
    return out;
  }

  it('starts the count again in each step of the new length once the old step is over', async () => {
    for (const [from, to] of [[30, 60], [60, 30], [30, 90]] as const) {
      await sealWithPeriod(from);
      toNextStep(from);
      expect(await ask(6), `${from} s`).toEqual({ given: 5, refused: ['TOO_MANY_ATTEMPTS'] });
      await sealWithPeriod(to);
      // A step of the new length that ends before the old one did still counts in it (the newer window is kept,
      // as for a process whose clock is behind): from the old step's end on, each new step starts again.
      toNextStep(Math.max(from, to));
      for (let step = 0; step < 3; step += 1) {
        if (step > 0) toNextStep(to);
        expect(await ask(6), `${from} s then ${to} s, step ${step}`).toEqual({ given: 5, refused: ['TOO_MANY_ATTEMPTS'] });
      }
    }
  });
});
