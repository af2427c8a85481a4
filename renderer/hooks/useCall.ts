/**
 * One reply handler for every screen. `call(api.x.y(input), onError)` gives back the value, or
 * undefined once the error has gone where it belongs. Two errors belong to the app, not to the
 * screen that met them: LOCKED (the session has ended: the sign-in screen, with the reason)
 * and PASSWORD_CHANGE_REQUIRED (the change-password screen). Any other is the screen's own
 * one line, given to `onError`. It decides by the error's code, never by its message.
 */
import { createContext, useCallback, useContext } from 'react';
import type { Reply } from '../../shared/api/reply';
import type { ErrorCode, ErrorInfo } from '../../shared/errors';

/** The errors no screen can answer: the app must show another screen. */
const APP_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['LOCKED', 'PASSWORD_CHANGE_REQUIRED']);

/**
 * What the app does with those errors (App provides it). Without a provider (a component
 * rendered on its own) they are the screen's like any other.
 */
export const SessionEnded = createContext<((error: ErrorInfo) => void) | null>(null);

/**
 * The value of a call, or undefined once its error has been shown or handed to the app.
 * `onError` gets the one line, and the whole error for a screen that needs more of it (the
 * wait a TOO_MANY_ATTEMPTS carries).
 */
export type Call = <T>(pending: Promise<Reply<T>>, onError: (message: string, error: ErrorInfo) => void) => Promise<T | undefined>;

export function useCall(): Call {
  const toApp = useContext(SessionEnded);
  return useCallback(async <T>(pending: Promise<Reply<T>>, onError: (message: string, error: ErrorInfo) => void): Promise<T | undefined> => {
    const reply = await pending;
    if (reply.ok) return reply.value;
    if (toApp && APP_ERRORS.has(reply.error.code)) toApp(reply.error);
    else onError(reply.error.message, reply.error);
    return undefined;
  }, [toApp]);
}
