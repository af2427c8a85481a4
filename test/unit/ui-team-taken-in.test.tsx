// @vitest-environment jsdom
/**
 * useTeamTakenIn, the vault page's look at team.status: nothing is asked before the list has
 * been answered, the first look waits for the frame after it (team.status never competes with
 * a sign-in's list), and a round that took others' changes in reads the list again — at the
 * first look too, when it ended after the list was asked for. team.status is answered here by
 * a script of rounds (the hook's only door to the main process); the clock and the frames are
 * faked, never slept on. Must never reach a real vault or server.
 */
import { act, cleanup, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CrewvaultApi } from '../../shared/api/client';
import type { TeamStatus, TeamSyncOutcome } from '../../shared/api/team-contract';
import type { Reply } from '../../shared/api/reply';
import { useTeamTakenIn } from '../../renderer/hooks/useTeamTakenIn';

const LISTED_AT = Date.UTC(2026, 0, 1, 12, 0, 0);
const EVERY_MS = 3000;

function round(at: number, taken: number): TeamSyncOutcome {
  return { ok: true, at, moved: false, taken, sent: 0, conflictCopies: 0, setAside: 0 };
}

/** team.status answering with `lastSync` as the test sets it; counts the asks. */
function scriptedStatus() {
  const state = { lastSync: null as TeamSyncOutcome | null, asked: 0 };
  const status = (): Promise<Reply<TeamStatus>> => {
    state.asked++;
    return Promise.resolve({ ok: true, value: { lastSync: state.lastSync } as TeamStatus });
  };
  const api = { team: { status } } as unknown as CrewvaultApi;
  return { api, state };
}

/** Lets the next frame, the task after it and the reply's promise run. */
async function nextFrameAndTask(): Promise<void> {
  await act(async () => {
    vi.advanceTimersToNextFrame();
    await vi.advanceTimersByTimeAsync(1);
  });
}

describe('useTeamTakenIn', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'requestAnimationFrame', 'cancelAnimationFrame', 'Date'] });
    vi.setSystemTime(LISTED_AT + 500);
  });
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it('asks nothing before the list is answered, then first after the frame that painted it', async () => {
    const { api, state } = scriptedStatus();
    const onTakenIn = vi.fn();
    const { rerender } = renderHook(({ since }: { since: number | null }) => useTeamTakenIn(api, onTakenIn, since, EVERY_MS), { initialProps: { since: null as number | null } });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(EVERY_MS * 2);
    });
    expect(state.asked).toBe(0);

    rerender({ since: LISTED_AT });
    expect(state.asked).toBe(0); // not in the render or commit that shows the list
    await nextFrameAndTask();
    expect(state.asked).toBe(1);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(EVERY_MS);
    });
    expect(state.asked).toBe(2);
    expect(onTakenIn).not.toHaveBeenCalled();
  });

  it('at the first look, reads the list again only for a round that ended after the list was asked for', async () => {
    const before = scriptedStatus();
    before.state.lastSync = round(LISTED_AT - 1, 4);
    const quiet = vi.fn();
    renderHook(() => useTeamTakenIn(before.api, quiet, LISTED_AT, EVERY_MS));
    await nextFrameAndTask();
    expect(before.state.asked).toBe(1);
    expect(quiet).not.toHaveBeenCalled();

    const after = scriptedStatus();
    after.state.lastSync = round(LISTED_AT + 1, 4);
    const told = vi.fn();
    renderHook(() => useTeamTakenIn(after.api, told, LISTED_AT, EVERY_MS));
    await nextFrameAndTask();
    expect(told).toHaveBeenCalledTimes(1);
  });

  it('later, each new round that took something in reads the list again, once; others do not', async () => {
    const { api, state } = scriptedStatus();
    const onTakenIn = vi.fn();
    renderHook(() => useTeamTakenIn(api, onTakenIn, LISTED_AT, EVERY_MS));
    await nextFrameAndTask();

    state.lastSync = round(LISTED_AT + 4000, 0); // took nothing in
    await act(async () => {
      await vi.advanceTimersByTimeAsync(EVERY_MS);
    });
    expect(onTakenIn).not.toHaveBeenCalled();

    state.lastSync = round(LISTED_AT + 7000, 2);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(EVERY_MS);
    });
    expect(onTakenIn).toHaveBeenCalledTimes(1);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(EVERY_MS); // the same round seen again
    });
    expect(onTakenIn).toHaveBeenCalledTimes(1);

    state.lastSync = { ok: false, at: LISTED_AT + 10_000, code: 'SERVER_UNREACHABLE', message: 'unreachable' };
    await act(async () => {
      await vi.advanceTimersByTimeAsync(EVERY_MS);
    });
    expect(onTakenIn).toHaveBeenCalledTimes(1);
  });
});
