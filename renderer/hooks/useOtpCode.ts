/**
 * A live code for one entry: asked of the main process once, then again only when the
 * period ends (or, for HOTP, when the person asks). Unmounting (a row scrolled out of view,
 * a closed dialog) stops the asking.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { CrewvaultApi } from '../../shared/api/client';
import type { OtpCodeResult } from '../../shared/api/contract';
import { useCall } from './useCall';
import { useSecondsUntil } from './useNow';

export interface LiveCode {
  readonly result: OtpCodeResult | null;
  readonly error: string | null;
  /** Whole seconds the code has left (TOTP/Steam). */
  readonly secondsLeft: number;
  /** Fetches now (HOTP "Next code"; also the first TOTP fetch). */
  readonly fetch: () => Promise<void>;
}

/** Asks at once on mount (the list mounts a row's code only once the row has settled in view). */
export function useOtpCode(api: CrewvaultApi, entryId: number, automatic: boolean): LiveCode {
  const [state, setState] = useState<{ result: OtpCodeResult | null; validUntil: number; error: string | null }>({ result: null, validUntil: 0, error: null });
  const inFlight = useRef(false);
  const call = useCall();

  const fetch = useCallback(async () => {
    if (inFlight.current) return;
    inFlight.current = true;
    const result = await call(api.otp.code({ id: entryId }), (error) => setState((s) => ({ ...s, error })));
    inFlight.current = false;
    if (result) setState({ result, validUntil: Date.now() + (result.remainingMs ?? 0), error: null });
  }, [api, call, entryId]);

  useEffect(() => {
    if (automatic) void fetch();
  }, [automatic, fetch]);

  const secondsLeft = useSecondsUntil(state.result?.period !== undefined ? state.validUntil : null);
  const expired = automatic && state.result?.period !== undefined && secondsLeft === 0;
  useEffect(() => {
    if (expired) void fetch();
  }, [expired, fetch]);

  return { result: state.result, error: state.error, secondsLeft, fetch };
}
