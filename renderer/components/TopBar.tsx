/**
 * The bar over every signed-in screen, in two rows so it fits at 1024 px and wraps, never
 * overlaps, below: where you are, what you may open, who you are (AccountMenu), Lock; then the
 * screen's own controls (the vault's search and actions).
 */
import type { ReactNode } from 'react';
import type { CrewvaultApi } from '../../shared/api/client';
import type { SessionState } from '../../shared/api/contract';
import { ariaKeys, SHORTCUTS } from '../shortcuts';
import { AccountMenu } from './AccountMenu';

export type Page = 'vault' | 'groups' | 'users' | 'audit' | 'team';

const PAGES: ReadonlyArray<{ page: Page; label: string; permission: SessionState['permissions'][number] }> = [
  { page: 'vault', label: 'Vault', permission: 'entries.view' },
  { page: 'groups', label: 'Groups', permission: 'groups.manage' },
  { page: 'users', label: 'Users', permission: 'users.manage' },
  { page: 'audit', label: 'Audit log', permission: 'audit.read' },
];

interface Props {
  readonly api: CrewvaultApi;
  readonly state: SessionState;
  readonly page: Page;
  readonly onNavigate: (page: Page) => void;
  readonly onLock: () => void;
  readonly onChangePassword: () => void;
  readonly onSecurity: () => void;
  /** Opens the Team server screen (from the account menu). */
  readonly onTeamServer?: () => void;
  readonly children?: ReactNode;
}

export function TopBar({ api, state, page, onNavigate, onLock, onChangePassword, onSecurity, onTeamServer, children }: Props) {
  const pages = PAGES.filter((p) => state.permissions.includes(p.permission));
  return (
    <header className="topbar">
      <div className="topbar-head">
        <h1 className="brand">Crewvault</h1>
        {pages.length > 1 && (
          <nav aria-label="Sections" className="row">
            {pages.map((p) => (
              <button key={p.page} type="button" aria-current={p.page === page ? 'page' : undefined} className={p.page === page ? 'current' : ''} onClick={() => onNavigate(p.page)}>
                {p.label}
              </button>
            ))}
          </nav>
        )}
        {state.user && <AccountMenu api={api} name={state.user.name} role={state.user.role} onSecurity={onSecurity} onChangePassword={onChangePassword} {...(onTeamServer ? { onTeamServer } : {})} />}
        <button type="button" onClick={onLock} title={SHORTCUTS.lock.label} aria-keyshortcuts={ariaKeys('lock')}>Lock</button>
      </div>
      {children !== undefined && <div className="topbar-main">{children}</div>}
    </header>
  );
}
