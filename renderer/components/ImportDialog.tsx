/**
 * "Import…" (issue #12): another app's export, chosen or dropped, sent to the vault in chunks
 * (a progress bar while it goes), recognised there from its content, then previewed — what
 * goes in per customer, every skipped entry with its reason, duplicates of what the vault holds
 * (skipped unless asked for) — against a target the person chooses explicitly: the access group
 * (never a silent default when there are several) and either each entry's own folder or issuer
 * or one customer for all. Nothing is written until "Import". The main process reads the file
 * with the same importers and vault service as `crewvault import`.
 *
 * The page holds the file only to send it; it never asks for an entry's secret back.
 */
import { useCallback, useEffect, useRef, useState, type DragEvent } from 'react';
import type { ImportCommitted, ImportPreview } from '../../shared/api/contract';
import { IMPORT_FORMATS, MAX_IMPORT_FILE_BYTES } from '../../shared/api/contract';
import { CSV_TARGETS, type CsvMapping, type CsvTarget } from '../../shared/import/types';
import type { GroupSummary } from '../../shared/model';
import type { Connection } from '../client';
import { useCall } from '../hooks/useCall';

interface Props {
  readonly connection: Connection;
  readonly groups: readonly GroupSummary[];
  readonly onClose: () => void;
  readonly onImported: (summary: ImportCommitted) => void;
}

type ImportFormat = (typeof IMPORT_FORMATS)[number];

type Stage =
  | { kind: 'choose' }
  | { kind: 'sending'; name: string; sent: number; size: number }
  | { kind: 'reading'; name: string }
  | { kind: 'preview'; name: string }
  | { kind: 'writing'; name: string; count: number };

/** Base64 of a chunk, in slices (String.fromCharCode takes a bounded number of arguments). */
function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** What each field of a spreadsheet's mapping is called here. */
const TARGET_LABELS: Record<CsvTarget, string> = {
  title: 'Title (required)',
  customer: 'Customer',
  username: 'Username',
  password: 'Password',
  url: 'URL',
  notes: 'Notes',
  otp: 'One-time password (key or otpauth:// link)',
};

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function ImportDialog({ connection, groups, onClose, onImported }: Props) {
  const { api } = connection;
  const call = useCall();
  const [stage, setStage] = useState<Stage>({ kind: 'choose' });
  const [error, setError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const [uploadId, setUploadId] = useState<string | null>(null);
  const [preview, setPreview] = useState<ImportPreview | null>(null);
  const [exportPassword, setExportPassword] = useState('');
  const only = groups.length === 1 ? groups[0] : undefined;
  const [groupId, setGroupId] = useState<number | null>(only ? only.id : null);
  const [customerMode, setCustomerMode] = useState<'file' | 'one'>('file');
  const [customer, setCustomer] = useState('');
  const [includeDuplicates, setIncludeDuplicates] = useState(false);
  /**
   * Entries that cannot be imported stop the import until the person, shown them, chooses to go
   * on without them: the choice holds for the list it was made on (kept as that list), so a
   * new file, format or mapping with other problems asks again.
   */
  const [skipFor, setSkipFor] = useState<string | null>(null);
  /** The target (group, customer, format, mapping…) the preview on screen was made for. */
  const [shownFor, setShownFor] = useState('');
  const [format, setFormat] = useState<ImportFormat>('auto');
  /** A spreadsheet's mapping as confirmed (sent with every preview and the commit), and as edited. */
  const [mapping, setMapping] = useState<CsvMapping | null>(null);
  const [draftMapping, setDraftMapping] = useState<CsvMapping>({});
  const committed = useRef(false);
  const openUpload = useRef<string | null>(null);

  // An import left open is dropped (and its bytes wiped) in the main process when the dialog goes.
  useEffect(() => () => {
    const id = openUpload.current;
    if (id && !committed.current) void api.import.cancel({ uploadId: id });
  }, [api]);

  const problemsShown = preview ? JSON.stringify(preview.problems) : '';
  // The skip choice is not part of it: ticking it changes no list.
  const targetKey = (t: ReturnType<typeof target>): string => JSON.stringify({ ...t, skipProblems: undefined });
  const skipProblems = skipFor !== null && skipFor === problemsShown;
  const target = useCallback(() => ({
    format,
    ...(groupId === null ? {} : { groupId }),
    ...(customerMode === 'one' && customer.trim() ? { customer: customer.trim() } : {}),
    includeDuplicates,
    skipProblems,
    ...(mapping ? { mapping } : {}),
  }), [format, groupId, customerMode, customer, includeDuplicates, skipProblems, mapping]);

  async function send(file: File) {
    setError(null);
    setPreview(null);
    if (file.size === 0) return setError('That file is empty.');
    if (file.size > MAX_IMPORT_FILE_BYTES) return setError(`That file is larger than ${MAX_IMPORT_FILE_BYTES / 1024 / 1024} MiB.`);
    if (openUpload.current) void api.import.cancel({ uploadId: openUpload.current });
    const begun = await call(api.import.begin({ size: file.size }), setError);
    if (!begun) return;
    openUpload.current = begun.uploadId;
    setStage({ kind: 'sending', name: file.name, sent: 0, size: file.size });
    for (let offset = 0; offset < file.size; offset += begun.chunkBytes) {
      const bytes = new Uint8Array(await file.slice(offset, offset + begun.chunkBytes).arrayBuffer());
      const sent = await call(api.import.chunk({ uploadId: begun.uploadId, offset, data: toBase64(bytes) }), setError);
      if (!sent) return setStage({ kind: 'choose' });
      setStage({ kind: 'sending', name: file.name, sent: sent.received, size: file.size });
    }
    setUploadId(begun.uploadId);
    await look(begun.uploadId, file.name, undefined, { kind: 'choose' });
  }

  /** Asks for the preview; on an error (not a format it reads, a wrong password) goes back to `onFail`. */
  async function look(id: string, name: string, password: string | undefined, onFail: Stage) {
    setStage({ kind: 'reading', name });
    const asked = target();
    const seen = await call(api.import.preview({ uploadId: id, ...asked, ...(password ? { password } : {}) }), setError);
    if (!seen) return setStage(onFail);
    setError(null);
    setPreview(seen);
    setShownFor(targetKey(asked));
    if (seen.needsMapping) setDraftMapping(seen.suggestedMapping);
    if (!seen.needsPassword) setExportPassword('');
    setStage({ kind: 'preview', name });
  }

  // The preview follows the target: group, customer and duplicates change what would go in.
  useEffect(() => {
    if (!uploadId || !preview || preview.needsPassword || stage.kind !== 'preview') return undefined;
    const timer = window.setTimeout(() => {
      const asked = target();
      void call(api.import.preview({ uploadId, ...asked }), setError).then((seen) => {
        if (!seen) return;
        setError(null);
        setPreview(seen);
        setShownFor(targetKey(asked));
      });
    }, 250);
    return () => window.clearTimeout(timer);
    // Only a change of target asks again (`target` changes with it); the preview's own answer must not.
  }, [target]);

  async function commit() {
    if (!uploadId || !preview || groupId === null) return;
    setError(null);
    const name = stage.kind === 'preview' ? stage.name : '';
    setStage({ kind: 'writing', name, count: preview.total });
    const done = await call(api.import.commit({ uploadId, ...target(), groupId }), setError);
    if (!done) return setStage({ kind: 'preview', name });
    committed.current = true;
    onImported(done);
  }

  function onDrop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    const file = event.dataTransfer.files[0];
    if (file) void send(file);
  }

  const busy = stage.kind === 'sending' || stage.kind === 'reading' || stage.kind === 'writing';
  const needsCustomer = customerMode === 'one' && !customer.trim();
  const canCommit = stage.kind === 'preview' && preview !== null && !preview.needsPassword && !preview.needsMapping && preview.total > 0 && groupId !== null && !needsCustomer && (preview.problems.length === 0 || skipProblems)
    // Until the preview of a changed target is back, what is shown is not what would be committed.
    && shownFor === targetKey(target());

  return (
    <div className="stack" aria-busy={busy}>
      <h2>Import</h2>
      {stage.kind === 'choose' && (
        <label className="field">
          Format
          <select value={format} onChange={(e) => setFormat(e.target.value as ImportFormat)}>
            {IMPORT_FORMATS.map((f) => <option key={f} value={f}>{f === 'auto' ? 'Recognise it from the content' : f === 'csv' ? 'csv (a spreadsheet: you name the columns)' : f}</option>)}
          </select>
        </label>
      )}
      {stage.kind === 'choose' && (
        <div
          className={`dropzone${dragging ? ' dragging' : ''}`}
          onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
          aria-label="Export file: drop it here"
        >
          <label>
            Export file
            <input type="file" name="import" onChange={(e) => { const file = e.target.files?.[0]; if (file) void send(file); }} />
          </label>
          <p className="muted small">
            Choose or drop an export: Aegis, 2FAS, Bitwarden, KeePass (.kdbx or KeePassXC CSV), Ente Auth, 1Password, a list of otpauth:// links.
            The format is recognised from the content. Nothing is written before you confirm.
          </p>
        </div>
      )}
      {stage.kind === 'sending' && (
        <p>
          <label>Reading {stage.name}<br /><progress aria-label="Import progress" max={stage.size} value={stage.sent} /></label>{' '}
          <span className="muted small">{Math.floor((stage.sent / stage.size) * 100)}%</span>
        </p>
      )}
      {stage.kind === 'reading' && <p><label>Recognising and reading {stage.name}<br /><progress aria-label="Import progress" /></label></p>}
      {stage.kind === 'writing' && <p><label>Importing {plural(stage.count, 'entry', 'entries')}<br /><progress aria-label="Import progress" /></label></p>}

      {stage.kind === 'preview' && preview?.needsPassword && uploadId && (
        <form className="stack" onSubmit={(e) => { e.preventDefault(); void look(uploadId, stage.name, exportPassword, stage); }}>
          <p>{preview.label}: this export is encrypted.</p>
          <label className="field">Export password<input type="password" autoComplete="off" value={exportPassword} onChange={(e) => setExportPassword(e.target.value)} required /></label>
          <div className="dialog-actions"><button type="submit">Unlock export</button></div>
        </form>
      )}

      {stage.kind === 'preview' && preview?.needsMapping && (
        <form className="stack" onSubmit={(e) => { e.preventDefault(); setMapping({ ...draftMapping }); }}>
          <p>Which column holds what? The first guess is from the column names: check each before going on.</p>
          {CSV_TARGETS.map((target) => (
            <label key={target} className="field">
              {TARGET_LABELS[target]}
              <select
                aria-label={TARGET_LABELS[target]}
                value={draftMapping[target] ?? ''}
                onChange={(e) => setDraftMapping((m) => {
                  const next: Partial<Record<CsvTarget, string>> = { ...m };
                  if (e.target.value) next[target] = e.target.value;
                  else delete next[target];
                  return next;
                })}
                required={target === 'title'}
              >
                <option value="">{target === 'title' ? 'Choose a column…' : '— none —'}</option>
                {preview.columns.map((c) => <option key={c} value={c}>{c}</option>)}
              </select>
            </label>
          ))}
          <div className="dialog-actions"><button type="submit" disabled={!draftMapping.title}>Use these columns</button></div>
        </form>
      )}

      {stage.kind === 'preview' && preview && !preview.needsPassword && !preview.needsMapping && (
        <>
          <p>{stage.name}: <strong>{preview.label}</strong></p>
          <fieldset className="stack">
            <legend>Where the entries go</legend>
            <label className="field">
              Access group
              <select value={groupId ?? ''} onChange={(e) => setGroupId(e.target.value ? Number(e.target.value) : null)} required>
                {groupId === null && <option value="">Choose a group…</option>}
                {groups.map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
              </select>
            </label>
            <label><input type="radio" name="customer-mode" checked={customerMode === 'file'} onChange={() => setCustomerMode('file')} /> Each entry's folder, group or issuer as its customer</label>
            <label><input type="radio" name="customer-mode" checked={customerMode === 'one'} onChange={() => setCustomerMode('one')} /> One customer for every entry</label>
            {customerMode === 'one' && <label className="field">Customer<input value={customer} onChange={(e) => setCustomer(e.target.value)} required /></label>}
          </fieldset>

          <section aria-label="What would be imported">
            <h3>{plural(preview.total, 'entry', 'entries')} to import{preview.groupName ? ` into ${preview.groupName}` : ''}</h3>
            {preview.byCustomer.length > 0 && (
              <table className="table">
                <thead><tr><th scope="col">Customer</th><th scope="col">Entries</th></tr></thead>
                <tbody>{preview.byCustomer.map((c) => <tr key={c.customer}><td>{c.customer}</td><td>{c.count}</td></tr>)}</tbody>
              </table>
            )}
          </section>
          {preview.problems.length > 0 && (
            <section aria-label="Entries that cannot be imported">
              <h3>Cannot be imported: {plural(preview.problems.length, 'entry', 'entries')}</h3>
              <ul>{preview.problems.map((p, i) => <li key={i}><strong>{p.where}</strong>: {p.message}</li>)}</ul>
              <label><input type="checkbox" checked={skipProblems} onChange={(e) => setSkipFor(e.target.checked ? problemsShown : null)} /> Import the other entries without these</label>
            </section>
          )}
          {preview.duplicates.length > 0 && (
            <section aria-label="Already in the vault">
              <h3>Already in the vault: {plural(preview.duplicates.length, 'entry', 'entries')}</h3>
              <ul>{preview.duplicates.map((p, i) => <li key={i}><strong>{p.where}</strong>: {p.message}</li>)}</ul>
              <label><input type="checkbox" checked={includeDuplicates} onChange={(e) => setIncludeDuplicates(e.target.checked)} /> Import these too</label>
            </section>
          )}
          {preview.warnings.length > 0 && (
            <section aria-label="Warnings">
              <h3>Warnings</h3>
              <ul>{preview.warnings.map((w, i) => <li key={i}>{w}</li>)}</ul>
            </section>
          )}
        </>
      )}

      {error && <p role="alert" className="error">{error}</p>}
      <div className="dialog-actions">
        <button type="button" onClick={onClose} disabled={stage.kind === 'writing'}>Cancel</button>
        {stage.kind === 'preview' && mapping && !preview?.needsMapping && (
          <button type="button" onClick={() => { setDraftMapping(mapping); setMapping(null); }}>Change columns</button>
        )}
        {stage.kind === 'preview' && preview && !preview.needsPassword && !preview.needsMapping && (
          <button type="button" onClick={() => void commit()} disabled={!canCommit}>
            {groupId === null ? 'Choose a group to import' : `Import ${plural(preview.total, 'entry', 'entries')}`}
          </button>
        )}
      </div>
    </div>
  );
}
