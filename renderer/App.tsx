/** The app shell: decides which screen a person sees from the session state. */
import { useCallback, useEffect, useState } from 'react';
import type { SessionState } from '../shared/api/contract';
import type { CrewvaultApi } from '../shared/api/client';
import type { Transport } from './client';
import { SignInScreen } from './screens/SignInScreen';
import { VaultScreen } from './screens/VaultScreen';

export interface Connection {
  readonly api: CrewvaultApi;
  readonly transport: Transport;
}

export function App({ connection }: { connection: Connection }) {
  const { api } = connection;
  const [state, setState] = useState<SessionState | null>(null);
  const [error, setError] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    const reply = await api.session.state({});
    if (reply.ok) setState(reply.value);
    else setError(reply.error.message);
  }, [api]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  if (error) return <main className="centered"><p role="alert">{error}</p></main>;
  if (!state) return <main className="centered"><p aria-busy="true">Opening Crewvault…</p></main>;
  if (!state.user) return <SignInScreen api={api} state={state} onSignedIn={setState} />;
  return <VaultScreen connection={connection} state={state} onLocked={setState} />;
}
