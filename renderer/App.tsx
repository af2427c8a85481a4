/**
 * The app shell: decides which screen a person sees from the session state; Ctrl/Cmd+L locks.
 * A call that meets LOCKED or PASSWORD_CHANGE_REQUIRED on any screen comes here (useCall),
 * and the state read again says which screen is next.
 *
 * A session that ends under a signed-in person (Lock, idle lock, LOCKED from a call) shows the
 * lock screen with their name kept; unlocking as them returns to the same page, search, filters
 * and selection. That view is held in this page's memory only, never in its storage, and is
 * dropped when someone else signs in.
 */
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import type { SessionState } from '../shared/api/contract';
import type { ErrorInfo } from '../shared/errors';
import type { Connection } from './client';
import { ChangePasswordForm } from './components/ChangePasswordForm';
import { Modal } from './components/Modal';
import { SecurityPanel } from './components/SecurityPanel';
import { TopBar, type Page } from './components/TopBar';
import { SessionEnded } from './hooks/useCall';
import { isShortcut } from './shortcuts';
import { loadTheme } from './theme';
import { AuditScreen } from './screens/AuditScreen';
import { GroupsScreen } from './screens/GroupsScreen';
import { SecondStepScreen } from './screens/SecondStepScreen';
import { SignInScreen } from './screens/SignInScreen';
import { TeamServerScreen } from './screens/TeamServerScreen';
import { UsersScreen } from './screens/UsersScreen';
import { VaultScreen, type FirstList, type VaultView } from './screens/VaultScreen';

export function App({ connection }: { connection: Connection }) {
  const { api } = connection;
  const [state, setState] = useState<SessionState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [page, setPage] = useState<Page>('vault');
  const [changingPassword, setChangingPassword] = useState(false);
  const [security, setSecurity] = useState(false);
  /** The live view of the vault screen (told by it at each change). */
  const view = useRef<VaultView | null>(null);
  /** Who was locked out, and where they were: kept until they (or someone else) sign in. */
  const [locked, setLocked] = useState<{ user: string; page: Page; view: VaultView | null } | null>(null);
  /** The view the vault screen starts from after unlocking (until the person moves elsewhere). */
  const [resume, setResume] = useState<VaultView | null>(null);
  const onView = useCallback((next: VaultView) => { view.current = next; }, []);
  /**
   * The entry list, asked for as soon as a sign-in answers when the vault screen is what comes
   * next: the screen takes it in its first load instead of asking once it has drawn, so the
   * main process starts on the list while the page draws. Taken once; dropped on leaving.
   */
  const firstList = useRef<FirstList | null>(null);
  const takeFirstList = useCallback(() => {
    const list = firstList.current;
    firstList.current = null;
    return list;
  }, []);
  function signedInAs(next: SessionState): void {
    const nextPage = locked && locked.user === next.user?.name ? locked.page : 'vault';
    const listed = next.user && !next.pending && !next.mustChangePassword && next.permissions.includes('entries.view') && nextPage === 'vault';
    firstList.current = listed ? { askedAt: Date.now(), reply: api.entries.list({}) } : null;
  }

  // Who the screens were drawn for. A change is dealt with during this render (React's pattern
  // for state that follows a prop), so the vault screen is first drawn where the person was.
  const [drawnFor, setDrawnFor] = useState<string | null>(null);
  const signedIn = state?.user?.name ?? null;
  if (state && signedIn !== drawnFor && !(signedIn === null && state.pending)) {
    setDrawnFor(signedIn);
    if (signedIn === null) {
      if (drawnFor !== null) setLocked({ user: drawnFor, page, view: view.current });
    } else {
      const back = locked?.user === signedIn ? locked : null;
      setResume(back?.view ?? null);
      setPage(back?.page ?? 'vault');
      setLocked(null);
    }
  }

  const refresh = useCallback(async () => {
    const reply = await api.session.state({});
    if (reply.ok) setState(reply.value);
    else setError(reply.error.message);
  }, [api]);

  const lock = useCallback(async () => {
    firstList.current = null;
    const reply = await api.session.lock({});
    if (reply.ok) setState(reply.value);
  }, [api]);

  /** A call met LOCKED (the sign-in screen says why) or PASSWORD_CHANGE_REQUIRED. */
  const sessionEnded = useCallback((reason: ErrorInfo) => {
    if (reason.code === 'LOCKED') setNotice(reason.message);
    void refresh();
  }, [refresh]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  // This computer's chosen appearance (the first frame used the page's cached guess).
  useEffect(() => {
    void loadTheme(api);
  }, [api]);

  useEffect(() => {
    function onKey(event: KeyboardEvent) {
      if (isShortcut(event, 'lock')) {
        event.preventDefault();
        void lock();
      }
    }
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [lock]);

  return <SessionEnded value={sessionEnded}>{screen()}</SessionEnded>;

  function screen(): ReactNode {
    if (error) return <main className="centered"><p role="alert" className="error">{error}</p></main>;
    if (!state) return <main className="centered"><p aria-busy="true">Opening Crewvault…</p></main>;
    if (state.pending) return <SecondStepScreen api={api} transport={connection.transport} state={state} onDone={(s, ended) => { if (ended) setNotice(ended); signedInAs(s); setState(s); }} />;
    if (!state.user) return <SignInScreen key={locked?.user ?? ''} api={api} state={state} notice={notice} lockedAs={locked?.user ?? null} onSignedIn={(s) => { setNotice(null); signedInAs(s); setState(s); }} />;
    if (state.mustChangePassword) {
      return (
        <main className="centered">
          <div className="card">
            <ChangePasswordForm api={api} oneTime intro="You signed in with a one-time password. Choose your own to continue." onChanged={setState} />
          </div>
        </main>
      );
    }
    const topBar = (children?: ReactNode) => (
      <TopBar api={api} state={state} page={page} onNavigate={(next) => { firstList.current = null; setResume(null); setPage(next); }} onLock={() => void lock()} onChangePassword={() => setChangingPassword(true)} onSecurity={() => setSecurity(true)} onTeamServer={() => { firstList.current = null; setResume(null); setPage('team'); }}>{children}</TopBar>
    );
    const securityDialog = security && (
      <Modal label="Two-step sign-in" onClose={() => setSecurity(false)}>
        <SecurityPanel api={api} transport={connection.transport} onClose={() => setSecurity(false)} />
      </Modal>
    );
    const passwordDialog = changingPassword && (
      <Modal label="Change password" onClose={() => setChangingPassword(false)}>
        <ChangePasswordForm api={api} intro="Your other sessions will end." onChanged={(s) => { setChangingPassword(false); setState(s); }} onCancel={() => setChangingPassword(false)} />
      </Modal>
    );
    if (page === 'vault') return <>{passwordDialog}{securityDialog}<VaultScreen connection={connection} state={state} topBar={topBar} view={resume} onView={onView} takeFirstList={takeFirstList} /></>;
    return (
      <div className="vault">
        {passwordDialog}
        {securityDialog}
        {topBar()}
        {page === 'groups' && <GroupsScreen connection={connection} me={state.user.name} role={state.user.role} />}
        {page === 'users' && <UsersScreen connection={connection} me={state.user.name} />}
        {page === 'audit' && <AuditScreen connection={connection} />}
        {page === 'team' && <TeamServerScreen connection={connection} state={state} onBack={() => setPage('vault')} />}
      </div>
    );
  }
}
