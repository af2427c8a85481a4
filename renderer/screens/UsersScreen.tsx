/**
 * Users for owners and admins, in two tabs: "Users and roles" (add with a one-time password,
 * change a role, disable, reset a password, define a role) and "Two-step sign-in" (MfaAdmin).
 * A role change is confirmed first, saying in words what the person gains and loses.
 * Every change sends the revision of the user or role as the screen showed it (#13): when someone
 * else changed it since, the vault refuses (CONFLICT) and the screen says so and loads it again.
 */
import { useCallback, useEffect, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { ErrorInfo } from '../../shared/errors';
import type { RoleView, UserAdminView } from '../../shared/model';
import { keyHoldingNote, PERMISSIONS, type Permission, type Role } from '../../shared/policy';
import type { Connection } from '../client';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { useCall } from '../hooks/useCall';
import { useCopy } from '../hooks/useCopy';
import { generatePassword } from '../password';
import { inWords, permissionChange } from '../permission-words';
import { MfaAdmin } from './MfaAdmin';

type Pending =
  | { kind: 'disable'; user: UserAdminView }
  | { kind: 'reset'; user: UserAdminView; password: string }
  | { kind: 'role'; user: UserAdminView; role: Role };

type Tab = 'people' | 'mfa';
const TABS: ReadonlyArray<{ tab: Tab; label: string }> = [
  { tab: 'people', label: 'Users and roles' },
  { tab: 'mfa', label: 'Two-step sign-in' },
];

export function UsersScreen({ connection, me }: { connection: Connection; me: string }) {
  const [tab, setTab] = useState<Tab>('people');
  const [roles, setRoles] = useState<RoleView[]>([]);

  const call = useCall();
  // A failed load leaves the role list as it was; LOCKED and PASSWORD_CHANGE_REQUIRED go to the app.
  const loadRoles = useCallback(async () => {
    const listed = await call(connection.api.roles.list({}), () => undefined);
    if (listed) setRoles(listed);
  }, [connection, call]);
  useEffect(() => void loadRoles(), [loadRoles]);

  // The WAI-ARIA tabs pattern: one tab stop, arrows move between tabs.
  function onTabKey(event: KeyboardEvent<HTMLButtonElement>) {
    if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
    event.preventDefault();
    const index = TABS.findIndex((t) => t.tab === tab);
    const next = TABS[(index + (event.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length];
    if (!next) return;
    setTab(next.tab);
    document.getElementById(`users-tab-${next.tab}`)?.focus();
  }

  return (
    <main className="page">
      <h2>Users</h2>
      <div role="tablist" aria-label="Users screen" className="row tabs">
        {TABS.map((t) => (
          <button
            key={t.tab}
            type="button"
            role="tab"
            id={`users-tab-${t.tab}`}
            aria-selected={t.tab === tab}
            aria-controls={t.tab === tab ? 'users-tabpanel' : undefined}
            tabIndex={t.tab === tab ? 0 : -1}
            className={t.tab === tab ? 'current' : ''}
            onClick={() => setTab(t.tab)}
            onKeyDown={onTabKey}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="users-tabpanel" aria-labelledby={`users-tab-${tab}`} className="page-section">
        {tab === 'people'
          ? <UsersAndRoles connection={connection} me={me} roles={roles} onRolesChanged={() => void loadRoles()} />
          : <MfaAdmin connection={connection} me={me} roles={roles} />}
      </div>
    </main>
  );
}

interface UsersAndRolesProps {
  readonly connection: Connection;
  readonly me: string;
  readonly roles: readonly RoleView[];
  readonly onRolesChanged: () => void;
}

function UsersAndRoles({ connection, me, roles, onRolesChanged }: UsersAndRolesProps) {
  const { api } = connection;
  const [users, setUsers] = useState<UserAdminView[] | null>(null);
  const [roleName, setRoleName] = useState('');
  const [rolePermissions, setRolePermissions] = useState<Permission[]>([]);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('technician');
  const [pending, setPending] = useState<Pending | null>(null);
  // `copy`: a one-time password just made, which the line shows once and Copy puts on the clipboard.
  const [message, setMessage] = useState<{ error: boolean; text: string; copy?: string } | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const call = useCall();
  const copy = useCopy(connection.transport);
  const fail = useCallback((text: string) => setMessage({ error: true, text }), []);

  const load = useCallback(async () => {
    const list = await call(api.users.list({}), fail);
    if (list) setUsers(list);
  }, [api, call, fail]);

  /** A change's error: CONFLICT (someone else changed it since it was shown) reloads users and roles. */
  function changeFailed(text: string, error: ErrorInfo) {
    if (error.code !== 'CONFLICT') {
      fail(text);
      return;
    }
    setMessage({ error: true, text: 'Someone else changed this since it was shown: it has been loaded again as it is now. Check it, then redo your change.' });
    void load();
    onRolesChanged();
  }

  async function defineRole(event: FormEvent) {
    event.preventDefault();
    const shown = roles.find((r) => !r.builtIn && r.name === roleName.trim());
    const defined = await call(api.roles.define({ name: roleName, permissions: rolePermissions, baseRevision: shown?.revision ?? 0 }), changeFailed);
    if (!defined) return;
    setRoleName('');
    setRolePermissions([]);
    setMessage({ error: false, text: `Defined the role ${defined.name}.` });
    onRolesChanged();
  }
  useEffect(() => void load(), [load]);

  async function add(event: FormEvent) {
    event.preventDefault();
    const password = generatePassword(16);
    const added = await call(api.users.create({ username: name, role, password }), fail);
    if (!added) return;
    setName('');
    setCopied(null);
    setMessage({ error: false, text: `Added ${added.name}. One-time password, shown once — hand it over in person: ${password}`, copy: password });
    await load();
  }

  async function setUserRole(user: UserAdminView, newRole: Role) {
    if (await call(api.users.setRole({ username: user.name, role: newRole, baseRevision: user.revision }), changeFailed)) setMessage({ error: false, text: `${user.name} is now ${newRole.replace('_', ' ')}.` });
    await load();
  }

  async function confirm(p: Pending) {
    setPending(null);
    if (p.kind === 'role') return setUserRole(p.user, p.role);
    const done = p.kind === 'disable'
      ? await call(api.users.disable({ username: p.user.name, baseRevision: p.user.revision }), changeFailed)
      : await call(api.users.resetPassword({ username: p.user.name, password: p.password, baseRevision: p.user.revision }), changeFailed);
    if (!done) return;
    setCopied(null);
    setMessage(p.kind === 'disable'
      ? { error: false, text: `${p.user.name} is disabled; the groups they held have new keys.` }
      : { error: false, text: `${p.user.name}'s one-time password, shown once: ${p.password}`, copy: p.password });
    await load();
  }

  return (
    <>
      {message && <p role={message.error ? 'alert' : 'status'} className={message.error ? 'error' : 'notice'}>{message.text}</p>}
      {message?.copy !== undefined && (
        <p className="actions">
          <button type="button" onClick={() => { const text = message.copy; if (text !== undefined) void copy(api.clipboard.copy({ text }), 'One-time password copied', setCopied); }}>Copy<span className="sr-only"> the one-time password</span></button>
          {copied && <span role="status">{copied}</span>}
        </p>
      )}
      {users === null ? <p aria-busy="true">Loading users…</p> : (
        <table className="table">
          <caption className="sr-only">Users of this vault</caption>
          <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}>
                <td>{u.name}</td>
                <td>
                  <select aria-label={`Role of ${u.name}`} value={u.role} disabled={u.disabled} onChange={(e) => setPending({ kind: 'role', user: u, role: e.target.value })}>
                    {roles.map((r) => <option key={r.name} value={r.name}>{r.name.replace('_', ' ')}</option>)}
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
          <select aria-label="New user's role" value={role} onChange={(e) => setRole(e.target.value)}>
            {roles.map((r) => <option key={r.name} value={r.name}>{r.name.replace('_', ' ')}</option>)}
          </select>
        </label>
        <button type="submit">Add user</button>
      </form>
      <h3>Roles</h3>
      <table className="table">
        <caption className="sr-only">Roles and what they allow</caption>
        <thead><tr><th scope="col">Role</th><th scope="col">Permissions</th><th scope="col">Keys</th></tr></thead>
        <tbody>{roles.map((r) => <tr key={r.name}><td>{r.name.replace('_', ' ')}{r.builtIn ? '' : ' (custom)'}</td><td className="small">{inWords(r.permissions)}</td><td className="small">{keyHoldingNote(r.permissions)}</td></tr>)}</tbody>
      </table>
      <form onSubmit={(e) => void defineRole(e)} className="stack">
        <label>
          New role name
          <input value={roleName} onChange={(e) => setRoleName(e.target.value)} required maxLength={64} />
        </label>
        <fieldset className="row wrap">
          <legend>It may</legend>
          {PERMISSIONS.map((p) => (
            <label key={p} className="inline">
              <input type="checkbox" checked={rolePermissions.includes(p)} onChange={(e) => setRolePermissions(e.target.checked ? [...rolePermissions, p] : rolePermissions.filter((x) => x !== p))} /> {p}
            </label>
          ))}
        </fieldset>
        <button type="submit">Define role</button>
      </form>
      {pending?.kind === 'role' && (() => {
        const permissionsOf = (name: Role) => roles.find((r) => r.name === name)?.permissions ?? [];
        const { gains, losses } = permissionChange(permissionsOf(pending.user.role), permissionsOf(pending.role));
        return (
          <ConfirmDialog
            title={`Make ${pending.user.name} ${pending.role.replace('_', ' ')}?`}
            confirmLabel="Change role"
            onCancel={() => setPending(null)}
            onConfirm={() => void confirm(pending)}
          >
            <p>{pending.user.name} is {pending.user.role.replace('_', ' ')} now.</p>
            {gains.length > 0 && <p>They will be able to {inWords(gains)}.</p>}
            {losses.length > 0 && <p>They will no longer {inWords(losses)}.</p>}
          </ConfirmDialog>
        );
      })()}
      {pending && pending.kind !== 'role' && (
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
    </>
  );
}
