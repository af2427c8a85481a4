/** The bar over every signed-in screen: where you are, what you may open, who you are, Lock. */
import type { ReactNode } from 'react';
import type { SessionState } from '../../shared/api/contract';
import { ariaKeys, SHORTCUTS } from '../shortcuts';

export type Page = 'vault' | 'groups' | 'users' | 'audit';

const PAGES: ReadonlyArray<{ page: Page; label: string; permission: SessionState['permissions'][number] }> = [
  { page: 'vault', label: 'Vault', permission: 'entries.view' },
  { page: 'groups', label: 'Groups', permission: 'groups.manage' },
  { page: 'users', label: 'Users', permission: 'users.manage' },
  { page: 'audit', label: 'Audit log', permission: 'audit.read' },
];

interface Props {
  readonly state: SessionState;
  readonly page: Page;
  readonly onNavigate: (page: Page) => void;
  readonly onLock: () => void;
  readonly onChangePassword: () => void;
  readonly onSecurity: () => void;
  readonly children?: ReactNode;
}

export function TopBar({ state, page, onNavigate, onLock, onChangePassword, onSecurity, children }: Props) {
  const pages = PAGES.filter((p) => state.permissions.includes(p.permission));
  return (
    <header className="topbar">
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
      <div className="topbar-main">{children}</div>
      <span className="muted">{state.user?.name} <span className="badge">{state.user?.role.replace('_', ' ')}</span></span>
      <button type="button" onClick={onSecurity}>Two-step sign-in</button>
      <button type="button" onClick={onChangePassword}>Change password</button>
      <button type="button" onClick={onLock} title={SHORTCUTS.lock.label} aria-keyshortcuts={ariaKeys('lock')}>Lock</button>
    </header>
  );
}
