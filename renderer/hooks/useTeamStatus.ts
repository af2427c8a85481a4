/**
 * The team server's status (team.status) for the Team server screen, read again every
 * `everyMs` while the screen is shown (a running round's progress, live sync's rounds) and
 * at once after each action. Polling is not activity: it never keeps an idle vault open.
 * Must never: hold anything but what team.status says (no password, code or token passes here).
 */
import { useCallback, useEffect, useState } from 'react';
import type { CrewvaultApi } from '../../shared/api/client';
import type { TeamStatus } from '../../shared/api/team-contract';
import { useCall } from './useCall';

export function useTeamStatus(api: CrewvaultApi, onError: (message: string) => void, everyMs = 1000) {
  const [status, setStatus] = useState<TeamStatus | null>(null);
  const call = useCall();
  const reload = useCallback(async () => {
    const next = await call(api.team.status({}), onError);
    if (next) setStatus(next);
  }, [api, call, onError]);
  useEffect(() => {
    void reload();
    const timer = setInterval(() => void reload(), everyMs);
    return () => clearInterval(timer);
  }, [reload, everyMs]);
  return { status, setStatus, reload };
}
