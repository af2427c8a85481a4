/**
 * Computers trusted to skip the code step: one's own (the one in use marked "This computer",
 * which cannot be forgotten from here), or — for an admin — another person's. Forgetting only
 * deletes the vault's record; the token left in that computer's keychain then no longer works.
 */
import { useCallback, useEffect, useState } from 'react';
import type { CrewvaultApi } from '../../shared/api/client';
import type { TrustedDeviceView } from '../../shared/api/contract';
import { formatDateTime } from '../dates';
import { useCall } from '../hooks/useCall';

interface Props {
  readonly api: CrewvaultApi;
  /** Another person's computers (users.manage); omitted for one's own. */
  readonly username?: string;
  /** Told after a computer is forgotten, so a count elsewhere can be refreshed. */
  readonly onChanged?: () => void;
}

export function TrustedDevices({ api, username, onChanged }: Props) {
  const [devices, setDevices] = useState<TrustedDeviceView[] | null>(null);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const call = useCall();
  const fail = useCallback((text: string) => setMessage({ error: true, text }), []);

  const load = useCallback(async () => {
    const list = await call(api.mfa.devices(username === undefined ? {} : { username }), fail);
    if (list) setDevices(list.devices);
  }, [api, call, fail, username]);
  useEffect(() => void load(), [load]);

  async function forget(device: TrustedDeviceView) {
    const forgotten = await call(api.mfa.forgetDevice({ id: device.id }), fail);
    if (forgotten) setMessage({ error: false, text: `${device.label} is no longer trusted: it will ask for a code again.` });
    await load();
    if (forgotten) onChanged?.();
  }

  const whose = username === undefined ? 'your' : `${username}'s`;
  return (
    <div className="trusted-devices">
      {devices === null ? <p aria-busy="true">Loading trusted computers…</p> : devices.length === 0 ? (
        <p className="muted">No computers are trusted: {username === undefined ? 'every sign-in asks for a code.' : `every sign-in asks ${username} for a code.`}</p>
      ) : (
        <table className="table">
          <caption className="sr-only">Trusted computers ({whose})</caption>
          <thead><tr><th scope="col">Computer</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {devices.map((d) => (
              <tr key={d.id}>
                <td>{d.label} {d.current && <span className="badge as-written">This computer</span>}</td>
                <td>{formatDateTime(d.lastUsedAt)}</td>
                <td>{formatDateTime(d.expiresAt)}</td>
                <td>{!d.current && <button type="button" className="danger" onClick={() => void forget(d)}>Forget</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {message && <p role={message.error ? 'alert' : 'status'} className={message.error ? 'error' : 'muted'}>{message.text}</p>}
    </div>
  );
}
