/** Users for owners and admins: add with a one-time password, change a role, disable, reset a password. */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { UserAdminView } from '../../shared/model';
import { ROLES, type Role } from '../../shared/policy';
import type { Connection } from '../App';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { generatePassword } from '../password';

type Pending = { kind: 'disable'; user: UserAdminView } | { kind: 'reset'; user: UserAdminView; password: string };

export function UsersScreen({ connection, me }: { connection: Connection; me: string }) {
  const { api } = connection;
  const [users, setUsers] = useState<UserAdminView[] | null>(null);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('technician');
  const [pending, setPending] = useState<Pending | null>(null);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);

  const load = useCallback(async () => {
    const reply = await api.users.list({});
    if (reply.ok) setUsers(reply.value);
    else setMessage({ error: true, text: reply.error.message });
  }, [api]);
  useEffect(() => void load(), [load]);

  async function add(event: FormEvent) {
    event.preventDefault();
    const password = generatePassword(16);
    const reply = await api.users.create({ username: name, role, password });
    if (!reply.ok) return setMessage({ error: true, text: reply.error.message });
    setName('');
    setMessage({ error: false, text: `Added ${reply.value.name}. One-time password, shown once — hand it over in person: ${password}` });
    await load();
  }

  async function setUserRole(user: UserAdminView, newRole: Role) {
    const reply = await api.users.setRole({ username: user.name, role: newRole });
    setMessage(reply.ok ? { error: false, text: `${user.name} is now ${newRole.replace('_', ' ')}.` } : { error: true, text: reply.error.message });
    await load();
  }

  async function confirm(p: Pending) {
    setPending(null);
    const reply = p.kind === 'disable' ? await api.users.disable({ username: p.user.name }) : await api.users.resetPassword({ username: p.user.name, password: p.password });
    if (!reply.ok) return setMessage({ error: true, text: reply.error.message });
    setMessage({ error: false, text: p.kind === 'disable' ? `${p.user.name} is disabled; the groups they held have new keys.` : `${p.user.name}'s one-time password, shown once: ${p.password}` });
    await load();
  }

  return (
    <main className="page">
      <h2>Users</h2>
      {message && <p role={message.error ? 'alert' : 'status'} className={message.error ? 'error' : 'notice'}>{message.text}</p>}
      {users === null ? <p aria-busy="true">Loading users…</p> : (
        <table className="table">
          <caption className="sr-only">Users of this vault</caption>
          <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}>
                <td>{u.name}</td>
                <td>
                  <select aria-label={`Role of ${u.name}`} value={u.role} disabled={u.disabled} onChange={(e) => void setUserRole(u, e.target.value)}>
                    {ROLES.map((r) => <option key={r} value={r}>{r.replace('_', ' ')}</option>)}
                  </select>
                </td>
                <td>{u.disabled ? 'Disabled' : 'Active'}</td>
                <td className="row">
                  {!u.disabled && u.name !== me && <button type="button" onClick={() => setPending({ kind: 'reset', user: u, password: generatePassword(16) })}>Reset password</button>}
                  {!u.disabled && u.name !== me && <button type="button" className="danger" onClick={() => setPending({ kind: 'disable', user: u })}>Disable</button>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form onSubmit={(e) => void add(e)} className="row wrap">
        <label>
          New user name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={64} />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value)}>
            {ROLES.map((r) => <option key={r} value={r}>{r.replace('_', ' ')}</option>)}
          </select>
        </label>
        <button type="submit">Add user</button>
      </form>
      {pending && (
        <ConfirmDialog
          title={pending.kind === 'disable' ? `Disable ${pending.user.name}?` : `Reset ${pending.user.name}'s password?`}
          confirmLabel={pending.kind === 'disable' ? 'Disable user' : 'Reset password'}
          onCancel={() => setPending(null)}
          onConfirm={() => void confirm(pending)}
        >
          <p>{pending.kind === 'disable'
            ? 'Their session ends, their keys are removed and every group they were in gets a new key.'
            : 'They get a new key pair and a one-time password, shown once after you confirm.'}</p>
        </ConfirmDialog>
      )}
    </main>
  );
}
