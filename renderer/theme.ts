/**
 * The app's appearance: follow the system, or always light, or always dark. A UI setting of
 * this device (localStorage), never of the vault; applied as `data-theme` on the root element,
 * which styles.css reads through `color-scheme` (its colours are `light-dark()` pairs).
 */
export const THEMES = ['system', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

const KEY = 'crewvault.theme';

function isTheme(value: unknown): value is Theme {
  return typeof value === 'string' && (THEMES as readonly string[]).includes(value);
}

export function readTheme(): Theme {
  try {
    const stored = window.localStorage.getItem(KEY);
    return isTheme(stored) ? stored : 'system';
  } catch {
    // Storage refused (a locked-down profile): follow the system.
    return 'system';
  }
}

export function applyTheme(theme: Theme): void {
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

export function saveTheme(theme: Theme): void {
  applyTheme(theme);
  try {
    window.localStorage.setItem(KEY, theme);
  } catch {
    // Not remembered, but applied for this window.
  }
}
