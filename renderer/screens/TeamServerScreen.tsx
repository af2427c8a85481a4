/**
 * The Team server screen (#14, #15), reached from the account menu: signing in to a team server
 * (TeamServerSignIn), and once signed in the server, the person and this device; "Sync now" and
 * what the last round did, in words, with the lines `crewvault sync` tells beside its counts; live sync (the server's stream starts a round whenever
 * others change something, until the vault locks or this is turned off); moving the vault onto
 * the server for its owner, confirmed first and with records sent of the total while it runs;
 * signing out of the server. The main process holds the session (team/desk.ts); this screen
 * shows what team.status says.
 * Must never: hold a password, code or token beyond an input field.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { SessionState } from '../../shared/api/contract';
import type { TeamStatus } from '../../shared/api/team-contract';
import type { Connection } from '../client';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { TeamAdmin } from '../components/TeamAdmin';
import { TeamServerSignIn } from '../components/TeamServerSignIn';
import { useCall } from '../hooks/useCall';
import { useTeamStatus } from '../hooks/useTeamStatus';
import { describeHistory, describeHistoryError } from './history-sentence';
import { describeSync } from './sync-sentence';
import './TeamServerScreen.css';

interface Props {
  readonly connection: Connection;
  readonly state: SessionState;
  readonly onBack: () => void;
}

export function TeamServerScreen({ connection, state, onBack }: Props) {
  const { api, transport } = connection;
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirmMove, setConfirmMove] = useState(false);
  const [busy, setBusy] = useState(false);
  const call = useCall();
  const fail = useCallback((message: string) => setError(message), []);
  const { status, setStatus, reload } = useTeamStatus(api, fail);
  const heading = useRef<HTMLHeadingElement>(null);
  const owner = state.user?.role === 'owner';

  useEffect(() => heading.current?.focus(), []);

  async function act(work: () => Promise<TeamStatus | undefined>, said?: string) {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const next = await work();
      if (next) {
        setStatus(next);
        if (said) setNotice(said);
      } else {
        await reload();
      }
    } finally {
      setBusy(false);
    }
  }

  const signedIn = (next: TeamStatus) => {
    setStatus(next);
    // Live sync from the start: others' changes come in while the app is open.
    void act(() => call(api.team.live({ on: true }), fail), `Signed in to ${next.connected?.server ?? 'the server'}; live sync is on.`);
  };

  const connected = status?.connected;
  return (
    <main className="page" aria-labelledby="team-title">
      <div className="row wrap">
        <h2 id="team-title" ref={heading} tabIndex={-1}>Team server</h2>
        <button type="button" onClick={onBack}>Back to the vault</button>
      </div>
      {notice && <p role="status" className="muted">{notice}</p>}
      {error && <p role="alert" className="error">{error}</p>}
      {!status ? <p aria-busy="true">Reading the team server&apos;s status…</p> : !connected || status.signIn || status.certificate ? (
        <TeamServerSignIn api={api} transport={transport} status={status} onStatus={setStatus} onSignedIn={signedIn} />
      ) : (
        <>
          <dl className="team-facts">
            <dt>Server</dt><dd>{connected.server}</dd>
            <dt>Signed in as</dt><dd>{connected.user}</dd>
            <dt>This device</dt><dd className="mono">{connected.deviceId}</dd>
            <dt>Since</dt><dd>{new Date(connected.signedInAt).toLocaleString()}</dd>
          </dl>
          <section className="page-section" aria-labelledby="team-sync">
            <h3 id="team-sync">Sync</h3>
            <div className="row wrap">
              <button type="button" disabled={busy || status.progress !== null} onClick={() => void act(() => call(api.team.sync({}), fail))}>Sync now</button>
              <label className="inline">
                <input type="checkbox" checked={status.live} onChange={(e) => { const on = e.target.checked; void act(() => call(api.team.live({ on }), fail)); }} /> Live sync: as soon as others change something
              </label>
            </div>
            {status.progress && (
              <div role="status" aria-live="polite">
                <label>
                  {status.progress.moving ? 'Moving the vault' : 'Syncing'}: {status.progress.sent} of {status.progress.total} records sent{status.progress.taken > 0 ? `, ${status.progress.taken} taken in` : ''}
                  <progress max={Math.max(1, status.progress.total)} value={status.progress.sent} />
                </label>
              </div>
            )}
            <p aria-label="Last sync" aria-live="polite">{status.lastSync ? describeSync(status.lastSync) : 'Not synced yet from this app.'}</p>
            {status.lastSync?.ok === true && (status.lastSync.told?.length ?? 0) > 0 && (
              // What else the round told, one line each as `crewvault sync` prints it (people crossed, entries gone from reach…).
              <ul aria-label="Also told by that round" aria-live="polite">
                {status.lastSync.told?.map((line) => <li key={line}>{line}</li>)}
              </ul>
            )}
            {status.history && (
              <div role="status" aria-label="Audit history">
                <label>
                  {describeHistory(status.history)}
                  {status.history.total !== null && status.history.taken !== null && <progress max={Math.max(1, status.history.total)} value={status.history.taken} />}
                </label>
                {status.history.error && <p className="error small">{describeHistoryError(status.history, Date.now())}</p>}
              </div>
            )}
          </section>
          {owner && (
            <section className="page-section" aria-labelledby="team-move">
              <h3 id="team-move">Make this a team vault</h3>
              <p className="muted">Sends the whole vault, sealed, to the server once, so other desktops can sync it. The server cannot open any of it.</p>
              <div className="row"><button type="button" disabled={busy || status.progress !== null} onClick={() => setConfirmMove(true)}>Move this vault to the team server…</button></div>
            </section>
          )}
          <TeamAdmin connection={connection} />
          <div className="row"><button type="button" className="danger" disabled={busy} onClick={() => void act(() => call(api.team.signOut({}), fail), 'Signed out of the team server.')}>Sign out of the server</button></div>
        </>
      )}
      {confirmMove && connected && (
        <ConfirmDialog title="Move this vault to the team server?" confirmLabel="Move the vault" onCancel={() => setConfirmMove(false)}
          onConfirm={() => { setConfirmMove(false); void act(() => call(api.team.move({ confirm: true }), fail)); }}>
          <p>Every entry, customer, key and audit event of this vault is sent to {connected.server}, sealed as it is stored here. Other desktops signed in there then sync it. A large vault takes a while; progress shows here.</p>
        </ConfirmDialog>
      )}
    </main>
  );
}
