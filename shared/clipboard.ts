/**
 * Clearing the clipboard after a copy, the same rule for Electron (the main process writes
 * with Electron's clipboard) and the browser host (the page writes with the Clipboard API):
 * after N seconds, clear it only if it still holds what Crewvault put there — never wipe
 * something the person copied since (Bitwarden's rule). Time comes from injected timers.
 */

export interface ClipboardDriver {
  readonly read: () => Promise<string> | string;
  readonly write: (text: string) => Promise<void> | void;
}

export interface Timers {
  readonly set: (callback: () => void, ms: number) => unknown;
  readonly clear: (handle: unknown) => void;
}

/** The decision itself: clear only what we wrote. */
export function shouldClear(current: string, copied: string): boolean {
  return copied !== '' && current === copied;
}

export class ClipboardGuard {
  private pending: { readonly handle: unknown; readonly value: string } | undefined;
  private readonly driver: ClipboardDriver;
  private readonly timers: Timers;

  constructor(driver: ClipboardDriver, timers: Timers) {
    this.driver = driver;
    this.timers = timers;
  }

  /** Writes `value` and schedules its clearing; `clearAfterSeconds` 0 never clears. */
  async copy(value: string, clearAfterSeconds: number): Promise<void> {
    this.cancel();
    await this.driver.write(value);
    if (clearAfterSeconds <= 0) return;
    const handle = this.timers.set(() => void this.clearIfUnchanged(value), clearAfterSeconds * 1000);
    this.pending = { handle, value };
  }

  /** Clears now if the clipboard still holds what was copied (used on lock and quit). */
  async clearNow(): Promise<void> {
    const pending = this.pending;
    this.cancel();
    if (pending) await this.clearIfUnchanged(pending.value);
  }

  private cancel(): void {
    if (this.pending) this.timers.clear(this.pending.handle);
    this.pending = undefined;
  }

  private async clearIfUnchanged(value: string): Promise<void> {
    if (this.pending?.value === value) this.pending = undefined;
    if (shouldClear(await this.driver.read(), value)) await this.driver.write('');
  }
}
