// Shared set-up of review round nine's hole tests (audit-code-actions, audit-export-whole, stale-write-refused, tombstone-checkpoint):
// the same helpers as unlocked-agent.ts (an unlock agent held in this process for a signed-in
// session, a quiet CLI io, an independent TOTP, a process in a new session), kept under this name
// for the files that import it. Test support only; must never print a secret.
export * from './unlocked-agent';
