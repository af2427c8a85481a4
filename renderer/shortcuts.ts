/**
 * Every keyboard shortcut of the app in one list, so a new one is checked against the others
 * here, and against the browsers' own: Ctrl/Cmd+Shift+U and +P are free in Chromium and
 * Electron (Electron's default menu is not used). The labels are what tooltips show.
 */
export const SHORTCUTS = {
  lock: { key: 'l', shift: false, label: 'Ctrl+L' },
  search: { key: 'f', shift: false, label: 'Ctrl+F' },
  copyUsername: { key: 'u', shift: true, label: 'Ctrl+Shift+U' },
  copyPassword: { key: 'p', shift: true, label: 'Ctrl+Shift+P' },
} as const;

export type Shortcut = keyof typeof SHORTCUTS;

/** The shortcut as `aria-keyshortcuts` says it: Ctrl, or Cmd on a Mac. */
export function ariaKeys(name: Shortcut): string {
  const shortcut = SHORTCUTS[name];
  const keys = `${shortcut.shift ? 'Shift+' : ''}${shortcut.key.toUpperCase()}`;
  return `Control+${keys} Meta+${keys}`;
}

/** Ctrl (or Cmd on a Mac) with the shortcut's key, Shift exactly when it says so, never Alt. */
export function isShortcut(event: Pick<KeyboardEvent, 'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey' | 'key'>, name: Shortcut): boolean {
  const shortcut = SHORTCUTS[name];
  return (event.ctrlKey || event.metaKey) && !event.altKey && event.shiftKey === shortcut.shift && event.key.toLowerCase() === shortcut.key;
}
