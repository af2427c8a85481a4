/**
 * The app's appearance: follow the system, or always light, or always dark. A UI setting of
 * this computer, kept by the main process in its config file (ui.settings / ui.setTheme), never
 * in a vault; the page keeps a copy in localStorage only to paint the first frame in the right
 * colours before that answer comes. Applied as `data-theme` on the root element, which
 * styles.css reads through `color-scheme` (its colours are `light-dark()` pairs).
 */
import type { CrewvaultApi } from '../shared/api/client';
import { THEMES, type Theme } from '../shared/model';

const CACHE_KEY = 'crewvault.theme';

function isTheme(value: unknown): value is Theme {
  return typeof value === 'string' && (THEMES as readonly string[]).includes(value);
}

/** The theme last seen on this page (the first frame's guess). */
export function cachedTheme(): Theme {
  try {
    const stored = window.localStorage.getItem(CACHE_KEY);
    return isTheme(stored) ? stored : 'system';
  } catch {
    // Storage refused (a locked-down profile): follow the system until the setting arrives.
    return 'system';
  }
}

export function applyTheme(theme: Theme): void {
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  try {
    // The default needs no copy: the page's storage stays empty unless a look was chosen.
    if (theme === 'system') window.localStorage.removeItem(CACHE_KEY);
    else window.localStorage.setItem(CACHE_KEY, theme);
  } catch {
    // Not cached: the setting is still kept by the main process.
  }
}

/** Applies the theme this computer keeps; returns it. */
export async function loadTheme(api: CrewvaultApi): Promise<Theme> {
  const reply = await api.ui.settings({});
  const theme = reply.ok ? reply.value.theme : cachedTheme();
  applyTheme(theme);
  return theme;
}

/** Keeps `theme` as this computer's choice and applies it; false if it could not be kept. */
export async function saveTheme(api: CrewvaultApi, theme: Theme): Promise<boolean> {
  applyTheme(theme);
  const reply = await api.ui.setTheme({ theme });
  return reply.ok;
}
