// Sign-ins reaching one router at once (the browser host's case, review #10 item 7), and the low
// findings: an unknown user name is counted, answered and audited like a known one, and is never
// stored in clear. A pinned clock throughout; wrong passwords never wait on the wall clock.
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import type { Reply } from '../../shared/api/reply';
import { errorCode, newRouter, ok } from '../support/router';
import { FAST_KDF, manualClock, newVault, OWNER, PASSWORD } from '../support/vault';

const CONCURRENT = 40;
const ROUNDS = 3;

function tally(replies: readonly Reply<unknown>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const reply of replies) counts[errorCode(reply)] = (counts[errorCode(reply)] ?? 0) + 1;
  return counts;
}

function answers(replies: readonly Reply<unknown>[]): string[] {
  return replies.map((r) => (r.ok ? 'ok' : `${r.error.code}: ${r.error.message}`)).sort();
}

function failedPasswords(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[string], { n: number }>('SELECT s.failed_passwords AS n FROM users u JOIN sign_in_state s ON s.user_id = u.id WHERE u.name = ?').get(OWNER)?.n ?? -1;
  } finally {
    db.close();
  }
}

async function lockedRouter() {
  const made = newRouter();
  ok(await made.router.call('vault.create', { username: OWNER, password: PASSWORD }));
  ok(await made.router.call('session.lock', {}));
  return made;
}

describe(`${CONCURRENT} sign-ins reaching one router at once`, () => {
  it(`wrong passwords: three are checked and counted, the others wait (${ROUNDS} rounds)`, async () => {
    const { router, clock, vaultPath } = await lockedRouter();
    for (let round = 0; round < ROUNDS; round++) {
      const replies = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => router.call('session.signIn', { username: OWNER, password: `guess ${round}-${i}` })));
      expect(tally(replies), `round ${round}`).toEqual({ WRONG_PASSWORD: 3, TOO_MANY_ATTEMPTS: CONCURRENT - 3 });
      expect(failedPasswords(vaultPath), `round ${round}`).toBe(3);
      clock.advance(1000);
      ok(await router.call('session.signIn', { username: OWNER, password: PASSWORD }));
      expect(failedPasswords(vaultPath)).toBe(0);
      ok(await router.call('session.lock', {}));
    }
    await router.close();
  });

  it('an unknown name gets the same answers, and the name is not stored', async () => {
    const { router, vaultPath } = await lockedRouter();
    const known = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => router.call('session.signIn', { username: OWNER, password: `guess ${i}` })));
    const typed = 'hunter2 typed in the wrong box';
    const unknown = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => router.call('session.signIn', { username: typed, password: `guess ${i}` })));
    expect(answers(unknown)).toEqual(answers(known));
    await router.close();
    for (const suffix of ['', '-wal']) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(vaultPath + suffix);
      } catch {
        continue; // the WAL was folded in and removed
      }
      expect(bytes.includes(Buffer.from(typed)), `vault${suffix}`).toBe(false);
    }
  });

  it('right passwords at once are taken one after another, none refused', async () => {
    const { router } = await lockedRouter();
    const replies = await Promise.all(Array.from({ length: 8 }, () => router.call('session.signIn', { username: OWNER, password: PASSWORD })));
    expect(tally(replies)).toEqual({ ok: 8 });
    await router.close();
  });
});

describe('an unknown user name, one attempt at a time', () => {
  it('backs off exactly like a known one (three free, then 1 s, 2 s …), its case ignored as sign-in ignores it', async () => {
    const clock = manualClock();
    const { file, session } = await newVault(clock);
    await session.createUser('Bob', 'technician', 'bob chose this', FAST_KDF);
    await session.close();
    const vault = Vault.open(file, clock);
    const attempt = async (name: string): Promise<string> => {
      try {
        await vault.signIn(name, 'not the password');
        return 'ok';
      } catch (error) {
        return error instanceof Error && 'code' in error ? `${String(error.code)}: ${error.message}` : String(error);
      }
    };
    const script = async (names: readonly [string, string]): Promise<string[]> => {
      const start = clock.now();
      const seen: string[] = [];
      for (let i = 0; i < 4; i++) seen.push(await attempt(names[i % 2] ?? ''));
      clock.advance(1000);
      seen.push(await attempt(names[0]), await attempt(names[1]));
      clock.advance(2000);
      seen.push(await attempt(names[1]));
      clock.set(start + 60 * 60_000);
      return seen;
    };
    const known = await script(['bob', 'BOB']);
    const unknown = await script(['nobody', 'NoBody']);
    expect(known).toEqual([
      'WRONG_PASSWORD: Wrong user name or password.',
      'WRONG_PASSWORD: Wrong user name or password.',
      'WRONG_PASSWORD: Wrong user name or password.',
      'TOO_MANY_ATTEMPTS: Too many failed sign-in attempts: try again in 1 s.',
      'WRONG_PASSWORD: Wrong user name or password.',
      'TOO_MANY_ATTEMPTS: Too many failed sign-in attempts: try again in 2 s.',
      'WRONG_PASSWORD: Wrong user name or password.',
    ]);
    expect(unknown).toEqual(known);

    // The audit log names the known user, and the unknown one only by a keyed hash: the same
    // name the same tag (so an admin sees repeated tries), never the name itself.
    const subjects = (await vault.store.read((r) => r.prepare<[], { subject: string }>("SELECT subject FROM audit_log WHERE action = 'signin.failed' AND actor_id IS NULL").all())).map((r) => r.subject);
    expect(subjects).toHaveLength(5);
    expect(new Set(subjects).size).toBe(1);
    expect(subjects[0]).toMatch(/^unknown user [0-9a-f]{12}$/);
    expect(JSON.stringify(subjects).toLowerCase()).not.toContain('nobody');
    await vault.close();
  });
});
