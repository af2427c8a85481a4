/**
 * Server administration, "Devices": one person's authorised and trusted devices on the team
 * server (teamAdmin.devices), and forgetting one (confirmed first): its authorisation and trust
 * go and its sessions end. Whose devices an admin may see is the server's to say (never an
 * owner's): a refusal is shown as it worded it.
 * Must never: decide who may be acted on.
 */
import { useCallback, useEffect, useState } from 'react';
import type { DeviceView, MfaUserView } from '../../shared/api/server-contract';
import type { CrewvaultApi } from '../../shared/api/client';
import { useCall } from '../hooks/useCall';
import { ConfirmDialog } from './ConfirmDialog';

interface Props {
  readonly api: CrewvaultApi;
  readonly say: (line: string) => void;
  readonly fail: (line: string) => void;
}

export function TeamAdminDevices({ api, say, fail }: Props) {
  const call = useCall();
  const [people, setPeople] = useState<MfaUserView[] | null>(null);
  const [userId, setUserId] = useState('');
  const [devices, setDevices] = useState<DeviceView[] | null>(null);
  const [forgetting, setForgetting] = useState<DeviceView | null>(null);

  useEffect(() => {
    void call(api.teamAdmin.mfaList({}), fail).then((listed) => {
      if (listed) setPeople(listed.users);
    });
  }, [api, call, fail]);

  const load = useCallback(async (id: string) => {
    setDevices(null);
    if (id === '') return;
    const listed = await call(api.teamAdmin.devices({ userId: id }), fail);
    if (listed) setDevices(listed.devices);
  }, [api, call, fail]);

  const person = people?.find((p) => p.userId === userId);

  async function forget(device: DeviceView) {
    setForgetting(null);
    const done = await call(api.teamAdmin.forgetDevice({ userId, deviceId: device.deviceId }), fail);
    if (!done) return;
    say(done.removed ? `Device forgotten: it is asked for its e-mailed code again, and ${done.endedSessions} session(s) on it ended.` : 'That device was no longer authorised or trusted: nothing changed.');
    await load(userId);
  }

  if (!people) return <p aria-busy="true">Asking the server whom you administer…</p>;
  return (
    <>
      <label>
        Person
        <select value={userId} onChange={(e) => { setUserId(e.target.value); void load(e.target.value); }}>
          <option value="">Choose someone…</option>
          {people.map((p) => <option key={p.userId} value={p.userId}>{p.username} ({p.role})</option>)}
        </select>
      </label>
      {person && devices && (devices.length === 0 ? <p>{person.username} has no authorised or trusted devices.</p> : (
        <table className="table">
          <caption className="sr-only">{person.username}&apos;s devices</caption>
          <thead><tr><th scope="col">Device</th><th scope="col">Authorised</th><th scope="col">Trusted until</th><th scope="col">Sessions</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {devices.map((device) => (
              <tr key={device.deviceId}>
                <th scope="row">{device.name ?? '(no name)'} <span className="muted small mono">{device.deviceId}</span></th>
                <td>{device.authorisedAt === null ? 'Not by e-mail' : new Date(device.authorisedAt).toLocaleString()}</td>
                <td>{device.trustedUntil === null ? 'Not trusted' : new Date(device.trustedUntil).toLocaleString()}</td>
                <td>{device.sessions}</td>
                <td><button type="button" className="danger" onClick={() => setForgetting(device)}>Forget<span className="sr-only"> {device.name ?? device.deviceId}</span></button></td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
      {forgetting && person && (
        <ConfirmDialog title={`Forget ${forgetting.name ?? 'this device'}?`} confirmLabel="Forget the device" onCancel={() => setForgetting(null)} onConfirm={() => void forget(forgetting)}>
          <p>{person.username}&apos;s device {forgetting.name ?? forgetting.deviceId} loses its authorisation and trust, and its {forgetting.sessions} session(s) end. It is asked for an e-mailed code at its next sign-in.</p>
        </ConfirmDialog>
      )}
    </>
  );
}
