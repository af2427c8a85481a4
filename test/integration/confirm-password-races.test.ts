// Re-checking the password inside a session (before showing the MFA key, turning MFA off, …)
// is not a way around the backoff (review #10 item 7's class): re-checks fired together are
// counted before Argon2 runs, one at a time, so only the free tries are ever checked.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { manualClock, newVault } from '../support/vault';

describe('re-checking the password in a session', () => {
  it('20 wrong re-checks at once: 3 are checked, 17 wait, and the count is exact', async () => {
    const clock = manualClock();
    const { file, session } = await newVault(clock);
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => session.confirmPassword('not the password').then(() => 'OK', (e: { code?: string }) => e.code ?? 'ERROR')));
    expect(outcomes.filter((o) => o === 'WRONG_PASSWORD')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 'TOO_MANY_ATTEMPTS')).toHaveLength(17);
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT failed_passwords FROM sign_in_state WHERE user_id = 1').get()).toEqual({ failed_passwords: 3 });
    db.close();
    // After the wait, the right password clears the count.
    clock.advance(1_000);
    await session.confirmPassword('correct horse battery staple');
    const after = new Database(file, { readonly: true });
    expect(after.prepare('SELECT failed_passwords, next_attempt_at FROM sign_in_state WHERE user_id = 1').get()).toEqual({ failed_passwords: 0, next_attempt_at: null });
    after.close();
  });
});
