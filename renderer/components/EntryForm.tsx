/**
 * Add or edit an entry. The OTP comes three ways — a typed secret key, a pasted otpauth URI,
 * or a QR image — plus "Advanced" settings. Nothing is sent while the OTP is invalid; a
 * Google Authenticator export QR becomes several entries, confirmed before they are added.
 * A new entry's access group starts as its customer's (entry-group.ts), said beside the choice;
 * an otpauth URI fills the fields as it is pasted (into "Secret key", the starting choice, too);
 * removing or replacing a saved OTP key through Edit is confirmed first, as Delete is, since the
 * old key cannot be recovered. The OTP choice starts at "Secret key" (typing the key is the
 * common case); left empty, where the entry has no OTP yet, it means none, so an entry without
 * one needs no extra click.
 */
import { useId, useMemo, useRef, useState, type FormEvent } from 'react';
import type { OtpSpec } from '../../shared/otp';
import { buildOtpUri, defaultOtpParams, OTP_ALGORITHMS, parseMigrationUri, resolveOtpSpec, type MigrationEntry, type OtpAlgorithm, type OtpKind } from '../../shared/otp';
import { CrewvaultError } from '../../shared/errors';
import type { CustomerView, EntryDetails, EntrySummary, GroupSummary } from '../../shared/model';
import type { Connection } from '../client';
import type { GroupSuggestion } from '../entry-group';
import { useCall } from '../hooks/useCall';
import { generatePassword } from '../password';
import { ConfirmDialog } from './ConfirmDialog';
import { QrImport } from './QrImport';
import { checkSecret, SecretKeyField } from './SecretKeyField';

type OtpMode = 'none' | 'keep' | 'secret' | 'uri' | 'qr';

interface Props {
  readonly connection: Connection;
  readonly customers: readonly CustomerView[];
  /** The access groups this person holds; the entry goes to one of them. */
  readonly groups: readonly GroupSummary[];
  /** Absent: a new entry. */
  readonly entry?: EntryDetails;
  readonly defaultCustomer?: string;
  /** Where a new entry of `customer` should go, and why (renderer/entry-group.ts). */
  readonly suggestGroup?: (customer: string) => GroupSuggestion;
  readonly onSaved: (entries: EntrySummary[]) => void;
  readonly onCancel: () => void;
}

interface Advanced {
  kind: OtpKind;
  algorithm: OtpAlgorithm;
  digits: number;
  period: number;
  counter: number;
}

/** The form's starting choice: shared/otp's defaults (an authenticator app's TOTP), not a copy of them. */
const DEFAULT_ADVANCED: Advanced = (() => {
  const { kind, algorithm, digits, period, counter } = defaultOtpParams('');
  return { kind, algorithm, digits, period, counter };
})();

function describeError(error: unknown): string {
  return error instanceof CrewvaultError ? error.message : 'This is not a valid one-time password.';
}

export function EntryForm({ connection, customers, groups, entry, defaultCustomer, suggestGroup, onSaved, onCancel }: Props) {
  const id = useId();
  const editing = entry !== undefined;
  const [customer, setCustomer] = useState(entry?.customer ?? defaultCustomer ?? '');
  const [title, setTitle] = useState(entry?.title ?? '');
  const [username, setUsername] = useState(entry?.username ?? '');
  const [password, setPassword] = useState('');
  const [showPassword, setShowPassword] = useState(false);
  const [url, setUrl] = useState(entry?.url ?? '');
  // '' leaves a new entry in the vault's default group. Until the person picks one, a new
  // entry's group follows its customer (suggestion below).
  const [chosenGroupId, setGroupId] = useState<string | null>(entry ? String(entry.groupId) : null);
  const suggestion: GroupSuggestion | null = !editing && suggestGroup ? suggestGroup(customer) : null;
  const groupId = chosenGroupId ?? (suggestion?.kind === 'suggested' && suggestion.groupId !== null ? String(suggestion.groupId) : '');
  const mustChooseGroup = chosenGroupId === null && suggestion?.kind === 'choose';
  const [groupError, setGroupError] = useState<string | null>(null);
  const [confirmOtp, setConfirmOtp] = useState<'remove' | 'replace' | null>(null);
  /** "Required" said under the field it concerns, not at the foot of the form. */
  const [missing, setMissing] = useState<{ customer?: boolean; title?: boolean }>({});
  const form = useRef<HTMLFormElement>(null);
  const [notes, setNotes] = useState(entry?.notes ?? '');
  const [mode, setMode] = useState<OtpMode>(entry?.otp ? 'keep' : 'secret');
  const [secret, setSecret] = useState('');
  const [uri, setUri] = useState('');
  const [advanced, setAdvanced] = useState<Advanced>(DEFAULT_ADVANCED);
  const [advancedTouched, setAdvancedTouched] = useState(false);
  /** "Secret key" left empty on an entry without an OTP: no OTP (with a saved
   * one, or Advanced settings chosen, it is a mistake). */
  const noKeyTyped = mode === 'secret' && secret.trim() === '' && !entry?.otp && !advancedTouched;
  const [migration, setMigration] = useState<{ entries: MigrationEntry[]; chosen: boolean[]; problems: string[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const call = useCall();

  const spec: OtpSpec | null = useMemo(() => {
    const overrides = advancedTouched
      ? { kind: advanced.kind, algorithm: advanced.algorithm, ...(advanced.kind === 'steam' ? {} : { digits: advanced.digits }), period: advanced.period, ...(advanced.kind === 'hotp' ? { counter: advanced.counter } : {}) }
      : {};
    if (mode === 'secret') return noKeyTyped ? null : { secret, ...overrides };
    if (mode === 'uri' || mode === 'qr') return { uri, ...overrides };
    return null;
  }, [mode, secret, uri, advanced, advancedTouched, noKeyTyped]);

  const otpCheck = useMemo((): { ok: boolean; message: string } | null => {
    if (!spec) return null;
    if (mode === 'secret' && checkSecret(secret)?.ok === false) return { ok: false, message: checkSecret(secret)?.message ?? '' };
    if ((spec.uri ?? spec.secret ?? '').trim() === '') return { ok: false, message: mode === 'secret' ? 'Type the secret key, or choose "No OTP".' : 'Paste an otpauth:// URI, or choose "No OTP".' };
    try {
      const resolved = resolveOtpSpec(spec);
      const p = resolved.params;
      return { ok: true, message: `${p.kind.toUpperCase()} · ${p.algorithm} · ${p.digits} ${p.kind === 'steam' ? 'characters' : 'digits'}${p.kind === 'hotp' ? ` · counter ${p.counter}` : ` · ${p.period} s`}${resolved.issuer ? ` · ${resolved.issuer}` : ''}` };
    } catch (e) {
      return { ok: false, message: describeError(e) };
    }
  }, [spec, mode, secret]);

  /** Where "otpauth URI" was chosen by pasting one into "Secret key": its field takes the focus. */
  const focusUri = useRef(false);
  /**
   * "Secret key" is the starting choice, so an otpauth URI is often pasted there: it is taken as
   * the URI it is (the choice moves to "otpauth URI", the fields fill at once), not refused as a
   * key with a bad character.
   */
  function typedSecret(text: string) {
    if (!/^\s*otpauth(-migration)?:/i.test(text)) {
      setSecret(text);
      return;
    }
    setSecret('');
    setMode('uri');
    focusUri.current = true;
    fillFromUri(text.trim(), true);
  }

  /** `asTyped`: called on each change of the URI field, where a half-pasted URI is no error yet. */
  function fillFromUri(text: string, asTyped = false) {
    if (/^otpauth-migration:/i.test(text.trim())) {
      try {
        const batch = parseMigrationUri(text);
        setMigration({ entries: batch.entries, chosen: batch.entries.map(() => true), problems: batch.problems.map((p) => p.message) });
        setError(null);
      } catch (e) {
        if (!asTyped) setError(describeError(e));
      }
      return;
    }
    // Only the text: a URI pasted in "otpauth URI" stays there (QrImport is shown in "QR image" mode already).
    setUri(text);
    try {
      const resolved = resolveOtpSpec({ uri: text });
      if (!title && (resolved.issuer || resolved.account)) setTitle(resolved.issuer ?? resolved.account ?? '');
      if (!username && resolved.account) setUsername(resolved.account);
      if (!customer && resolved.issuer) setCustomer(resolved.issuer);
    } catch {
      // The check below the field says what is wrong.
    }
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setGroupError(null);
    if (migration) return addMigration();
    const empty = { customer: customer.trim() === '', title: title.trim() === '' };
    setMissing(empty);
    if (empty.customer || empty.title) {
      form.current?.querySelector<HTMLElement>(empty.customer ? '[name="customer"]' : '[name="title"]')?.focus();
      return;
    }
    if (otpCheck && !otpCheck.ok) {
      // The line under the OTP field says what is wrong already: said once, the field focused.
      form.current?.querySelector<HTMLElement>('[name="secret"], [name="uri"]')?.focus();
      return;
    }
    if (mustChooseGroup) {
      setGroupError('Choose the access group: who may see this entry.');
      return;
    }
    // A saved OTP key removed or replaced cannot be recovered: asked first, as Delete is.
    if (editing && entry.otp && mode !== 'keep') {
      setConfirmOtp(mode === 'none' ? 'remove' : 'replace');
      return;
    }
    await save();
  }

  async function save() {
    setConfirmOtp(null);
    setBusy(true);
    const fields = { customer, title, username, url, notes, ...(password ? { password } : {}) };
    const otp = mode === 'keep' || noKeyTyped ? undefined : mode === 'none' ? null : spec;
    const saved = editing
      ? await call(connection.api.entries.update({ id: entry.id, baseRevision: entry.revision, changes: { ...fields, ...(otp === undefined ? {} : { otp }) } }), setError)
      : await call(connection.api.entries.create({ ...fields, ...(otp ? { otp } : {}), ...(groupId ? { groupId: Number(groupId) } : {}) }), setError);
    if (saved && editing && groupId && Number(groupId) !== entry.groupId) {
      // Another group: the main process re-seals the entry under that group's key.
      // The revision the save just wrote (the form's own change), not the one it opened at.
      const moved = await call(connection.api.entries.move({ id: entry.id, groupId: Number(groupId), baseRevision: saved.revision ?? entry.revision }), setError);
      if (!moved) {
        setBusy(false);
        return;
      }
    }
    setBusy(false);
    if (saved) onSaved([saved]);
  }

  async function addMigration() {
    if (!migration) return;
    setBusy(true);
    const saved: EntrySummary[] = [];
    for (const [index, item] of migration.entries.entries()) {
      if (!migration.chosen[index]) continue;
      const created = await call(connection.api.entries.create({
        customer: customer || item.issuer || 'Imported',
        title: item.issuer ?? item.account,
        username: item.account,
        otp: { uri: buildOtpUri({ params: item.params, account: item.account, ...(item.issuer ? { issuer: item.issuer } : {}) }) },
      }), (message) => setError(`${item.issuer ?? item.account}: ${message}`));
      if (!created) {
        setBusy(false);
        return;
      }
      saved.push(created);
    }
    setBusy(false);
    onSaved(saved);
  }

  const showAdvanced = mode === 'secret' || mode === 'uri' || mode === 'qr';
  return (
    <form ref={form} className="entry-form" onSubmit={(e) => void submit(e)} aria-busy={busy} noValidate>
      <h2>{editing ? `Edit ${entry.title}` : 'Add entry'}</h2>
      {migration ? (
        <fieldset>
          <legend>Google Authenticator export: {migration.entries.length} entries</legend>
          <ul className="plain">
            {migration.entries.map((item, index) => (
              <li key={`${item.issuer ?? ''}:${item.account}:${index}`}>
                <label className="inline">
                  <input type="checkbox" checked={migration.chosen[index] ?? false} onChange={(e) => setMigration({ ...migration, chosen: migration.chosen.map((c, i) => (i === index ? e.target.checked : c)) })} />
                  {item.issuer ? `${item.issuer} — ` : ''}{item.account} ({item.params.kind.toUpperCase()})
                </label>
              </li>
            ))}
          </ul>
          {migration.problems.map((p) => <p key={p} className="error small">{p}</p>)}
          <label>
            Customer for these entries (empty: each entry's issuer)
            <input value={customer} onChange={(e) => setCustomer(e.target.value)} list={`${id}-customers`} />
          </label>
        </fieldset>
      ) : (
        <>
          <label>
            Customer
            <input name="customer" value={customer} onChange={(e) => { setCustomer(e.target.value); setMissing((m) => ({ ...m, customer: false })); }} list={`${id}-customers`} required aria-invalid={missing.customer === true} aria-describedby={missing.customer ? `${id}-customer-missing` : undefined} />
            {missing.customer && <span id={`${id}-customer-missing`} className="error small" role="alert">Customer is required.</span>}
          </label>
          {groups.length > 1 && (
            <div className="field">
              <label htmlFor={`${id}-group`}>Access group</label>
              <select
                id={`${id}-group`}
                name="group"
                value={mustChooseGroup ? 'choose' : groupId}
                onChange={(e) => { setGroupId(e.target.value); setGroupError(null); }}
                aria-invalid={groupError !== null}
                aria-describedby={`${id}-group-why`}
              >
                {mustChooseGroup && <option value="choose" disabled>Choose a group…</option>}
                {/* '' is the vault's default group, offered only to whoever holds it (else the vault would pick another). */}
                {!editing && groups.some((g) => g.isDefault) && <option value="">Default group</option>}
                {groups.map((g) => <option key={g.id} value={String(g.id)}>{g.name}</option>)}
              </select>
              <p id={`${id}-group-why`} className={groupError ? 'error small' : 'muted small'} role={groupError ? 'alert' : undefined}>
                {groupError ?? (chosenGroupId === null ? suggestion?.why : null)}
              </p>
            </div>
          )}
          {groups.length === 1 && !editing && <p className="muted small">Access group: {groups[0]?.name}, your only group.</p>}
          <label>
            Title
            <input name="title" value={title} onChange={(e) => { setTitle(e.target.value); setMissing((m) => ({ ...m, title: false })); }} required aria-invalid={missing.title === true} aria-describedby={missing.title ? `${id}-title-missing` : undefined} />
            {missing.title && <span id={`${id}-title-missing`} className="error small" role="alert">Title is required.</span>}
          </label>
          <label>
            Username
            <input name="username" value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" />
          </label>
          <div className="field">
            <label htmlFor={`${id}-password`}>Password</label>
            <div className="row">
              <input id={`${id}-password`} name="password" type={showPassword ? 'text' : 'password'} value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" placeholder={editing && entry.hasPassword ? 'unchanged' : ''} />
              <button type="button" onClick={() => setShowPassword(!showPassword)}>{showPassword ? 'Hide' : 'Show'}</button>
              <button type="button" onClick={() => { setPassword(generatePassword()); setShowPassword(true); }}>Generate</button>
            </div>
          </div>
          <label>
            URL
            <input name="url" type="url" value={url} onChange={(e) => setUrl(e.target.value)} />
          </label>
          <label>
            Notes
            <textarea name="notes" value={notes} onChange={(e) => setNotes(e.target.value)} rows={3} />
          </label>
          <fieldset>
            <legend>One-time password</legend>
            <div className="row wrap" role="radiogroup" aria-label="How to add the one-time password">
              {editing && entry.otp && <label className="inline"><input type="radio" name="otp-mode" checked={mode === 'keep'} onChange={() => setMode('keep')} /> Keep current</label>}
              <label className="inline"><input type="radio" name="otp-mode" checked={mode === 'none'} onChange={() => setMode('none')} /> {editing && entry.otp ? 'Remove OTP' : 'No OTP'}</label>
              <label className="inline"><input type="radio" name="otp-mode" checked={mode === 'secret'} onChange={() => setMode('secret')} /> Secret key</label>
              <label className="inline"><input type="radio" name="otp-mode" checked={mode === 'uri'} onChange={() => setMode('uri')} /> otpauth URI</label>
              <label className="inline"><input type="radio" name="otp-mode" checked={mode === 'qr'} onChange={() => setMode('qr')} /> QR image</label>
            </div>
            {mode === 'secret' && <SecretKeyField value={secret} onChange={typedSecret} {...(entry?.otp ? {} : { emptyHint: 'Letters A–Z and digits 2–7; spaces and hyphens are fine. Left empty, the entry has no one-time password.' })} />}
            {mode === 'uri' && (
              <label>
                otpauth URI
                <input name="uri" ref={(field) => { if (field && focusUri.current) { focusUri.current = false; field.focus(); } }} value={uri} onChange={(e) => { setUri(e.target.value); fillFromUri(e.target.value, true); }} onBlur={() => uri && fillFromUri(uri)} spellCheck={false} autoComplete="off" placeholder="otpauth://totp/Issuer:account?secret=…" />
              </label>
            )}
            {mode === 'qr' && (uri ? <p className="muted small">Read from the image. <button type="button" onClick={() => setUri('')}>Choose another image</button></p> : <QrImport onDecoded={fillFromUri} />)}
            {/* In "Secret key" mode the field's own check line speaks for the key; this line only adds what it cannot say. */}
            {otpCheck && (mode !== 'secret' || (checkSecret(secret)?.ok !== false && (!otpCheck.ok || checkSecret(secret) === null))) && (
              <p className={otpCheck.ok ? 'muted small' : 'error small'} role={otpCheck.ok ? 'status' : 'alert'}>{otpCheck.message}</p>
            )}
            {showAdvanced && (
              <details
                onToggle={(e) => {
                  // Opening "Advanced" starts from what the key or URI already says.
                  if (!e.currentTarget.open || advancedTouched) return;
                  try {
                    const base = resolveOtpSpec(mode === 'secret' ? { secret } : { uri }).params;
                    setAdvanced({ kind: base.kind, algorithm: base.algorithm, digits: base.kind === 'steam' ? 6 : base.digits, period: base.period, counter: base.counter });
                  } catch {
                    // Nothing valid yet: the defaults stand.
                  }
                  setAdvancedTouched(true);
                }}
              >
                <summary>Advanced</summary>
                <div className="row wrap">
                  <label>
                    Type
                    <select value={advanced.kind} onChange={(e) => setAdvanced({ ...advanced, kind: e.target.value as OtpKind })}>
                      <option value="totp">TOTP (time)</option>
                      <option value="hotp">HOTP (counter)</option>
                      <option value="steam">Steam Guard</option>
                    </select>
                  </label>
                  <label>
                    Algorithm
                    <select value={advanced.algorithm} onChange={(e) => setAdvanced({ ...advanced, algorithm: e.target.value as OtpAlgorithm })} disabled={advanced.kind === 'steam'}>
                      {OTP_ALGORITHMS.map((a) => <option key={a} value={a}>{a}</option>)}
                    </select>
                  </label>
                  <label>
                    Digits
                    <select value={advanced.digits} onChange={(e) => setAdvanced({ ...advanced, digits: Number(e.target.value) })} disabled={advanced.kind === 'steam'}>
                      {[6, 7, 8].map((d) => <option key={d} value={d}>{d}</option>)}
                    </select>
                  </label>
                  {advanced.kind === 'hotp' ? (
                    <label>
                      Counter
                      <input type="number" min={0} value={advanced.counter} onChange={(e) => setAdvanced({ ...advanced, counter: Number(e.target.value) })} />
                    </label>
                  ) : (
                    <label>
                      Period (s)
                      <input type="number" min={1} max={300} value={advanced.period} onChange={(e) => setAdvanced({ ...advanced, period: Number(e.target.value) })} />
                    </label>
                  )}
                </div>
                <p className="muted small">When open, these settings override what the URI says.</p>
              </details>
            )}
          </fieldset>
        </>
      )}
      <datalist id={`${id}-customers`}>
        {customers.map((c) => <option key={c.id} value={c.name} />)}
      </datalist>
      {error && <p role="alert" className="error">{error}</p>}
      {confirmOtp && editing && (
        <ConfirmDialog
          title={confirmOtp === 'remove' ? `Remove the OTP of ${entry.title} (${entry.customer})?` : `Replace the OTP key of ${entry.title} (${entry.customer})?`}
          confirmLabel={confirmOtp === 'remove' ? 'Remove OTP and save' : 'Replace key and save'}
          onCancel={() => setConfirmOtp(null)}
          onConfirm={() => void save()}
        >
          <p>The current secret key will be deleted and cannot be recovered{confirmOtp === 'replace' ? '; codes will come from the new key' : ''}.</p>
        </ConfirmDialog>
      )}
      <div className="dialog-actions">
        <button type="button" onClick={onCancel}>Cancel</button>
        <button type="submit" disabled={busy}>{migration ? `Add ${migration.chosen.filter(Boolean).length} entries` : 'Save'}</button>
      </div>
    </form>
  );
}
