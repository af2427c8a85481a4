/**
 * The audit log for auditors, admins and owners: filter by person, action, what it was about
 * (customer or entry) and date. The list holds the newest LIST_LIMIT rows; Export CSV reads the
 * WHOLE log from the vault a page at a time (audit.export) with the same filters, code views
 * included — never the loaded list, and the words never say "all" of a page. Cells that a
 * spreadsheet would run as a formula are prefixed with an apostrophe. While a new desktop's
 * audit history is still arriving (team.status), the screen says the log is incomplete, with
 * how far it is, and reads the log again once it is in.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AuditExportPage, AuditRecord } from '../../shared/model';
import type { Connection } from '../client';
import { useCall } from '../hooks/useCall';
import { useTeamStatus } from '../hooks/useTeamStatus';
import { historyNotice } from './history-sentence';

export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function auditCsv(rows: readonly AuditRecord[]): string {
  const lines = [['time', 'person', 'action', 'detail'].join(',')];
  for (const r of rows) lines.push([new Date(r.at).toISOString(), r.actor ?? '', r.action, r.detail].map(csvCell).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * A live code shown on a screen: the one passive code action (the vault writes it once per entry
 * per session or 10 minutes). A code handed out on purpose has its own action, never hidden:
 * otp.copy (clipboard), otp.print (crewvault otp), otp.code_at (another step), otp.hotp (every
 * HOTP code, which uses up the counter).
 */
const CODE_VIEW = 'otp.code';

/** The newest rows the list loads (audit.list's most); the export is not bounded by it. */
const LIST_LIMIT = 10_000;

export function AuditScreen({ connection }: { connection: Connection }) {
  const { api } = connection;
  const [records, setRecords] = useState<AuditRecord[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [person, setPerson] = useState('');
  const [action, setAction] = useState('');
  const [about, setAbout] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  // A list row refreshes its code every period: those views bury what people did (copy, reveal,
  // edit, sign-in, admin acts), so they are hidden unless asked for. The export keeps them.
  const [showCodeViews, setShowCodeViews] = useState(false);
  const [exporting, setExporting] = useState(false);
  const call = useCall();

  const load = useCallback(() => {
    void call(api.audit.list({ limit: LIST_LIMIT }), setError).then((list) => list && setRecords(list));
  }, [api, call]);
  useEffect(() => load(), [load]);

  // A new desktop's audit history still arriving (taken in the background): said above the log,
  // which is read again once it is all in. Quiet on failure: no team server is no concern here.
  const quiet = useCallback(() => undefined, []);
  const { status } = useTeamStatus(api, quiet);
  const history = status?.history ?? null;
  const owed = useRef(false);
  useEffect(() => {
    if (history !== null) owed.current = true;
    else if (owed.current && status !== null) {
      owed.current = false;
      load();
    }
  }, [history, status, load]);

  const people = useMemo(() => [...new Set((records ?? []).map((r) => r.actor ?? ''))].filter(Boolean).sort(), [records]);
  const actions = useMemo(() => [...new Set((records ?? []).map((r) => r.action))].sort(), [records]);
  const matches = useMemo(() => {
    const needle = about.trim().toLowerCase();
    const start = from ? Date.parse(`${from}T00:00:00`) : Number.NEGATIVE_INFINITY;
    const end = to ? Date.parse(`${to}T23:59:59.999`) : Number.POSITIVE_INFINITY;
    return (r: AuditRecord): boolean => (!person || r.actor === person) && (!action || r.action === action) && (!needle || r.detail.toLowerCase().includes(needle)) && r.at >= start && r.at <= end;
  }, [person, action, about, from, to]);
  const filtered = useMemo(() => (records ?? []).filter(matches).reverse(), [records, matches]);
  const partial = (records?.length ?? 0) >= LIST_LIMIT;
  const shown = useMemo(() => (showCodeViews || action === CODE_VIEW ? filtered : filtered.filter((r) => r.action !== CODE_VIEW)), [filtered, showCodeViews, action]);
  const hiddenViews = filtered.length - shown.length;

  /** The whole log, page by page from the oldest row, under the screen's filters (code views kept). */
  async function exportCsv() {
    setExporting(true);
    const rows: AuditRecord[] = [];
    let after: number | null = 0;
    try {
      while (after !== null) {
        const page: AuditExportPage | undefined = await call(api.audit.export({ after }), setError);
        if (page === undefined) return;
        rows.push(...page.records.filter(matches));
        after = page.next;
      }
    } finally {
      setExporting(false);
    }
    const url = URL.createObjectURL(new Blob([auditCsv(rows.reverse())], { type: 'text/csv;charset=utf-8' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `crewvault-audit-${new Date().toISOString().slice(0, 10)}.csv`;
    link.click();
    URL.revokeObjectURL(url);
  }

  return (
    <main className="page">
      <h2>Audit log</h2>
      {error && <p role="alert" className="error">{error}</p>}
      {history && <p role="status" className="notice">{historyNotice(history)}</p>}
      {records?.some((r) => r.action === 'audit.anchor_broken') && (
        <p role="alert" className="error">This log was found rewritten outside Crewvault (see the "audit.anchor_broken" record). Restore the vault from a backup you trust and look into who had the file.</p>
      )}
      <div className="row wrap filters">
        <label>Person<select value={person} onChange={(e) => setPerson(e.target.value)}><option value="">Anyone</option>{people.map((p) => <option key={p}>{p}</option>)}</select></label>
        <label>Action<select value={action} onChange={(e) => setAction(e.target.value)}><option value="">Any</option>{actions.map((a) => <option key={a}>{a}</option>)}</select></label>
        <label>Customer or entry<input value={about} onChange={(e) => setAbout(e.target.value)} /></label>
        <label>From<input type="date" value={from} onChange={(e) => setFrom(e.target.value)} /></label>
        <label>To<input type="date" value={to} onChange={(e) => setTo(e.target.value)} /></label>
        <label className="inline"><input type="checkbox" checked={showCodeViews} onChange={(e) => setShowCodeViews(e.target.checked)} /> Show code views</label>
        <button type="button" onClick={() => void exportCsv()} disabled={records === null || records.length === 0 || exporting} aria-busy={exporting}>Export CSV</button>
      </div>
      {records === null ? <p aria-busy="true">Loading the audit log…</p> : (
        <table className="table">
          <caption className="sr-only">Audit records, newest first</caption>
          <thead><tr><th scope="col">Time</th><th scope="col">Person</th><th scope="col">Action</th><th scope="col">Detail</th></tr></thead>
          <tbody>
            {shown.slice(0, 2000).map((r) => (
              <tr key={r.id}><td className="mono small">{new Date(r.at).toLocaleString()}</td><td>{r.actor ?? '—'}</td><td>{r.action}</td><td>{r.detail}</td></tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="muted small">{shown.length} of {partial ? `the newest ${LIST_LIMIT.toLocaleString('en')}` : (records?.length ?? 0)} records{hiddenViews > 0 ? ` (${hiddenViews} code views hidden; the export has them)` : ''}{shown.length > 2000 ? ' (the newest 2,000 shown)' : ''}.{partial ? ' Older records are not loaded here; Export CSV reads the whole log.' : ''}</p>
    </main>
  );
}
