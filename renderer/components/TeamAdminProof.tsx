/**
 * Fresh proof for the server administration screens: an act the server answers with MFA_REQUIRED
 * (the admin's own second step is older than it allows) is asked again with a code from the
 * admin's authenticator, typed here, as `crewvault team mfa reset --code -` reads one. The server
 * decides when proof is needed; this only asks when it said so. Any other refusal goes to the
 * screen's one line as the server worded it.
 * Must never: keep the code after the call that carries it, or show it anywhere but its field.
 */
import { useCallback, useState, type FormEvent, type ReactNode } from 'react';
import type { Reply } from '../../shared/api/reply';
import { useCall } from '../hooks/useCall';
import { Modal } from './Modal';

/** `work(code)` makes the call (with the code once the server asked for one); `done` gets its value. */
export type Proven = <T>(what: string, work: (code?: string) => Promise<Reply<T>>, done: (value: T) => void) => Promise<void>;

interface Asked {
  readonly what: string;
  readonly reason: string;
  readonly retry: (code: string) => Promise<'done' | 'wrong' | 'failed'>;
}

export function useFreshProof(onError: (message: string) => void): { readonly proven: Proven; readonly dialog: ReactNode } {
  const call = useCall();
  const [asked, setAsked] = useState<Asked | null>(null);

  const proven: Proven = useCallback(async (what, work, done) => {
    let needsCode: string | null = null;
    const value = await call(work(), (message, error) => {
      if (error.code === 'MFA_REQUIRED') needsCode = message;
      else onError(message);
    });
    if (value !== undefined) {
      done(value);
      return;
    }
    if (needsCode === null) return;
    setAsked({
      what, reason: needsCode,
      retry: async (code) => {
        let outcome: 'wrong' | 'failed' = 'failed';
        const again = await call(work(code), (message, error) => {
          if (error.code === 'WRONG_CODE' || error.code === 'INVALID_INPUT') outcome = 'wrong';
          else onError(message);
        });
        if (again === undefined) return outcome;
        done(again);
        return 'done';
      },
    });
  }, [call, onError]);

  const dialog = asked ? <ProofDialog key={asked.what} asked={asked} onClose={() => setAsked(null)} /> : null;
  return { proven, dialog };
}

function ProofDialog({ asked, onClose }: { readonly asked: Asked; readonly onClose: () => void }) {
  const [code, setCode] = useState('');
  const [wrong, setWrong] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    const outcome = await asked.retry(code);
    setBusy(false);
    setCode('');
    if (outcome === 'wrong') setWrong(true);
    else onClose();
  }

  return (
    <Modal label="Confirm it is you" onClose={onClose}>
      <form className="stack" onSubmit={(e) => void submit(e)}>
        <h2>Confirm it is you</h2>
        <p>{asked.reason}</p>
        <p className="muted">Then: {asked.what}.</p>
        {wrong && <p role="alert" className="error">That code was not accepted: enter the current one from your authenticator.</p>}
        <label>
          Code from your authenticator
          <input value={code} onChange={(e) => setCode(e.target.value)} inputMode="numeric" autoComplete="one-time-code" required autoFocus />
        </label>
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" disabled={busy || code.trim() === ''}>Confirm</button>
        </div>
      </form>
    </Modal>
  );
}
