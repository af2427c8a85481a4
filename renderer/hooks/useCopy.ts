/**
 * Copying, as every screen does it: the vault copies (a secret it reads itself, or text the
 * page already shows) and the line saying what was copied goes to `show`, like an error.
 * Never puts a secret in that line, only what kind of thing was copied.
 */
import { useCallback } from 'react';
import type { CrewvaultApi } from '../../shared/api/client';
import type { CopyResult } from '../../shared/api/contract';
import type { Reply } from '../../shared/api/reply';
import { finishCopy } from '../clipboard';
import type { Transport } from '../client';
import { useCall } from './useCall';

/** Copies through `pending` (secrets.copy or clipboard.copy); `what` names it: "Code copied". */
export type Copy = (pending: Promise<Reply<CopyResult>>, what: string, show: (line: string) => void) => Promise<void>;

export function useCopy(transport: Transport): Copy {
  const call = useCall();
  return useCallback(async (pending, what, show) => {
    const copied = await call(pending, show);
    if (copied) show(await finishCopy(transport, copied, what));
  }, [call, transport]);
}

/** Copies text the page already shows (recovery codes, an emergency code), cleared like a secret. */
export function useCopyText(api: CrewvaultApi, transport: Transport): (text: string, show: (line: string) => void) => Promise<void> {
  const copy = useCopy(transport);
  return useCallback((text, show) => copy(api.clipboard.copy({ text }), 'Copied', show), [api, copy]);
}
