/**
 * Who is signed in, as a button that opens what concerns only them: two-step sign-in, their
 * password, and the app's appearance (system, light, dark). Kept out of the top bar's row so
 * the bar fits at 1024 px. A disclosure, not an ARIA menu: Tab moves through it, Escape or a
 * click outside closes it and gives focus back to the button.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { CrewvaultApi } from '../../shared/api/client';
import { THEMES, type Theme } from '../../shared/model';
import { cachedTheme, saveTheme } from '../theme';

const THEME_LABELS: Readonly<Record<Theme, string>> = { system: 'System', light: 'Light', dark: 'Dark' };

interface Props {
  readonly api: CrewvaultApi;
  readonly name: string;
  readonly role: string;
  readonly onSecurity: () => void;
  readonly onChangePassword: () => void;
  /** The Team server screen (sign-in to a server, sync); absent where there is none. */
  readonly onTeamServer?: () => void;
}

export function AccountMenu({ api, name, role, onSecurity, onChangePassword, onTeamServer }: Props) {
  const [open, setOpen] = useState(false);
  const [theme, setTheme] = useState<Theme>(cachedTheme);
  const [notKept, setNotKept] = useState(false);
  const panelId = useId();
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return undefined;
    const outside = (event: PointerEvent) => {
      if (event.target instanceof Node && !root.current?.contains(event.target)) setOpen(false);
    };
    const escape = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      setOpen(false);
      button.current?.focus();
    };
    document.addEventListener('pointerdown', outside);
    document.addEventListener('keydown', escape);
    return () => {
      document.removeEventListener('pointerdown', outside);
      document.removeEventListener('keydown', escape);
    };
  }, [open]);

  const act = (action: () => void) => () => {
    setOpen(false);
    action();
  };

  return (
    <div className="account" ref={root}>
      <button ref={button} type="button" className="account-button" aria-expanded={open} aria-controls={panelId} onClick={() => setOpen((o) => !o)}>
        <span className="sr-only">Account: </span>{name} <span className="badge">{role.replace('_', ' ')}</span>
      </button>
      {open && (
        <div id={panelId} className="account-panel" role="group" aria-label={`Account of ${name}`}>
          <button type="button" onClick={act(onSecurity)}>Two-step sign-in</button>
          <button type="button" onClick={act(onChangePassword)}>Change password</button>
          {onTeamServer && <button type="button" onClick={act(onTeamServer)}>Team server</button>}
          <fieldset className="row">
            <legend>Appearance</legend>
            {THEMES.map((t) => (
              <label key={t} className="inline">
                <input type="radio" name={`${panelId}-theme`} value={t} checked={theme === t} onChange={() => { setTheme(t); void saveTheme(api, t).then((kept) => setNotKept(!kept)); }} />
                {THEME_LABELS[t]}
              </label>
            ))}
          </fieldset>
          {notKept && <p role="alert" className="error small">Applied, but not kept for the next start.</p>}
        </div>
      )}
    </div>
  );
}
