/**
 * Tells a screen when a team-sync round (live sync, or Sync now elsewhere) took others' changes
 * into the vault, so it reads its list again: team.status is looked at every `everyMs`, and a
 * round that took something in, newer than the list shown, calls `onTakenIn`. Quiet by
 * design: an error (no team server, the vault locking) is no concern of the screen's here.
 *
 * Nothing is asked before the list has been answered and painted (`listedSince` null until then):
 * the first look waits for the frame after it, so team.status never stands between a sign-in
 * and the first rows (it was one more request for the main process to answer, and for the page
 * to take, while the list was on its way). That first look still catches a round that ended
 * after the list was asked for (its time against `listedSince`): the list may not hold it.
 * Must never: keep anything of the status but the time of the last round.
 */
import { useEffect, useRef } from 'react';
import type { CrewvaultApi } from '../../shared/api/client';
import { afterNextPaint } from '../after-paint';

/**
 * @param listedSince when (Date.now(), this computer's clock, as the round's time is) the list
 * now shown was asked for; null until the first list has been answered.
 */
export function useTeamTakenIn(api: CrewvaultApi, onTakenIn: () => void, listedSince: number | null, everyMs = 3000): void {
  /** The last round seen (its time), null before the first look. */
  const seen = useRef<number | null>(null);
  // The latest callback and list time, without restarting the timer at each render (the vault screen draws often).
  const told = useRef(onTakenIn);
  const since = useRef(listedSince);
  useEffect(() => {
    told.current = onTakenIn;
    since.current = listedSince;
  }, [onTakenIn, listedSince]);
  const listed = listedSince !== null;
  useEffect(() => {
    if (!listed) return undefined;
    let stopped = false;
    const look = async (): Promise<void> => {
      const reply = await api.team.status({});
      if (stopped || !reply.ok) return;
      const round = reply.value.lastSync;
      const at = round?.at ?? 0;
      const first = seen.current === null;
      if (at === seen.current) return;
      seen.current = at;
      // The first look has no round before it to compare with: the list's own time stands in.
      const newer = !first || at > (since.current ?? Number.POSITIVE_INFINITY);
      if (newer && round?.ok === true && round.taken > 0) told.current();
    };
    const cancelFirst = afterNextPaint(() => void look());
    const timer = window.setInterval(() => void look(), everyMs);
    return () => {
      stopped = true;
      cancelFirst();
      window.clearInterval(timer);
    };
  }, [api, everyMs, listed]);
}
