/** A router over a real vault file in a temp folder, with a hand-moved clock. */
import { Router, type RouterOptions } from '../../electron/router';
import type { Reply } from '../../shared/api/reply';
import { FAST_KDF, manualClock, tempVaultPath } from './vault';

export function newRouter(vaultPath = tempVaultPath(), options: Pick<RouterOptions, 'devices' | 'deviceLabel' | 'ui' | 'onVaultOpened'> = {}) {
  const clock = manualClock();
  const router = new Router({ vaultPath, clock, clipboard: { kind: 'page' }, kdf: FAST_KDF, ...options });
  return { router, clock, vaultPath };
}

/** Unwraps a reply that must be ok, failing the test with its error otherwise. */
export function ok<T>(reply: Reply<T>): T {
  if (!reply.ok) throw new Error(`expected ok, got ${reply.error.code}: ${reply.error.message}`);
  return reply.value;
}

export function errorCode(reply: Reply<unknown>): string {
  return reply.ok ? 'ok' : reply.error.code;
}
