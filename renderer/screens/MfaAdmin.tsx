/**
 * The Users screen's "Two-step sign-in" tab, for owners and admins: who has an authenticator,
 * when each last signed in and how many computers they trust; resetting someone's second
 * factor, issuing them an emergency code, and forgetting their trusted computers; then the
 * policy and the "Trust this computer" setting. One's own second factor is managed in the
 * Two-step sign-in panel, not here.
 */
import { useCallback, useEffect, useState } from 'react';
import type { RoleView, UserAdminView } from '../../shared/model';
import type { Connection } from '../client';
import { EmergencyCodeDialog, ResetMfaDialog } from '../components/MfaAdminDialogs';
import { MfaPolicyForm } from '../components/MfaPolicyForm';
import { Modal } from '../components/Modal';
import { TrustedDevices } from '../components/TrustedDevices';
import { formatDateTime } from '../dates';
import { useCall } from '../hooks/useCall';

type Open =
  | { kind: 'reset'; user: UserAdminView }
  | { kind: 'emergency'; user: UserAdminView; code: string; expiresAt: number; expiresInSeconds: number }
  | { kind: 'devices'; user: UserAdminView };

interface Props {
  readonly connection: Connection;
  readonly me: string;
  readonly roles: readonly RoleView[];
}

export function MfaAdmin({ connection, me, roles }: Props) {
  const { api } = connection;
  const [users, setUsers] = useState<UserAdminView[] | null>(null);
  const [open, setOpen] = useState<Open | null>(null);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const call = useCall();
  const fail = useCallback((text: string) => setMessage({ error: true, text }), []);

  const load = useCallback(async () => {
    const list = await call(api.users.list({}), fail);
    if (list) setUsers(list);
  }, [api, call, fail]);
  useEffect(() => void load(), [load]);

  async function issueEmergencyCode(user: UserAdminView) {
    const issued = await call(api.mfa.emergency({ username: user.name }), fail);
    if (!issued) return;
    const { code, expiresInSeconds } = issued;
    setOpen({ kind: 'emergency', user, code, expiresInSeconds, expiresAt: Date.now() + expiresInSeconds * 1000 });
  }

  function close() {
    setOpen(null);
    void load();
  }

  return (
    <>
      {message && <p role={message.error ? 'alert' : 'status'} className={message.error ? 'error' : 'notice'}>{message.text}</p>}
      {users === null ? <p aria-busy="true">Loading users…</p> : (
        <table className="table">
          <caption className="sr-only">Two-step sign-in of each user</caption>
          <thead>
            <tr>
              <th scope="col">User</th><th scope="col">Role</th><th scope="col">Two-step sign-in</th><th scope="col">Last sign-in</th>
              <th scope="col">Trusted computers</th><th scope="col"><span className="sr-only">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}>
                <td>{u.name}{u.disabled && <span className="muted"> (disabled)</span>}</td>
                <td>{u.role.replace('_', ' ')}</td>
                <td>{u.mfa ? 'On' : 'Off'}</td>
                <td>{u.lastSignInAt === null ? 'Never' : <time dateTime={new Date(u.lastSignInAt).toISOString()}>{formatDateTime(u.lastSignInAt)}</time>}</td>
                <td>{u.trustedDevices}</td>
                <td>
                  <div className="row wrap">
                    {u.trustedDevices > 0 && <button type="button" onClick={() => setOpen({ kind: 'devices', user: u })}>Trusted computers</button>}
                    {u.mfa && !u.disabled && u.name !== me && <button type="button" onClick={() => void issueEmergencyCode(u)}>Issue emergency code</button>}
                    {u.mfa && !u.disabled && u.name !== me && <button type="button" className="danger" onClick={() => setOpen({ kind: 'reset', user: u })}>Reset two-step sign-in</button>}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="muted small">Your own authenticator, recovery codes and trusted computers are in the Two-step sign-in panel at the top.</p>
      <MfaPolicyForm api={api} roles={roles} myRole={users?.find((u) => u.name === me)?.role ?? ''} onMessage={setMessage} />
      {open?.kind === 'reset' && (
        <ResetMfaDialog
          api={api}
          username={open.user.name}
          onCancel={() => setOpen(null)}
          onDone={(text) => {
            setMessage({ error: false, text });
            close();
          }}
        />
      )}
      {open?.kind === 'emergency' && (
        <EmergencyCodeDialog connection={connection} username={open.user.name} code={open.code} expiresAt={open.expiresAt} expiresInSeconds={open.expiresInSeconds} onClose={close} />
      )}
      {open?.kind === 'devices' && (
        <Modal label={`Trusted computers of ${open.user.name}`} onClose={close}>
          <h2>Trusted computers of {open.user.name}</h2>
          <TrustedDevices api={api} {...(open.user.name === me ? {} : { username: open.user.name })} onChanged={() => void load()} />
          <div className="dialog-actions"><button type="button" onClick={close}>Close</button></div>
        </Modal>
      )}
    </>
  );
}
