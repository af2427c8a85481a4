/**
 * One shared ticker for every countdown on screen: a single interval whatever the number of
 * codes shown, started by the first subscriber and stopped by the last.
 */
import { useSyncExternalStore } from 'react';

const TICK_MS = 250;
const listeners = new Set<() => void>();
let now = Date.now();
let timer: ReturnType<typeof setInterval> | undefined;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (timer === undefined) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
      for (const l of listeners) l();
    }, TICK_MS);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

export function useNow(): number {
  return useSyncExternalStore(subscribe, () => now);
}

const notTicking = (): (() => void) => () => undefined;

/**
 * Whole seconds until `deadline` (0 once it has passed), from the same ticker, but a component
 * re-renders only when that number changes: once a second rather than at every tick. With
 * 40 list rows in view, re-rendering each at every tick cost the page more than typing did.
 * A null deadline does not tick at all (a row still waiting for its first code).
 */
export function useSecondsUntil(deadline: number | null): number {
  return useSyncExternalStore(deadline === null ? notTicking : subscribe, () => (deadline === null ? 0 : Math.max(0, Math.ceil((deadline - now) / 1000))));
}
