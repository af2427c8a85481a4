/**
 * Server administration, "Policy": the team server's two-step sign-in levels (off / optional /
 * required) for everyone, per role and for external people, and the idle minutes after which a
 * session does its second step again, as teamAdmin.policy says. Owners change them (`canSet`:
 * the server said their role is owner); loosening may need their fresh code, which the server
 * asks for and TeamAdminProof.tsx takes. A refusal is shown as the server worded it.
 * Must never: hold a code beyond its field.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { MAX_IDLE_MINUTES, MFA_POLICY_LEVELS, type MfaPolicyLevel, type MfaPolicyScope, type MfaPolicyView } from '../../shared/api/server-contract';
import type { CrewvaultApi } from '../../shared/api/client';
import { useCall } from '../hooks/useCall';
import type { Proven } from './TeamAdminProof';

interface Props {
  readonly api: CrewvaultApi;
  readonly canSet: boolean;
  readonly proven: Proven;
  readonly say: (line: string) => void;
  readonly fail: (line: string) => void;
}

const SCOPES: readonly { readonly scope: MfaPolicyScope; readonly label: string }[] = [
  { scope: 'global', label: 'Everyone' },
  { scope: 'owner', label: 'Owners' },
  { scope: 'admin', label: 'Admins' },
  { scope: 'member', label: 'Members' },
  { scope: 'external', label: 'External people' },
];

function levelOf(policy: MfaPolicyView, scope: MfaPolicyScope): MfaPolicyLevel | null {
  if (scope === 'global') return policy.policy;
  if (scope === 'external') return policy.external;
  return policy.roles[scope];
}

export function TeamAdminPolicy({ api, canSet, proven, say, fail }: Props) {
  const call = useCall();
  const [policy, setPolicy] = useState<MfaPolicyView | null>(null);
  const [idle, setIdle] = useState('');

  const load = useCallback(async () => {
    const read = await call(api.teamAdmin.policy({}), fail);
    if (read) {
      setPolicy(read);
      setIdle(String(read.idleMinutes));
    }
  }, [api, call, fail]);
  useEffect(() => void load(), [load]);

  async function setLevel(scope: MfaPolicyScope, value: string) {
    const level = value === 'none' ? null : MFA_POLICY_LEVELS.find((l) => l === value) ?? null;
    const label = SCOPES.find((s) => s.scope === scope)?.label ?? scope;
    await proven(`set the level for ${label.toLowerCase()}`, (code) => api.teamAdmin.setPolicy({ scope, level, ...(code === undefined ? {} : { code }) }), (next) => {
      setPolicy(next);
      say(`Two-step sign-in for ${label.toLowerCase()}: ${level ?? 'no level of their own'}.`);
    });
  }

  async function saveIdle(event: FormEvent) {
    event.preventDefault();
    const minutes = Number(idle);
    if (!Number.isInteger(minutes) || minutes < 0 || minutes > MAX_IDLE_MINUTES) {
      fail(`Idle minutes are a whole number from 0 to ${MAX_IDLE_MINUTES}.`);
      return;
    }
    await proven('change the idle time', (code) => api.teamAdmin.setIdle({ minutes, ...(code === undefined ? {} : { code }) }), (next) => {
      setPolicy(next);
      setIdle(String(next.idleMinutes));
      say(next.idleMinutes === 0 ? 'An idle session now keeps its second step.' : `A session idle over ${next.idleMinutes} minutes does its second step again.`);
    });
  }

  if (!policy) return <p aria-busy="true">Reading the server&apos;s policy…</p>;
  return (
    <>
      {!canSet && <p className="muted">Only the server&apos;s owners change the policy; you see it as it stands.</p>}
      <table className="table">
        <caption className="sr-only">Two-step sign-in policy on the team server</caption>
        <thead><tr><th scope="col">Who</th><th scope="col">Level</th></tr></thead>
        <tbody>
          {SCOPES.map(({ scope, label }) => {
            const level = levelOf(policy, scope);
            return (
              <tr key={scope}>
                <th scope="row">{label}</th>
                <td>
                  {canSet ? (
                    <select aria-label={`Level for ${label.toLowerCase()}`} value={level ?? 'none'} onChange={(e) => void setLevel(scope, e.target.value)}>
                      {MFA_POLICY_LEVELS.map((l) => <option key={l} value={l}>{l}</option>)}
                      {scope !== 'global' && <option value="none">no level of their own</option>}
                    </select>
                  ) : (level ?? 'no level of their own')}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="muted small">The strictest level that applies to a person is theirs. Turning it off keeps everyone&apos;s authenticator; turning it on again asks every session for a code again.</p>
      {canSet ? (
        <form className="row wrap" onSubmit={(e) => void saveIdle(e)}>
          <label>
            Idle minutes before a session does its second step again (0: never)
            <input type="number" min={0} max={MAX_IDLE_MINUTES} value={idle} onChange={(e) => setIdle(e.target.value)} />
          </label>
          <button type="submit">Save idle time</button>
        </form>
      ) : (
        <p>{policy.idleMinutes === 0 ? 'An idle session keeps its second step.' : `A session idle over ${policy.idleMinutes} minutes does its second step again.`}</p>
      )}
    </>
  );
}
