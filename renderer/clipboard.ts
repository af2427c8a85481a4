/**
 * Copying in the page. Under Electron the main process has already written (and will clear)
 * the clipboard; in the browser host the page writes it and clears it with the shared rule.
 */
import type { CopyResult } from '../shared/api/contract';
import { ClipboardGuard } from '../shared/clipboard';
import type { Transport } from './client';

const guard = new ClipboardGuard(
  { read: () => navigator.clipboard.readText(), write: (text) => navigator.clipboard.writeText(text) },
  { set: (callback, ms) => window.setTimeout(callback, ms), clear: (handle) => window.clearTimeout(handle as number) },
);

/**
 * Finishes a copy the vault allowed (useCopy) and returns the line to show: "Code copied —
 * clears in 30 s", or the browser's refusal.
 */
export async function finishCopy(transport: Transport, copied: CopyResult, what = 'Copied'): Promise<string> {
  const { value, clearAfterSeconds } = copied;
  if (transport === 'browser' && value !== undefined) {
    try {
      await guard.copy(value, clearAfterSeconds);
    } catch {
      return 'The browser refused clipboard access.';
    }
  }
  return clearAfterSeconds > 0 ? `${what} — clears in ${clearAfterSeconds} s` : what;
}
