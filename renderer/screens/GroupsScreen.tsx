/**
 * Access groups for team leads (the groups they lead) and admins (all): members and leads,
 * adding a member (picked from the people who could join, never a typed name), making one a
 * lead or no longer one, renaming the group, removing a member — which gives the group a new
 * key, so it asks first — and deleting an empty group, after a confirmation naming it (one that
 * holds entries says to move them first). The vault refuses what the rules forbid (the last
 * lead stepping down or removed, the default or last group deleted); the screen only says so.
 * Owners and admins also set a group to "server computes codes" (#15), after a confirmation that
 * says what the team server can then see; turning it off needs none. A team lead, who may not,
 * is shown only where the group stands ("Codes computed by the server: on"), never the switch.
 * Every change sends the revision of the group or membership as the screen showed it (#13): when
 * someone else changed it since, the vault refuses (CONFLICT) and the screen says so and loads
 * the group again, so the change is redone on what it is now, never written over theirs.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { ErrorInfo } from '../../shared/errors';
import type { GroupSummary, MemberView, UserView } from '../../shared/model';
import type { Role } from '../../shared/policy';
import { SERVER_CODES_NOTE } from '../../shared/sync/server-codes';
import type { Connection } from '../client';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { useCall } from '../hooks/useCall';

export function GroupsScreen({ connection, me, role }: { connection: Connection; me?: string; role?: Role }) {
  // The vault lets only owners and admins set it (group-server-codes.test.ts); a lead sees where it stands.
  const setsServerCodes = role === 'owner' || role === 'admin';
  const { api } = connection;
  const [groups, setGroups] = useState<GroupSummary[] | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [members, setMembers] = useState<MemberView[] | null>(null);
  const [newGroup, setNewGroup] = useState('');
  const [newMember, setNewMember] = useState('');
  const [candidates, setCandidates] = useState<UserView[]>([]);
  const [renaming, setRenaming] = useState<string | null>(null);
  const [asLead, setAsLead] = useState(false);
  const [removing, setRemoving] = useState<MemberView | null>(null);
  const [deleting, setDeleting] = useState<GroupSummary | null>(null);
  const [rotating, setRotating] = useState<GroupSummary | null>(null);
  const [serverCodesFor, setServerCodesFor] = useState<GroupSummary | null>(null);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const call = useCall();
  const fail = useCallback((text: string) => setMessage({ error: true, text }), []);

  const load = useCallback(async () => {
    const list = await call(api.groups.list({}), fail);
    if (list) setGroups(list);
  }, [api, call, fail]);

  const loadMembers = useCallback(async (id: number) => {
    setMembers(null);
    const [list, could] = await Promise.all([call(api.groups.members({ id }), fail), call(api.groups.candidates({ id }), fail)]);
    if (list) setMembers(list);
    if (could) setCandidates(could);
  }, [api, call, fail]);

  /** A change's error: CONFLICT (someone else changed it since it was shown) reloads what is shown. */
  function changeFailed(text: string, error: ErrorInfo) {
    if (error.code !== 'CONFLICT') {
      fail(text);
      return;
    }
    setMessage({ error: true, text: 'Someone else changed this group since it was shown: it has been loaded again as it is now. Check it, then redo your change.' });
    void load();
    if (selected !== null) void loadMembers(selected);
  }

  useEffect(() => void load(), [load]);
  useEffect(() => {
    if (selected !== null) void loadMembers(selected);
  }, [selected, loadMembers]);

  async function createGroup(event: FormEvent) {
    event.preventDefault();
    const created = await call(api.groups.create({ name: newGroup }), fail);
    if (!created) return;
    setNewGroup('');
    setMessage({ error: false, text: `Created ${created.name}; you lead it.` });
    await load();
    setSelected(created.id);
  }

  async function grant(event: FormEvent) {
    event.preventDefault();
    if (selected === null) return;
    const shown = groups?.find((g) => g.id === selected);
    if (!shown) return;
    const member = await call(api.groups.grant({ id: selected, username: newMember, lead: asLead, baseRevision: shown.revision }), changeFailed);
    if (!member) return;
    setNewMember('');
    setAsLead(false);
    setMessage({ error: false, text: `${member.name} can now see this group's entries.` });
    await Promise.all([load(), loadMembers(selected)]);
  }

  async function setLead(member: MemberView, lead: boolean) {
    if (selected === null) return;
    if (!(await call(api.groups.setLead({ id: selected, username: member.name, lead, baseRevision: member.revision }), changeFailed))) return;
    if (!lead && member.name === me) {
      // No longer a lead, this person manages the group no more: its members are not theirs to see.
      setSelected(null);
      setMessage({ error: false, text: `You no longer lead ${groups?.find((g) => g.id === selected)?.name ?? 'this group'}.` });
      await load();
      return;
    }
    setMessage({ error: false, text: lead ? `${member.name} now leads this group.` : `${member.name} no longer leads this group.` });
    await loadMembers(selected);
  }

  async function rename(event: FormEvent) {
    event.preventDefault();
    if (selected === null || renaming === null) return;
    const shown = groups?.find((g) => g.id === selected);
    if (!shown) return;
    const renamed = await call(api.groups.rename({ id: selected, name: renaming, baseRevision: shown.revision }), changeFailed);
    if (!renamed) return;
    setRenaming(null);
    setMessage({ error: false, text: `Renamed to ${renamed.name}.` });
    await load();
  }

  async function revoke(member: MemberView) {
    setRemoving(null);
    if (selected === null) return;
    if (!(await call(api.groups.revoke({ id: selected, username: member.name, baseRevision: member.revision }), changeFailed))) return;
    setMessage({ error: false, text: `${member.name} was removed; the group has a new key.` });
    await Promise.all([load(), loadMembers(selected)]);
  }

  /** A new key for the group, nobody removed (a key change a sync says is owed: a removal whose key change never came). */
  async function rotateKey(target: GroupSummary) {
    setRotating(null);
    if (!(await call(api.groups.rotateKey({ id: target.id }), changeFailed))) return;
    setMessage({ error: false, text: `${target.name} has a new key; its entries are sealed under it.` });
    await load();
  }

  async function deleteGroup(doomed: GroupSummary) {
    setDeleting(null);
    const done = await call(api.groups.delete({ id: doomed.id, baseRevision: doomed.revision }), changeFailed);
    if (!done) return;
    setSelected(null);
    setMembers(null);
    setMessage({ error: false, text: `Deleted ${done.deleted}.` });
    await load();
  }

  async function setServerCodes(target: GroupSummary, on: boolean) {
    setServerCodesFor(null);
    const set = await call(api.groups.setServerCodes({ id: target.id, on, baseRevision: target.revision }), changeFailed);
    if (!set) return;
    setMessage({ error: false, text: on ? `The team server now computes the codes of ${set.name}; its codes-only members no longer hold its keys.` : `${set.name} is end-to-end encrypted again.` });
    await load();
    await loadMembers(target.id);
  }

  const group = groups?.find((g) => g.id === selected);
  return (
    <div className="panes two">
      <nav className="sidebar" aria-label="Access groups">
        {groups?.map((g) => (
          <button type="button" key={g.id} className={g.id === selected ? 'current' : ''} aria-current={g.id === selected} onClick={() => setSelected(g.id)}>
            {g.name} <span className="count">{g.members} · {g.entries}</span>
          </button>
        ))}
        <form onSubmit={(e) => void createGroup(e)} className="stack">
          <label>
            New group
            <input value={newGroup} onChange={(e) => setNewGroup(e.target.value)} required maxLength={100} />
          </label>
          <button type="submit">Create group</button>
        </form>
      </nav>
      <main className="page">
        {message && <p role={message.error ? 'alert' : 'status'} className={message.error ? 'error' : 'muted'}>{message.text}</p>}
        {!group ? (
          <p className="empty">Choose a group to see its members.</p>
        ) : (
          <>
            {renaming === null ? (
              <div className="row wrap">
                <h2>{group.name}</h2>
                <button type="button" onClick={() => setRenaming(group.name)}>Rename</button>
                <button type="button" onClick={() => setRotating(group)}>Change key</button>
                <button type="button" className="danger" onClick={() => setDeleting(group)} disabled={group.entries > 0} aria-describedby={group.entries > 0 ? 'delete-group-hint' : undefined}>Delete group</button>
                {group.entries > 0 && <span id="delete-group-hint" className="muted small">To delete it, move its {group.entries === 1 ? 'entry' : `${group.entries} entries`} to another group first.</span>}
              </div>
            ) : (
              <form onSubmit={(e) => void rename(e)} className="row wrap">
                <label>
                  Group name
                  <input value={renaming} onChange={(e) => setRenaming(e.target.value)} required maxLength={100} autoFocus />
                </label>
                <button type="submit">Save name</button>
                <button type="button" onClick={() => setRenaming(null)}>Cancel</button>
              </form>
            )}
            <p className="muted">{group.entries} entries · {group.members} members</p>
            {members === null ? <p aria-busy="true">Loading members…</p> : (
              <table className="table">
                <caption className="sr-only">Members of {group.name}</caption>
                <thead><tr><th scope="col">Member</th><th scope="col">Role</th><th scope="col">Lead</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
                <tbody>
                  {members.map((m) => (
                    <tr key={m.id}>
                      <td>{m.name}</td>
                      <td><span className="badge">{m.role.replace('_', ' ')}</span></td>
                      <td>{m.lead ? 'Lead' : ''}</td>
                      <td className="row">
                        {m.lead
                          ? <button type="button" onClick={() => void setLead(m, false)} aria-label={`Demote ${m.name}`}>Demote</button>
                          : <button type="button" onClick={() => void setLead(m, true)}>Make <span className="sr-only">{m.name} </span>a lead</button>}
                        {m.role !== 'owner' && m.role !== 'admin' && <button type="button" className="danger" onClick={() => setRemoving(m)} aria-label={`Remove ${m.name}`}>Remove</button>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <form onSubmit={(e) => void grant(e)} className="row wrap">
              <label>
                Add member
                <select value={newMember} onChange={(e) => setNewMember(e.target.value)} required>
                  <option value="">{candidates.length === 0 ? 'Everyone is a member already' : 'Choose a person…'}</option>
                  {candidates.map((u) => <option key={u.id} value={u.name}>{u.name} ({u.role.replace('_', ' ')})</option>)}
                </select>
              </label>
              <label className="inline"><input type="checkbox" checked={asLead} onChange={(e) => setAsLead(e.target.checked)} /> as a lead</label>
              <button type="submit">Add member</button>
            </form>
            <section aria-labelledby="server-codes-heading" className="stack">
              <h3 id="server-codes-heading">Server computes codes</h3>
              {setsServerCodes
                ? (
                  <label className="inline">
                    <input
                      type="checkbox" checked={group.serverCodes} aria-describedby="server-codes-note"
                      onChange={(e) => { if (e.target.checked) setServerCodesFor(group); else void setServerCodes(group, false); }}
                    />
                    {' '}The team server computes this group's TOTP codes (owners and admins)
                  </label>
                )
                : <p>Codes computed by the server: {group.serverCodes ? 'on' : 'off'} (owners and admins set this)</p>}
              <p id="server-codes-note" className="muted small">{SERVER_CODES_NOTE}</p>
            </section>
          </>
        )}
      </main>
      {deleting && (
        <ConfirmDialog title={`Delete the group ${deleting.name}?`} confirmLabel="Delete group" onCancel={() => setDeleting(null)} onConfirm={() => void deleteGroup(deleting)}>
          <p>{deleting.name} holds no entries. Its {deleting.members === 1 ? 'member loses' : `${deleting.members} members lose`} access to it, and its keys and name are wiped; this cannot be undone.</p>
        </ConfirmDialog>
      )}
      {serverCodesFor && (
        <ConfirmDialog title={`Let the team server compute the codes of ${serverCodesFor.name}?`} confirmLabel="Hand the server its TOTP keys" onCancel={() => setServerCodesFor(null)} onConfirm={() => void setServerCodes(serverCodesFor, true)}>
          <p>{SERVER_CODES_NOTE}</p>
          <p>The group gets a new key now; its TOTP keys are handed to the server at the next sync.</p>
        </ConfirmDialog>
      )}
      {rotating && (
        <ConfirmDialog title={`Change the key of ${rotating.name}?`} confirmLabel="Change key" onCancel={() => setRotating(null)} onConfirm={() => void rotateKey(rotating)}>
          <p>Nobody is removed. {rotating.name} gets a new key, its {rotating.entries === 1 ? 'entry is' : `${rotating.entries} entries are`} sealed again under it, and each of its members is given it.</p>
          <p>Do this when a sync says the key is owed a change: someone was removed, and what is written here stays under the key they held until then.</p>
        </ConfirmDialog>
      )}
      {removing && (
        <ConfirmDialog title={`Remove ${removing.name} from ${group?.name ?? 'the group'}?`} confirmLabel="Remove and rotate key" onCancel={() => setRemoving(null)} onConfirm={() => void revoke(removing)}>
          <p>{removing.name} will no longer see this group's entries. The group gets a new key and every entry is re-sealed.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
