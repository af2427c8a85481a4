/**
 * The renderer's one way to the vault: `window.crewvault` under Electron (the preload), or
 * the same API over HTTP to the browser host. The renderer never holds key material.
 */
import { buildApi, type CrewvaultApi } from '../shared/api/client';
import type { Reply } from '../shared/api/reply';

const TOKEN_KEY = 'crewvault.token';

/** The browser host's token arrives in the URL fragment; keep it for this tab and drop it from the address bar. */
function hostToken(): string {
  const match = /(?:^#|&)token=([0-9a-f]{64})/.exec(window.location.hash);
  if (match?.[1]) {
    sessionStorage.setItem(TOKEN_KEY, match[1]);
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export type Transport = 'electron' | 'browser';

export function connect(): { api: CrewvaultApi; transport: Transport } {
  const bridge = (window as unknown as { crewvault?: CrewvaultApi }).crewvault;
  if (bridge) return { api: bridge, transport: 'electron' };
  const token = hostToken();
  return {
    transport: 'browser',
    api: buildApi(async (method, input) => {
      try {
        const response = await fetch(`/rpc/${method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-crewvault-token': token },
          body: JSON.stringify(input ?? {}),
        });
        return (await response.json()) as Reply<unknown>;
      } catch {
        return { ok: false, error: { code: 'INTERNAL', message: 'Crewvault is not reachable: is "crewvault serve" still running?' } };
      }
    }),
  };
}
