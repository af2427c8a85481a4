/**
 * A router over a real vault file in a temp folder, with a hand-moved clock. Its team-server
 * place (servers.json, keychain service) is in that folder too: a test calling every method
 * never reads or ends the machine user's own server session.
 */
import path from 'node:path';
import { Router, type RouterOptions } from '../../electron/router';
import { serverPlace } from '../../electron/team/profiles';
import type { Reply } from '../../shared/api/reply';
import { FAST_KDF, manualClock, tempVaultPath } from './vault';

export function newRouter(vaultPath = tempVaultPath(), options: Pick<RouterOptions, 'devices' | 'deviceLabel' | 'ui' | 'onVaultOpened' | 'openExternal' | 'pickSaveFile'> = {}) {
  const clock = manualClock();
  const team = { place: serverPlace({ CREWVAULT_KEYCHAIN_SERVICE: 'crewvault-test-router' }, path.join(path.dirname(vaultPath), 'team-config')) };
  const router = new Router({ vaultPath, clock, clipboard: { kind: 'page' }, kdf: FAST_KDF, team, ...options });
  return { router, clock, vaultPath };
}

/** The door's own confirmation (electron/team/confirm.ts) answered yes, as the person would: for tests that pin or move on purpose. */
export const CONFIRMED = { confirm: (): Promise<boolean> => Promise.resolve(true) };

/** Unwraps a reply that must be ok, failing the test with its error otherwise. */
export function ok<T>(reply: Reply<T>): T {
  if (!reply.ok) throw new Error(`expected ok, got ${reply.error.code}: ${reply.error.message}`);
  return reply.value;
}

export function errorCode(reply: Reply<unknown>): string {
  return reply.ok ? 'ok' : reply.error.code;
}
