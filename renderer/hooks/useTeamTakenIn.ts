/**
 * Tells a screen when a team-sync round (live sync, or Sync now elsewhere) took others' changes
 * into the vault, so it reads its list again: team.status is looked at every `everyMs`, and a
 * round newer than the first one seen, that took something in, calls `onTakenIn`. Quiet by
 * design: an error (no team server, the vault locking) is no concern of the screen's here.
 * Must never: keep anything of the status but the time of the last round.
 */
import { useEffect, useRef } from 'react';
import type { CrewvaultApi } from '../../shared/api/client';

export function useTeamTakenIn(api: CrewvaultApi, onTakenIn: () => void, everyMs = 3000): void {
  /** The last round seen (its time), null before the first look. */
  const seen = useRef<number | null>(null);
  // The latest callback, without restarting the timer at each render (the vault screen draws often).
  const told = useRef(onTakenIn);
  useEffect(() => {
    told.current = onTakenIn;
  }, [onTakenIn]);
  useEffect(() => {
    let stopped = false;
    const look = async (): Promise<void> => {
      const reply = await api.team.status({});
      if (stopped || !reply.ok) return;
      const round = reply.value.lastSync;
      const at = round?.at ?? 0;
      const first = seen.current === null;
      if (at === seen.current) return;
      seen.current = at;
      if (!first && round?.ok === true && round.taken > 0) told.current();
    };
    void look();
    const timer = setInterval(() => void look(), everyMs);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [api, everyMs]);
}
