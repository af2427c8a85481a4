/**
 * What a team lead does with the rows they marked in the list: move them all to one access
 * group (each entry re-sealed under that group's key by the main process, one call each), or
 * clear the marks. Says how many moved and, if one is refused, which one and why; the entries
 * moved before it stay moved.
 */
import { useState } from 'react';
import type { EntrySummary, GroupSummary } from '../../shared/model';
import type { Connection } from '../client';
import { useCall } from '../hooks/useCall';

interface Props {
  readonly connection: Connection;
  readonly groups: readonly GroupSummary[];
  /** The marked entries, in list order. */
  readonly entries: readonly EntrySummary[];
  readonly onDone: (line: string) => void;
  readonly onClear: () => void;
}

export function MoveBar({ connection, groups, entries, onDone, onClear }: Props) {
  const [target, setTarget] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const call = useCall();

  /**
   * The revision of the row as the list showed it. A list row carries none (its columns have
   * no revision): the entry is read, and if it is not what the row showed (another group, or
   * written since: updatedAt), the move is refused here — the lead decided on what they saw,
   * and a move from a stale row could undo someone's move into a restricted group.
   */
  async function revisionShown(entry: EntrySummary, refuse: (message: string) => void): Promise<number | undefined> {
    if (entry.revision !== undefined) return entry.revision;
    const now = await call(connection.api.entries.get({ id: entry.id }), refuse);
    if (now === undefined) return undefined;
    if (now.groupId !== entry.groupId || now.updatedAt !== entry.updatedAt) {
      refuse('it was changed since the list showed it; look at it again.');
      return undefined;
    }
    return now.revision;
  }

  async function move() {
    const group = groups.find((g) => String(g.id) === target);
    if (!group) return;
    setBusy(true);
    setError(null);
    let moved = 0;
    for (const entry of entries) {
      if (entry.groupId === group.id) continue;
      let refused = '';
      const base = await revisionShown(entry, (message) => { refused = message; });
      const done = base === undefined ? undefined : await call(connection.api.entries.move({ id: entry.id, groupId: group.id, baseRevision: base }), (message) => { refused = message; });
      if (!done) {
        setBusy(false);
        setError(`Moved ${moved} of ${entries.length}; ${entry.title} (${entry.customer}) was not moved: ${refused}`);
        return;
      }
      moved++;
    }
    setBusy(false);
    onDone(`Moved ${moved} ${moved === 1 ? 'entry' : 'entries'} to ${group.name}.`);
  }

  return (
    <div className="move-bar" role="group" aria-label="Marked entries" aria-busy={busy}>
      <span>{entries.length} marked</span>
      <label className="inline">
        Move to
        <select value={target} onChange={(e) => setTarget(e.target.value)}>
          <option value="">Choose a group…</option>
          {groups.map((g) => <option key={g.id} value={String(g.id)}>{g.name}</option>)}
        </select>
      </label>
      <button type="button" onClick={() => void move()} disabled={busy || target === ''}>Move</button>
      <button type="button" onClick={onClear} disabled={busy}>Clear marks</button>
      {error && <p role="alert" className="error small">{error}</p>}
    </div>
  );
}
