/**
 * Server administration, "Automation tokens" (finPOWER's "Web Subscriber"): the server's tokens
 * as teamAdmin.tokens lists them (never the token itself), making one (name, scopes, optional
 * vaults, days up to 365) after a warning that it skips two-step sign-in, the new token shown
 * ONCE with Copy through the app's clipboard path that clears itself, and revoking one after a
 * confirmation. Who may see or revoke which token is the server's to say.
 * Must never: keep a new token once its dialog closes, or put it in a status line or a log.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { MAX_TOKEN_DAYS, TOKEN_SCOPES, type AutomationTokenView, type TokenScope } from '../../shared/api/server-contract';
import type { CrewvaultApi } from '../../shared/api/client';
import type { Transport } from '../client';
import { useCall } from '../hooks/useCall';
import { useCopyText } from '../hooks/useCopy';
import { ConfirmDialog } from './ConfirmDialog';
import { Modal } from './Modal';

interface Props {
  readonly api: CrewvaultApi;
  readonly transport: Transport;
  readonly say: (line: string) => void;
  readonly fail: (line: string) => void;
}

const WARNING = 'An automation token signs in without a second step (MFA): whoever holds it acts as you on what its scopes allow, until it expires or is revoked. Keep it where only the script can read it.';

function day(ms: number): string {
  return new Date(ms).toLocaleDateString();
}

function state(token: AutomationTokenView, now: number): string {
  if (token.revokedAt !== null) return `Revoked ${day(token.revokedAt)}`;
  return token.expiresAt <= now ? `Expired ${day(token.expiresAt)}` : `Until ${day(token.expiresAt)}`;
}

interface Draft {
  readonly name: string;
  readonly scopes: TokenScope[];
  readonly vaults?: string[];
  readonly days: number;
}

export function TeamAdminTokens({ api, transport, say, fail }: Props) {
  const call = useCall();
  const copyText = useCopyText(api, transport);
  const [tokens, setTokens] = useState<AutomationTokenView[] | null>(null);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<TokenScope[]>(['sync.pull']);
  const [vaults, setVaults] = useState('');
  const [days, setDays] = useState('30');
  const [confirming, setConfirming] = useState<Draft | null>(null);
  const [made, setMade] = useState<{ token: string; name: string; warning: string } | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<AutomationTokenView | null>(null);

  const load = useCallback(async () => {
    const listed = await call(api.teamAdmin.tokens({}), fail);
    if (listed) setTokens(listed.tokens);
  }, [api, call, fail]);
  useEffect(() => void load(), [load]);

  function review(event: FormEvent) {
    event.preventDefault();
    const count = Number(days);
    if (!Number.isInteger(count) || count < 1 || count > MAX_TOKEN_DAYS) {
      fail(`A token lives 1 to ${MAX_TOKEN_DAYS} days.`);
      return;
    }
    if (scopes.length === 0) {
      fail('Choose at least one scope.');
      return;
    }
    const ids = vaults.split(/[\s,]+/).filter((v) => v !== '');
    setConfirming({ name: name.trim(), scopes, days: count, ...(ids.length === 0 ? {} : { vaults: ids }) });
  }

  async function create(draft: Draft) {
    setConfirming(null);
    const done = await call(api.teamAdmin.createToken(draft), fail);
    if (!done) return;
    setMade({ token: done.token, name: done.view.name, warning: done.warning });
    setName('');
    say(`Token "${done.view.name}" made.`);
    await load();
  }

  async function revoke(token: AutomationTokenView) {
    setRevoking(null);
    const done = await call(api.teamAdmin.revokeToken({ id: token.id }), fail);
    if (!done) return;
    say(done.revoked ? `Token "${token.name}" revoked: it no longer works.` : `Token "${token.name}" was already revoked.`);
    await load();
  }

  const now = Date.now();
  return (
    <>
      <form className="stack" aria-labelledby="token-new" onSubmit={review}>
        <h4 id="token-new">New automation token</h4>
        <p className="team-admin-warning" role="note">{WARNING}</p>
        <label>Name (what script it is for)<input value={name} onChange={(e) => setName(e.target.value)} maxLength={100} required /></label>
        <fieldset>
          <legend>Scopes</legend>
          {TOKEN_SCOPES.map((scope) => (
            <label key={scope} className="inline">
              <input type="checkbox" checked={scopes.includes(scope)} onChange={(e) => setScopes(e.target.checked ? [...scopes, scope] : scopes.filter((s) => s !== scope))} /> {scope}
            </label>
          ))}
        </fieldset>
        <label>Vaults (ids, comma-separated; empty: every vault you reach)<input value={vaults} onChange={(e) => setVaults(e.target.value)} /></label>
        <label>Days until it expires (1 to {MAX_TOKEN_DAYS})<input type="number" min={1} max={MAX_TOKEN_DAYS} value={days} onChange={(e) => setDays(e.target.value)} required /></label>
        <div className="row"><button type="submit">Create token…</button></div>
      </form>

      <h4>Tokens</h4>
      {!tokens ? <p aria-busy="true">Reading the server&apos;s tokens…</p> : tokens.length === 0 ? <p>No automation tokens.</p> : (
        <table className="table">
          <caption className="sr-only">Automation tokens on the team server</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Scopes</th><th scope="col">Vaults</th><th scope="col">Made by</th><th scope="col">State</th><th scope="col">Last used</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {tokens.map((token) => (
              <tr key={token.id}>
                <th scope="row">{token.name}</th>
                <td>{token.scopes.join(', ')}</td>
                <td>{token.vaults === null ? 'All' : token.vaults.length}</td>
                <td>{token.createdBy.username}</td>
                <td>{state(token, now)}</td>
                <td>{token.lastUsedAt === null ? 'Never' : `${new Date(token.lastUsedAt).toLocaleString()} from ${token.lastUsedFrom ?? '?'}`}</td>
                <td>{token.revokedAt === null && <button type="button" className="danger" onClick={() => setRevoking(token)}>Revoke<span className="sr-only"> {token.name}</span></button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {confirming && (
        <ConfirmDialog title="Create a token that skips two-step sign-in?" confirmLabel="Create the token" onCancel={() => setConfirming(null)} onConfirm={() => void create(confirming)}>
          <p>{WARNING}</p>
          <p>&quot;{confirming.name}&quot;: {confirming.scopes.join(', ')}, {confirming.vaults ? `${confirming.vaults.length} vault(s)` : 'every vault you reach'}, for {confirming.days} day(s).</p>
        </ConfirmDialog>
      )}
      {made && (
        <Modal label="New automation token" onClose={() => { setMade(null); setCopied(null); }}>
          <h2>Token &quot;{made.name}&quot;</h2>
          <p className="team-admin-warning">{made.warning}</p>
          <p>It is shown this once: copy it into the script&apos;s own secret store now. The server keeps only its hash.</p>
          <p><code className="mono" aria-label="The new token">{made.token}</code></p>
          {copied && <p role="status">{copied}</p>}
          <div className="dialog-actions">
            <button type="button" onClick={() => void copyText(made.token, setCopied)}>Copy</button>
            <button type="button" onClick={() => { setMade(null); setCopied(null); }}>Done</button>
          </div>
        </Modal>
      )}
      {revoking && (
        <ConfirmDialog title={`Revoke "${revoking.name}"?`} confirmLabel="Revoke the token" onCancel={() => setRevoking(null)} onConfirm={() => void revoke(revoking)}>
          <p>The token made by {revoking.createdBy.username} stops working at once; any script using it is refused from then on.</p>
        </ConfirmDialog>
      )}
    </>
  );
}
