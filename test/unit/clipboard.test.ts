// The one clearing rule shared by Electron and the browser host, on fake timers: clear after
// N seconds only if the clipboard still holds what Crewvault wrote.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClipboardGuard, shouldClear } from '../../shared/clipboard';

/** An in-memory clipboard: the rule under test is pure logic over read and write. */
function memoryClipboard() {
  const board = { text: '' };
  const driver = { read: () => board.text, write: (text: string) => { board.text = text; } };
  const guard = new ClipboardGuard(driver, { set: (callback, ms) => setTimeout(callback, ms), clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>) });
  return { board, guard };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('ClipboardGuard', () => {
  it('clears after N seconds when the clipboard is unchanged', async () => {
    const { board, guard } = memoryClipboard();
    await guard.copy('123456', 30);
    expect(board.text).toBe('123456');
    await vi.advanceTimersByTimeAsync(29_999);
    expect(board.text).toBe('123456');
    await vi.advanceTimersByTimeAsync(1);
    expect(board.text).toBe('');
  });

  it('leaves alone what the person copied since', async () => {
    const { board, guard } = memoryClipboard();
    await guard.copy('hunter2', 30);
    board.text = 'something the person copied';
    await vi.advanceTimersByTimeAsync(30_000);
    expect(board.text).toBe('something the person copied');
  });

  it('a second copy replaces the first timer', async () => {
    const { board, guard } = memoryClipboard();
    await guard.copy('first', 30);
    await vi.advanceTimersByTimeAsync(20_000);
    await guard.copy('second', 30);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(board.text).toBe('second');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(board.text).toBe('');
  });

  it('never clears with 0 seconds, and clears at once on lock', async () => {
    const { board, guard } = memoryClipboard();
    await guard.copy('kept', 0);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(board.text).toBe('kept');
    await guard.copy('locked away', 30);
    await guard.clearNow();
    expect(board.text).toBe('');
  });

  it('decides on content alone', () => {
    expect(shouldClear('abc', 'abc')).toBe(true);
    expect(shouldClear('abd', 'abc')).toBe(false);
    expect(shouldClear('', '')).toBe(false);
  });
});
