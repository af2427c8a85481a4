/**
 * What the sign-in race child (signin-race-child.ts) and the tests that drive it agree on:
 * one JSON command per stdin line, one JSON reply per stdout line, in order. Every command
 * carries the instant it happens at, so the child never reads the wall clock.
 * Imported by both sides; it must stay free of side effects (the child bundles it).
 */

export type RaceCommand =
  /** Signs in (the vault file opened once per child); the session is kept for the factors. */
  | { readonly op: 'signIn'; readonly file: string; readonly user: string; readonly password: string; readonly now: number }
  | { readonly op: 'code' | 'recovery' | 'emergency' | 'confirm'; readonly code: string; readonly now: number };

export type RaceReply = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly code: string; readonly message: string };

