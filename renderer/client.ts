/**
 * The renderer's one way to the vault: `window.crewvault` under Electron (the preload), or
 * the same API over HTTP to the browser host. The renderer never holds key material, and
 * under the browser host not even its session: that is an HttpOnly cookie the host set when
 * the launch link was opened (electron/host/server.ts), which no script can read.
 */
import { buildApi, type CrewvaultApi } from '../shared/api/client';
import type { Reply } from '../shared/api/reply';

export type Transport = 'electron' | 'browser';

/** What every screen talks to the vault through: the API, and the door it came by. */
export interface Connection {
  readonly api: CrewvaultApi;
  readonly transport: Transport;
}

export function connect(): Connection {
  const bridge = (window as unknown as { crewvault?: CrewvaultApi }).crewvault;
  if (bridge) return { api: bridge, transport: 'electron' };
  return {
    transport: 'browser',
    api: buildApi(async (method, input) => {
      try {
        // Same origin only, so the session cookie goes with the call and nowhere else. The
        // JSON content type is part of the host's CSRF defence: a cross-site form cannot send it.
        const response = await fetch(`/rpc/${method}`, {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(input ?? {}),
        });
        return (await response.json()) as Reply<unknown>;
      } catch {
        return { ok: false, error: { code: 'INTERNAL', message: 'Crewvault is not reachable: is "crewvault serve" still running?' } };
      }
    }),
  };
}
