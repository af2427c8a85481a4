/**
 * Copying in the page. Under Electron the main process has already written (and will clear)
 * the clipboard; in the browser host the page writes it and clears it with the shared rule.
 */
import type { CrewvaultApi } from '../shared/api/client';
import type { CopyResult } from '../shared/api/contract';
import type { Reply } from '../shared/api/reply';
import { ClipboardGuard } from '../shared/clipboard';
import type { Transport } from './client';

const guard = new ClipboardGuard(
  { read: () => navigator.clipboard.readText(), write: (text) => navigator.clipboard.writeText(text) },
  { set: (callback, ms) => window.setTimeout(callback, ms), clear: (handle) => window.clearTimeout(handle as number) },
);

/** Copies text the page already shows (recovery codes, an emergency code), cleared like a secret. */
export async function copyText(api: CrewvaultApi, transport: Transport, text: string): Promise<string> {
  return copyFromReply(transport, await api.clipboard.copy({ text }));
}

/** Finishes a copy and returns the line to show ("Copied — clears in 30 s"), or the error. */
export async function copyFromReply(transport: Transport, reply: Reply<CopyResult>): Promise<string> {
  if (!reply.ok) return reply.error.message;
  const { value, clearAfterSeconds } = reply.value;
  if (transport === 'browser' && value !== undefined) {
    try {
      await guard.copy(value, clearAfterSeconds);
    } catch {
      return 'The browser refused clipboard access.';
    }
  }
  return clearAfterSeconds > 0 ? `Copied — clears in ${clearAfterSeconds} s` : 'Copied';
}
