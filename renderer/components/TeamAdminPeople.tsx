/**
 * Server administration, "People and MFA": who on the team server has which second steps
 * (authenticator, e-mail, SMS, recovery codes left, trusted devices) and who may reset others'
 * (mfa_reset), as teamAdmin.mfaList says; Reset MFA (confirmed in a dialog naming the person,
 * then the admin's fresh code when the server asks), Grant/Take back mfa_reset (owners), and
 * Mark external/internal. Whom the list holds and who may act are the server's to say: a refusal
 * is shown as it worded it.
 * Must never: hold a code beyond its field (TeamAdminProof.tsx).
 */
import { useCallback, useEffect, useState } from 'react';
import type { MfaUserView, ServerRole } from '../../shared/api/server-contract';
import type { CrewvaultApi } from '../../shared/api/client';
import { useCall } from '../hooks/useCall';
import { ConfirmDialog } from './ConfirmDialog';
import type { Proven } from './TeamAdminProof';

interface Props {
  readonly api: CrewvaultApi;
  readonly role: ServerRole;
  readonly me: string;
  readonly proven: Proven;
  readonly say: (line: string) => void;
  readonly fail: (line: string) => void;
}

function methods(user: MfaUserView): string {
  const steps = [user.authenticator ? 'Authenticator' : '', user.email ? 'E-mail' : '', user.sms ? 'SMS' : ''].filter((s) => s !== '');
  return steps.length === 0 ? 'None' : steps.join(', ');
}

export function TeamAdminPeople({ api, role, me, proven, say, fail }: Props) {
  const call = useCall();
  const [users, setUsers] = useState<MfaUserView[] | null>(null);
  const [resetting, setResetting] = useState<MfaUserView | null>(null);

  const load = useCallback(async () => {
    const listed = await call(api.teamAdmin.mfaList({}), fail);
    if (listed) setUsers(listed.users);
  }, [api, call, fail]);
  useEffect(() => void load(), [load]);

  async function reset(user: MfaUserView) {
    setResetting(null);
    await proven(`reset ${user.username}'s two-step sign-in`, (code) => api.teamAdmin.mfaReset({ userId: user.userId, ...(code === undefined ? {} : { code }) }), (done) => {
      say(`Reset ${user.username}'s two-step sign-in: ${done.authenticator ? 'authenticator removed' : 'no authenticator was set'}, ${done.trustedDevices} trusted device(s) forgotten, ${done.endedSessions} session(s) ended.`);
      void load();
    });
  }

  async function grant(user: MfaUserView, granted: boolean) {
    await proven(`${granted ? 'let' : 'stop'} ${user.username} ${granted ? '' : 'from '}resetting others' two-step sign-in`,
      (code) => api.teamAdmin.grant({ userId: user.userId, granted, ...(code === undefined ? {} : { code }) }), (done) => {
        say(`${user.username} ${done.granted ? 'may' : 'may not'} reset others' two-step sign-in${done.changed ? '' : ' (already so)'}.`);
        void load();
      });
  }

  async function external(user: MfaUserView, mark: boolean) {
    await proven(`mark ${user.username} ${mark ? 'external' : 'internal'}`,
      (code) => api.teamAdmin.external({ userId: user.userId, external: mark, ...(code === undefined ? {} : { code }) }), (done) => {
        say(`${user.username} is now ${done.external ? 'external' : 'internal'}.`);
        void load();
      });
  }

  if (!users) return <p aria-busy="true">Asking the server who has which second steps…</p>;
  return (
    <>
      <table className="table">
        <caption className="sr-only">People on the team server and their two-step sign-in</caption>
        <thead>
          <tr>
            <th scope="col">Person</th><th scope="col">Role</th><th scope="col">Policy</th><th scope="col">Second steps</th>
            <th scope="col">Recovery codes left</th><th scope="col">Trusted devices</th><th scope="col">May reset MFA</th>
            <th scope="col"><span className="sr-only">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <tr key={user.userId}>
              <th scope="row">{user.username}{user.external ? ' (external)' : ''}</th>
              <td>{user.role}</td>
              <td>{user.policy}</td>
              <td>{methods(user)}</td>
              <td>{user.recoveryCodesLeft}</td>
              <td>{user.trustedDevices}</td>
              <td>{user.mfaReset ? 'Yes' : 'No'}</td>
              <td>
                {user.username !== me && (
                  <div className="row wrap">
                    <button type="button" className="danger" onClick={() => setResetting(user)}>Reset MFA<span className="sr-only"> of {user.username}</span></button>
                    {role === 'owner' && user.role === 'admin' && (
                      <button type="button" onClick={() => void grant(user, !user.mfaReset)}>
                        {user.mfaReset ? 'Take back mfa_reset' : 'Grant mfa_reset'}<span className="sr-only"> for {user.username}</span>
                      </button>
                    )}
                    <button type="button" onClick={() => void external(user, !user.external)}>
                      {user.external ? 'Mark internal' : 'Mark external'}<span className="sr-only">: {user.username}</span>
                    </button>
                  </div>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {resetting && (
        <ConfirmDialog title={`Reset ${resetting.username}'s two-step sign-in?`} confirmLabel={`Reset ${resetting.username}'s MFA`} onCancel={() => setResetting(null)} onConfirm={() => void reset(resetting)}>
          <p>
            {resetting.username}&apos;s authenticator, recovery codes and trusted devices go, and every session of theirs ends. They set a second step up again at
            their next sign-in where the policy asks for one. The server may ask you for a code from your own authenticator first.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
