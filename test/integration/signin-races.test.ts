// Sign-in under concurrency (security review #10, items 6 and 7). N real processes, each with its
// own connection to one vault file, present the same single-use factor or a wrong password at
// the same moment, round after round: a code, recovery code, emergency code or setup code is
// accepted exactly once, every wrong attempt is counted (no lost update), and the backoff holds
// as if the attempts had come one by one. The clock is pinned in every process; the children
// are driven by test/support/signin-race-process.ts. The real binary's own case is in
// signin-races-cli.test.ts, one router's in signin-races-router.test.ts.
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import { allAtOnce, buildRaceChild, oneByOne, RaceChild, tally } from '../support/signin-race-process';
import type { RaceReply } from '../support/signin-race-protocol';
import { totp } from '../support/totp';
import { FAST_KDF, manualClock, newVault } from '../support/vault';

const N = 10;
const ROUNDS = 4;
const T0 = Date.UTC(2026, 10, 22, 9, 0, 0); // a step boundary
const STEP_MS = 30_000;
const BOB = 'bob chose this';
/** Five wrong second factors are free, then every attempt waits (store-users.ts). */
const FREE_CODE_TRIES = 5;
/** Three wrong passwords are free, then every attempt waits. */
const FREE_PASSWORD_TRIES = 3;
/** What N together must come to, whatever order the vault's write lock takes them in: the
 * first right one accepted, five replays counted as wrong, the rest told to wait. */
const ONE_ACCEPTED = { ok: 1, WRONG_CODE: FREE_CODE_TRIES, TOO_MANY_ATTEMPTS: N - 1 - FREE_CODE_TRIES };

/** Rounds far enough apart that every wait from the round before is over. */
function roundAt(round: number): number {
  return T0 + (round + 1) * 10 * 60_000;
}

let children: RaceChild[] = [];

beforeAll(async () => {
  await buildRaceChild();
  children = Array.from({ length: N }, () => new RaceChild());
}, 60_000);

afterAll(async () => {
  await Promise.all(children.map((child) => child.close()));
});

/** A vault with an owner (alice) and bob, whose authenticator is set up at T0. */
async function teamVault() {
  const clock = manualClock(T0);
  const { file, session: alice } = await newVault(clock);
  await alice.createUser('bob', 'technician', BOB, FAST_KDF);
  const vault = Vault.open(file, clock);
  const bob = await vault.signIn('bob', BOB);
  const enrolment = await bob.mfa.beginEnrolment(T0);
  const recovery = await bob.mfa.confirmEnrolment(totp(enrolment.secret, T0), T0);
  const close = async (): Promise<void> => {
    bob.lock();
    await vault.close();
    await alice.close();
  };
  return { file, clock, alice, bob, secret: enrolment.secret, recovery, close };
}

/** Reads the file as it is now, on a connection of its own. */
function peek<T>(file: string, sql: string, ...params: unknown[]): T {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).get(...params) as T;
  } finally {
    db.close();
  }
}

function counters(file: string, user: string): { failed_passwords: number; failed_codes: number; next_attempt_at: number | null } {
  return peek(file, 'SELECT coalesce(s.failed_passwords, 0) AS failed_passwords, coalesce(s.failed_codes, 0) AS failed_codes, s.next_attempt_at FROM users u LEFT JOIN sign_in_state s ON s.user_id = u.id WHERE u.name = ?', user);
}

function audited(file: string, action: string): number {
  return peek<{ n: number }>(file, 'SELECT count(*) AS n FROM audit_log WHERE action = ?', action).n;
}

/** Every child signs in as bob, one after another (so none is refused for another's attempt). */
async function everyoneSignsIn(file: string, now: number): Promise<void> {
  expect(tally(await oneByOne(children, () => ({ op: 'signIn', file, user: 'bob', password: BOB, now })))).toEqual({ ok: N });
}

/** A 6-digit code no step around `atMs` yields: wrong for certain, different for each `i`. */
function wrongCode(secret: string, atMs: number, i: number): string {
  const near = new Set([-1, 0, 1].map((s) => totp(secret, atMs + s * STEP_MS)));
  let guess = i * 7919;
  while (near.has(String(guess).padStart(6, '0'))) guess++;
  return String(guess).padStart(6, '0');
}

describe(`single-use second factors presented by ${N} processes at once`, () => {
  it(`a TOTP code is accepted once (${ROUNDS} rounds)`, async () => {
    const v = await teamVault();
    for (let round = 0; round < ROUNDS; round++) {
      const now = roundAt(round);
      await everyoneSignsIn(v.file, now);
      const replies = await allAtOnce(children, () => ({ op: 'code', code: totp(v.secret, now), now }));
      expect(tally(replies), `round ${round}`).toEqual(ONE_ACCEPTED);
      expect(counters(v.file, 'bob').failed_codes, `round ${round}`).toBe(FREE_CODE_TRIES);
    }
    expect(audited(v.file, 'signin.code_ok')).toBe(ROUNDS);
    expect(audited(v.file, 'signin.code_failed')).toBe(ROUNDS * FREE_CODE_TRIES);
    await v.close();
  });

  it(`a recovery code is accepted once (${ROUNDS} rounds)`, async () => {
    const v = await teamVault();
    for (let round = 0; round < ROUNDS; round++) {
      const now = roundAt(round);
      await everyoneSignsIn(v.file, now);
      const code = v.recovery[round] ?? '';
      const replies = await allAtOnce(children, () => ({ op: 'recovery', code, now }));
      expect(tally(replies), `round ${round}`).toEqual(ONE_ACCEPTED);
      // The one accepted says how many are left, counted in the same transaction.
      expect(replies.filter((r) => r.ok).map((r) => r.ok && r.value)).toEqual([10 - round - 1]);
      expect(peek<{ n: number }>(v.file, 'SELECT count(*) AS n FROM mfa_recovery_codes WHERE used_at IS NULL').n).toBe(10 - round - 1);
    }
    expect(audited(v.file, 'signin.recovery_ok')).toBe(ROUNDS);
    await v.close();
  });

  it(`an emergency code is accepted once (${ROUNDS} rounds)`, async () => {
    const v = await teamVault();
    for (let round = 0; round < ROUNDS; round++) {
      const now = roundAt(round);
      v.clock.set(now);
      const code = await v.alice.mfa.issueEmergencyCode('bob', now);
      await everyoneSignsIn(v.file, now);
      const replies = await allAtOnce(children, () => ({ op: 'emergency', code, now }));
      expect(tally(replies), `round ${round}`).toEqual(ONE_ACCEPTED);
      expect(peek<{ n: number }>(v.file, 'SELECT count(*) AS n FROM emergency_codes').n).toBe(0);
    }
    expect(audited(v.file, 'signin.emergency_ok')).toBe(ROUNDS);
    await v.close();
  });

  it(`a setup is confirmed once, and the recovery codes shown are the ones that work (${ROUNDS} rounds)`, async () => {
    const v = await teamVault();
    for (let round = 0; round < ROUNDS; round++) {
      const now = roundAt(round);
      await everyoneSignsIn(v.file, now);
      // Started from a session of its own: the last round's confirmation ended bob's others.
      const starter = Vault.open(v.file, v.clock);
      const { secret } = await (await starter.signIn('bob', BOB)).mfa.beginEnrolment(now);
      await starter.close();
      const replies = await allAtOnce(children, () => ({ op: 'confirm', code: totp(secret, now), now }));
      // The others find bob's second step changed under them: a setup confirmed elsewhere ends
      // his other sessions, as a password change does (review round nine, hole 2), so no second
      // set of recovery codes is shown.
      expect(tally(replies), `round ${round}`).toEqual({ ok: 1, LOCKED: N - 1 });
      const shown = replies.find((r): r is Extract<RaceReply, { ok: true }> => r.ok)?.value as string[];
      expect(shown).toHaveLength(10);
      const later = now + STEP_MS;
      // Used from the session that confirmed (the others ended).
      const winner = children[replies.findIndex((r) => r.ok)];
      expect(await winner?.send({ op: 'recovery', code: shown[round] ?? '', now: later })).toEqual({ ok: true, value: 9 });
    }
    expect(audited(v.file, 'mfa.enable')).toBe(ROUNDS + 1);
    await v.close();
  });
});

describe(`wrong attempts by ${N} processes at once are all counted`, () => {
  it(`wrong codes: five counted, the rest wait; only a right code starts again (${ROUNDS} rounds)`, async () => {
    const v = await teamVault();
    for (let round = 0; round < ROUNDS; round++) {
      const now = roundAt(round);
      await everyoneSignsIn(v.file, now);
      const replies = await allAtOnce(children, (i) => ({ op: 'code', code: wrongCode(v.secret, now, i), now }));
      expect(tally(replies), `round ${round}`).toEqual({ WRONG_CODE: FREE_CODE_TRIES, TOO_MANY_ATTEMPTS: N - FREE_CODE_TRIES });
      expect(counters(v.file, 'bob'), `round ${round}`).toMatchObject({ failed_codes: FREE_CODE_TRIES, next_attempt_at: now + 1000 });
      expect(audited(v.file, 'signin.code_failed')).toBe((round + 1) * FREE_CODE_TRIES);
      const later = now + STEP_MS;
      expect(await children[0]?.send({ op: 'code', code: totp(v.secret, later), now: later })).toEqual({ ok: true, value: null });
      expect(counters(v.file, 'bob').failed_codes).toBe(0);
    }
    await v.close();
  });

  it(`wrong passwords: three counted, the rest wait, for a known name and an unknown one alike (${ROUNDS} rounds)`, async () => {
    const v = await teamVault();
    for (let round = 0; round < ROUNDS; round++) {
      const now = roundAt(round);
      const known = await allAtOnce(children, (i) => ({ op: 'signIn', file: v.file, user: 'bob', password: `not it ${i}`, now }));
      expect(tally(known), `round ${round}`).toEqual({ WRONG_PASSWORD: FREE_PASSWORD_TRIES, TOO_MANY_ATTEMPTS: N - FREE_PASSWORD_TRIES });
      expect(counters(v.file, 'bob'), `round ${round}`).toMatchObject({ failed_passwords: FREE_PASSWORD_TRIES, next_attempt_at: now + 1000 });
      // A password typed into the name field, by mistake: counted the same way, under its keyed hash.
      const typedName = `Tr0ub4dor&3 round ${round}`;
      const unknown = await allAtOnce(children, (i) => ({ op: 'signIn', file: v.file, user: typedName, password: `not it ${i}`, now }));
      const answers = (replies: RaceReply[]): string[] => replies.map((r) => (r.ok ? 'ok' : `${r.code}: ${r.message}`)).sort();
      expect(answers(unknown), `round ${round}`).toEqual(answers(known));
      const later = now + 1000;
      expect(await children[0]?.send({ op: 'signIn', file: v.file, user: 'bob', password: BOB, now: later })).toEqual({ ok: true, value: 'bob' });
      expect(counters(v.file, 'bob')).toMatchObject({ failed_passwords: 0, next_attempt_at: null });
    }
    expect(audited(v.file, 'signin.failed')).toBe(ROUNDS * 2 * FREE_PASSWORD_TRIES);
    await v.close();
  });
});
