/**
 * The vault's two-step sign-in rules, for admins: the policy (off / optional / required, for
 * everyone or one role) and how many days "Trust this computer" lasts (0 hides it). The router
 * applies and audits both. The current policy is read back from the vault after each change.
 * Each change names the revision of what the form showed (#13): when someone else changed it
 * since, the vault refuses (CONFLICT) and the form says so and loads it again.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { ErrorInfo } from '../../shared/errors';
import type { CrewvaultApi } from '../../shared/api/client';
import type { MfaPolicyView, MfaStatus } from '../../shared/api/contract';
import { MFA_POLICY_LEVELS, type MfaPolicyLevel, type RoleView } from '../../shared/model';
import { useCall } from '../hooks/useCall';

type Level = MfaStatus['policy'];
/** A label for every level the vault knows (shared/model's list, not a copy: a new level needs one). */
const LEVEL_LABELS: Readonly<Record<MfaPolicyLevel, string>> = { off: 'Off', optional: 'Optional', required: 'Required' };
const LEVELS: ReadonlyArray<{ level: Level; label: string }> = MFA_POLICY_LEVELS.map((level) => ({ level, label: LEVEL_LABELS[level] }));
/** The "Applies to" choice for the global policy; a role is never named this (names are words). */
const EVERYONE = '';

function roleLabel(role: string): string {
  return role.replace('_', ' ');
}

interface Props {
  readonly api: CrewvaultApi;
  readonly roles: readonly RoleView[];
  readonly myRole: string;
  readonly onMessage: (message: { error: boolean; text: string }) => void;
}

export function MfaPolicyForm({ api, roles, myRole, onMessage }: Props) {
  const [appliesTo, setAppliesTo] = useState(EVERYONE);
  const [level, setLevel] = useState<Level>('required');
  const [mine, setMine] = useState<Level | null>(null);
  const [policy, setPolicyView] = useState<MfaPolicyView | null>(null);
  const [trustDays, setTrustDays] = useState('');
  /** The settings' revision the trust-days field shows (#13); null until loaded. */
  const [settingsRevision, setSettingsRevision] = useState<number | null>(null);
  const call = useCall();
  const fail = (text: string) => onMessage({ error: true, text });

  // What the form starts from. A failed load leaves its part empty, as before; LOCKED and
  // PASSWORD_CHANGE_REQUIRED still go to the app (useCall), not nowhere.
  const load = useCallback(async (): Promise<void> => {
    const quiet = (): void => undefined;
    await Promise.all([
      call(api.mfa.status({}), quiet).then((status) => status && setMine(status.policy)),
      call(api.mfa.policy({}), quiet).then((view) => view && setPolicyView(view)),
      call(api.session.state({}), quiet).then((state) => {
        if (!state) return;
        setTrustDays(String(state.settings.trustDeviceDays));
        setSettingsRevision(state.settings.revision);
      }),
    ]);
  }, [api, call]);
  useEffect(() => void load(), [load]);

  /** A change's error: CONFLICT (someone else changed `what` since it was shown) loads it again. */
  const changeFailed = (what: string) => (text: string, error: ErrorInfo): void => {
    if (error.code !== 'CONFLICT') {
      fail(text);
      return;
    }
    onMessage({ error: true, text: `Someone else changed ${what} since it was shown: it has been loaded again as it is now. Check it, then redo your change.` });
    void load();
  };

  async function setPolicy(event: FormEvent) {
    event.preventDefault();
    if (!policy) return;
    const base = { level, baseRevision: policy.revision };
    const status = await call(api.mfa.setPolicy(appliesTo === EVERYONE ? base : { ...base, role: appliesTo }), changeFailed('this policy'));
    if (!status) return;
    setMine(status.policy);
    const current = await call(api.mfa.policy({}), fail);
    if (current) setPolicyView(current);
    const who = appliesTo === EVERYONE ? 'everyone (roles without their own policy)' : `the role ${roleLabel(appliesTo)}`;
    onMessage({ error: false, text: `Two-step sign-in is now ${level} for ${who}.${level === 'required' ? ' Whoever has no authenticator sets one up at their next sign-in.' : ''}` });
  }

  async function saveTrustDays(event: FormEvent) {
    event.preventDefault();
    if (settingsRevision === null) return;
    const settings = await call(api.settings.update({ trustDeviceDays: Number(trustDays), baseRevision: settingsRevision }), changeFailed('this setting'));
    if (!settings) return;
    const days = settings.trustDeviceDays;
    setTrustDays(String(days));
    setSettingsRevision(settings.revision);
    onMessage({ error: false, text: days === 0 ? '"Trust this computer" is turned off: every sign-in asks for a code.' : `"Trust this computer" now lasts ${days} ${days === 1 ? 'day' : 'days'}.` });
  }

  return (
    <>
      <h3>Policy</h3>
      <p className="muted small">Off: no one is asked for a code. Optional: each person chooses. Required: whoever has no authenticator sets one up right after their password. A role's own policy overrides the one for everyone.</p>
      <form onSubmit={(e) => void setPolicy(e)} className="row wrap">
        <label>
          Applies to
          <select value={appliesTo} onChange={(e) => setAppliesTo(e.target.value)}>
            <option value={EVERYONE}>Everyone</option>
            {roles.map((r) => <option key={r.name} value={r.name}>{roleLabel(r.name)}</option>)}
          </select>
        </label>
        <label>
          Level
          <select value={level} onChange={(e) => setLevel(e.target.value as Level)}>
            {LEVELS.map((l) => <option key={l.level} value={l.level}>{l.label}</option>)}
          </select>
        </label>
        {/* Enabled once the policy it changes is shown: a change names the revision it was made from. */}
        <button type="submit" disabled={!policy}>Set policy</button>
      </form>
      {policy && (
        <ul className="small" aria-label="Current policy">
          <li>Everyone: {policy.global}</li>
          {Object.entries(policy.roles).map(([role, roleLevel]) => <li key={role}>{roleLabel(role)}: {roleLevel}</li>)}
        </ul>
      )}
      {mine && myRole && <p className="small">For your role ({roleLabel(myRole)}) it is {mine}.</p>}
      <h3>Trusted computers</h3>
      <form onSubmit={(e) => void saveTrustDays(e)} className="row wrap">
        <label>
          Trust this computer for (days)
          <input type="number" min={0} max={365} step={1} value={trustDays} onChange={(e) => setTrustDays(e.target.value)} required aria-describedby="trust-days-hint" />
        </label>
        <button type="submit" disabled={settingsRevision === null}>Save</button>
      </form>
      <p id="trust-days-hint" className="muted small">How long a good code may spare a computer from asking again. 0 turns it off: the choice is not offered.</p>
    </>
  );
}
