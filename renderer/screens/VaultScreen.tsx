/** The vault: search, the entries a person can see, live codes with a copy button, and Lock. */
import { useCallback, useEffect, useState } from 'react';
import type { SessionState } from '../../shared/api/contract';
import type { EntrySummary } from '../../shared/model';
import type { Connection } from '../App';
import { OtpCode } from '../components/OtpCode';

interface Props {
  readonly connection: Connection;
  readonly state: SessionState;
  readonly onLocked: (state: SessionState) => void;
}

export function VaultScreen({ connection, state, onLocked }: Props) {
  const { api } = connection;
  const [search, setSearch] = useState('');
  const [entries, setEntries] = useState<EntrySummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    const reply = await api.entries.list(search ? { search } : {});
    if (reply.ok) setEntries(reply.value);
    else if (reply.error.code === 'LOCKED') onLocked({ ...state, user: null, permissions: [] });
    else setError(reply.error.message);
  }, [api, search, state, onLocked]);

  useEffect(() => {
    void load();
  }, [load]);

  async function lock() {
    const reply = await api.session.lock({});
    if (reply.ok) onLocked(reply.value);
  }

  return (
    <div className="vault">
      <header className="topbar">
        <strong>Crewvault</strong>
        <input aria-label="Search" type="search" placeholder="Search customers, titles, usernames, URLs" value={search} onChange={(e) => setSearch(e.target.value)} />
        <span className="muted">{state.user?.name}</span>
        <button type="button" onClick={() => void lock()}>Lock</button>
      </header>
      {error && <p role="alert" className="error">{error}</p>}
      {entries === null ? (
        <p aria-busy="true">Loading entries…</p>
      ) : entries.length === 0 ? (
        <p className="empty">{search ? 'No entries match.' : 'No entries yet.'}</p>
      ) : (
        <ul className="entries" aria-label="Entries">
          {entries.map((entry) => (
            <li key={entry.id} className="entry">
              <div>
                <div className="entry-title">{entry.title}</div>
                <div className="muted">{entry.customer}{entry.username ? ` · ${entry.username}` : ''}</div>
              </div>
              {entry.otp && <OtpCode connection={connection} entryId={entry.id} kind={entry.otp.kind} />}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
