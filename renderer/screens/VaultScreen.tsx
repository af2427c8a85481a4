/**
 * The vault a technician lives in: customers in a sidebar (with counts), a search box
 * (Ctrl/Cmd+F) filtering as you type across customer, title, username and URL, the
 * virtualised entry list with live codes, the selected entry's details, and the dialogs
 * (add/edit, delete, the OTP popup). The list is fetched once, as columns; filtering happens
 * here, in the keystroke's own render, so the box and its results paint in the same frame. (It
 * was deferred behind the keystroke, useDeferredValue: a second render of the whole screen and
 * a task or more in between for each keystroke, and no frame won while a keystroke's search and
 * rows take a few milliseconds at 100,000 entries: bench:ui, issue #11.)
 *
 * The keyboard path: the search box has focus on arrival; type, ArrowDown selects the first
 * match and enters the list, Enter copies its code, Ctrl/Cmd+Shift+U and +P its username and
 * password (EntryDetails). The line after a copy says what was copied.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent as ReactKeyboardEvent, type ReactNode } from 'react';
import type { SessionState } from '../../shared/api/contract';
import { entryAt, tableSize, unpackTable } from '../../shared/entry-table';
import type { CustomerView, EntryDetails as Details, EntrySummary, EntryTable, GroupSummary } from '../../shared/model';
import type { Connection } from '../client';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { EntryDetails, type CopyField } from '../components/EntryDetails';
import { EntryForm } from '../components/EntryForm';
import { EntryList, type EntryListHandle } from '../components/EntryList';
import { Modal } from '../components/Modal';
import { MoveBar } from '../components/MoveBar';
import { CustomerSidebar } from '../components/CustomerSidebar';
import { OtpCode } from '../components/OtpCode';
import { importedLine, VaultTransfer } from '../components/VaultTransfer';
import { onlyGroup, suggestGroup } from '../entry-group';
import { useCall } from '../hooks/useCall';
import { useTeamTakenIn } from '../hooks/useTeamTakenIn';
import { useCopy } from '../hooks/useCopy';
import { afterNextPaint } from '../after-paint';
import { ListedEntries } from '../listed-entries';
import { prepareSearch, Searcher } from '../search';
import { isShortcut, SHORTCUTS } from '../shortcuts';

/** Where the person is in the list: what unlocking returns them to (App keeps it, in memory only). */
export interface VaultView {
  readonly search: string;
  readonly customerId: number | null;
  readonly groupFilter: number | null;
  readonly selectedId: number | null;
}

/** The entry list asked for ahead of the screen (App, with a sign-in's answer), and when. */
export interface FirstList {
  readonly askedAt: number;
  readonly reply: ReturnType<Connection['api']['entries']['list']>;
}

interface Props {
  readonly connection: Connection;
  readonly state: SessionState;
  /** The shared top bar, with this screen's search and "Add entry" inside it. */
  readonly topBar: (children: ReactNode) => ReactNode;
  /** Where to start (the view before a lock); the empty search otherwise. */
  readonly view?: VaultView | null;
  /** Told of every change of view. */
  readonly onView?: (view: VaultView) => void;
  /** The list App asked for with the sign-in's answer, if it did: the first load takes it. */
  readonly takeFirstList?: () => FirstList | null;
}

type Dialog =
  | { kind: 'add' }
  | { kind: 'edit'; entry: Details }
  | { kind: 'delete'; entry: Details }
  | { kind: 'remove-otp'; entry: Details }
  | { kind: 'code'; entry: EntrySummary };

/** The line after a copy: what was copied, never the value. */
const COPIED: Record<CopyField, string> = { otpCode: 'Code copied', username: 'Username copied', password: 'Password copied' };

export function VaultScreen({ connection, state, topBar, view, onView, takeFirstList }: Props) {
  const { api } = connection;
  const permissions = state.permissions;
  const [table, setTable] = useState<EntryTable | null>(null);
  /** When the list shown was asked for (Date.now()), for useTeamTakenIn; null until the first answer. */
  const [listedSince, setListedSince] = useState<number | null>(null);
  const [customers, setCustomers] = useState<CustomerView[]>([]);
  const [groups, setGroups] = useState<GroupSummary[]>([]);
  const [customerId, setCustomerId] = useState<number | null>(view?.customerId ?? null);
  const [search, setSearch] = useState(view?.search ?? '');
  const [selectedId, setSelectedId] = useState<number | null>(view?.selectedId ?? null);
  const [detailsVersion, setDetailsVersion] = useState(0);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [toast, setToast] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** The list's group filter (people in several groups), null for all. */
  const [groupFilter, setGroupFilter] = useState<number | null>(view?.groupFilter ?? null);
  /** Rows a team lead marked to move to another group. */
  const [marked, setMarked] = useState<ReadonlySet<number>>(() => new Set());
  const searchBox = useRef<HTMLInputElement>(null);
  const list = useRef<EntryListHandle>(null);
  /** ArrowDown (then Enter) pressed in the search box before the list had arrived. */
  const typedAhead = useRef<'enter' | 'copy' | null>(null);
  const call = useCall();

  const load = useCallback(async () => {
    const first = takeFirstList?.() ?? { askedAt: Date.now(), reply: api.entries.list({}) };
    // The list first and alone: the sidebar's customers and the groups are asked once its rows
    // have painted, so the main process does not answer them between the list's answer and its
    // last byte (its 7 MB at 100,000 entries go out only while the main process is free), nor
    // the page take their answers while it draws the rows. The sidebar fills a moment after.
    const packed = await call(first.reply, setError);
    if (packed) setTable(unpackTable(packed));
    // Also after a refused list: a round that takes changes in then reads it again.
    setListedSince(first.askedAt);
    await new Promise<void>((painted) => afterNextPaint(painted));
    await Promise.all([
      api.customers.list({}).then((reply) => reply.ok && setCustomers(reply.value)),
      api.groups.list({}).then((reply) => reply.ok && setGroups(reply.value)),
    ]);
  }, [api, call, takeFirstList]);

  useEffect(() => {
    void load();
  }, [load]);
  // Others' changes a team-sync round took in (live sync) show without leaving the page.
  useTeamTakenIn(api, () => void load(), listedSince);

  useEffect(() => onView?.({ search, customerId, groupFilter, selectedId }), [onView, search, customerId, groupFilter, selectedId]);

  // Back from a lock with a search kept: its text is selected, so it still narrows the list and
  // ArrowDown still enters it, and the first key typed starts a new query instead of adding to the
  // old one (else "globex" after a kept "mail" found nothing, and the four-key path took five).
  useEffect(() => {
    if (view?.search) searchBox.current?.select();
    // The view the screen started from only.
  }, []);

  useEffect(() => {
    function onKey(event: KeyboardEvent) {
      if (isShortcut(event, 'search')) {
        event.preventDefault();
        searchBox.current?.focus();
        searchBox.current?.select();
      }
    }
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // Search is readied once the list has painted, not before (a keystroke before that builds the index itself).
  useEffect(() => (table ? prepareSearch(table) : undefined), [table]);

  const searcher = useRef(new Searcher());
  const shown = useMemo(() => {
    if (!table) return null;
    const found = searcher.current.search(table, customerId, search);
    return new ListedEntries(table, groupFilter === null ? found : onlyGroup(table, found, groupFilter));
  }, [table, search, customerId, groupFilter]);

  const copyThrough = useCopy(connection.transport);
  const copy = useCallback(async (entryId: number, what: CopyField) => {
    if (what !== 'username') return copyThrough(api.secrets.copy({ id: entryId, what }), COPIED[what], setToast);
    // Not a secret: the page shows it already, so the vault copies the list's text (and clears it likewise).
    const username = table?.username[table.id.indexOf(entryId)];
    if (username) await copyThrough(api.clipboard.copy({ text: username }), COPIED.username, setToast);
  }, [api, copyThrough, table]);
  const copyCode = useCallback((entryId: number) => void copy(entryId, 'otpCode'), [copy]);
  const onCopy = useCallback((entryId: number, what: CopyField) => void copy(entryId, what), [copy]);
  const backToSearch = useCallback(() => searchBox.current?.focus(), []);
  const openCode = useCallback((entry: EntrySummary) => setDialog({ kind: 'code', entry }), []);

  /**
   * ArrowDown in the search box: the first match of what is typed is selected and the list
   * takes focus. Asked of the searcher for what the box holds (its kept result: no second
   * search), so it is the first of the typed text's results whatever the list last drew.
   */
  function enterList(event: ReactKeyboardEvent<HTMLInputElement>) {
    if (!table) {
      // Typed ahead of the list (just signed in, the list still on its way): ArrowDown, then
      // Enter, are kept and done once it arrives, rather than lost.
      if (event.key === 'ArrowDown') typedAhead.current = 'enter';
      else if (event.key === 'Enter' && typedAhead.current === 'enter') typedAhead.current = 'copy';
      else return;
      event.preventDefault();
      return;
    }
    if (event.key !== 'ArrowDown') return;
    const first = firstMatch(table, search);
    if (!first) return;
    event.preventDefault();
    setSelectedId(first.id);
    list.current?.enterAtTop();
  }

  function firstMatch(of: EntryTable, text: string): EntrySummary | undefined {
    const found = searcher.current.search(of, customerId, text);
    return new ListedEntries(of, groupFilter === null ? found : onlyGroup(of, found, groupFilter)).at(0);
  }

  // The keys typed ahead of the list, done now it is here (with the search as typed by then).
  useEffect(() => {
    const pending = typedAhead.current;
    if (!table || pending === null) return;
    typedAhead.current = null;
    const first = firstMatch(table, searchBox.current?.value ?? search);
    if (!first) return;
    setSelectedId(first.id);
    list.current?.enterAtTop();
    if (pending === 'copy' && first.otp && can('otp.view')) copyCode(first.id);
    // Only the list's arrival runs this; the rest is read as it is then.
  }, [table]);

  useEffect(() => {
    if (!toast) return undefined;
    const timer = window.setTimeout(() => setToast(null), 4000);
    return () => window.clearTimeout(timer);
  }, [toast]);

  async function confirmDelete(entry: Details) {
    const deleted = await call(api.entries.delete({ id: entry.id, baseRevision: entry.revision }), setError);
    setDialog(null);
    if (!deleted) return;
    setSelectedId(null);
    await load();
  }

  async function confirmRemoveOtp(entry: Details) {
    const updated = await call(api.entries.update({ id: entry.id, baseRevision: entry.revision, changes: { otp: null } }), setError);
    setDialog(null);
    if (!updated) return;
    setDetailsVersion((v) => v + 1);
    await load();
  }

  const can = (p: (typeof permissions)[number]) => permissions.includes(p);
  const canMove = can('groups.manage') && groups.length > 1;
  const groupNames = useMemo(() => new Map(groups.map((g) => [g.id, g.name])), [groups]);
  const groupName = useCallback((id: number) => groupNames.get(id), [groupNames]);
  const mark = useCallback((id: number, on: boolean) => setMarked((was) => {
    const next = new Set(was);
    if (on) next.add(id);
    else next.delete(id);
    return next;
  }), []);
  const marking = useMemo(() => (canMove ? { marked, onMark: mark } : undefined), [canMove, marked, mark]);
  // One pass of Set lookups over the table (about a millisecond for 100,000), on each mark only.
  const markedEntries = useMemo(() => {
    const found: EntrySummary[] = [];
    if (!table || marked.size === 0) return found;
    for (let i = 0; i < tableSize(table); i++) {
      const entry = marked.has(table.id[i] ?? -1) ? entryAt(table, i) : undefined;
      if (entry) found.push(entry);
    }
    return found;
  }, [table, marked]);
  const selectedCustomer = customers.find((c) => c.id === customerId);

  return (
    <div className="vault">
      {topBar(
        <>
          <input
            ref={searchBox}
            aria-label="Search"
            type="search"
            placeholder={`Search customers, titles, usernames, URLs (${SHORTCUTS.search.label})`}
            title="ArrowDown enters the list: arrows move, Enter copies the code"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            onKeyDown={enterList}
            autoFocus
          />
          {can('entries.create') && <button type="button" onClick={() => setDialog({ kind: 'add' })}>Add entry</button>}
          <VaultTransfer connection={connection} state={state} groups={groups} onImported={(done) => { setToast(importedLine(done)); void load(); }} />
        </>,
      )}
      <div className="panes">
        <CustomerSidebar customers={customers} total={table ? tableSize(table) : 0} selected={customerId} onSelect={setCustomerId} />
        {/* data-query: the text whose results the rows are, for tests and benches to wait on. */}
        <main className="list-pane" data-query={search}>
          {error && <p role="alert" className="error">{error}</p>}
          {groups.length > 1 && (
            <label className="group-filter inline">
              Group
              <select value={groupFilter ?? ''} onChange={(e) => setGroupFilter(e.target.value === '' ? null : Number(e.target.value))}>
                <option value="">All groups</option>
                {groups.map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
              </select>
            </label>
          )}
          {canMove && markedEntries.length > 0 && (
            <MoveBar
              connection={connection}
              groups={groups}
              entries={markedEntries}
              onClear={() => setMarked(new Set())}
              onDone={(line) => { setMarked(new Set()); setToast(line); setDetailsVersion((v) => v + 1); void load(); }}
            />
          )}
          {table === null || shown === null ? (
            <p className="empty" aria-busy="true">Opening the vault…</p>
          ) : tableSize(table) === 0 ? (
            <div className="empty">
              <p>No entries yet.</p>
              {can('entries.create') && <button type="button" onClick={() => setDialog({ kind: 'add' })}>Add entry</button>}
            </div>
          ) : shown.length === 0 && groupFilter !== null ? (
            <div className="empty">
              <p>No entries of the group {groupName(groupFilter) ?? ''}{search.trim() ? <> match “{search}”</> : null}{customerId !== null ? <> for {selectedCustomer?.name ?? 'this customer'}</> : null}: the group filter is on.</p>
              <button type="button" onClick={() => setGroupFilter(null)}>Show all groups</button>
            </div>
          ) : shown.length === 0 && customerId !== null ? (
            // The filter hides what the search would find elsewhere: say so, and offer the way out.
            <div className="empty">
              <p>No entries of {selectedCustomer?.name ?? 'this customer'}{search.trim() ? <> match “{search}”</> : null}: the customer filter is on.</p>
              <button type="button" onClick={() => setCustomerId(null)}>Search all customers</button>
            </div>
          ) : shown.length === 0 ? (
            <p className="empty">No entries match “{search}”.</p>
          ) : (
            <EntryList
              handle={list}
              connection={connection}
              entries={shown}
              selectedId={selectedId}
              onSelect={setSelectedId}
              onCopyCode={copyCode}
              onOpenCode={openCode}
              canSeeCodes={can('otp.view')}
              onLeaveTop={backToSearch}
              marking={marking}
              groupName={groups.length > 1 ? groupName : undefined}
            />
          )}
        </main>
        <aside className="details-pane">
          {selectedId === null ? (
            <p className="empty">Select an entry to see its details.</p>
          ) : (
            <EntryDetails
              connection={connection}
              entryId={selectedId}
              permissions={permissions}
              groupName={groups.length > 1 ? groups.find((g) => g.id === shown?.find(selectedId)?.groupId)?.name : undefined}
              version={detailsVersion}
              onEdit={(entry) => setDialog({ kind: 'edit', entry })}
              onDelete={(entry) => setDialog({ kind: 'delete', entry })}
              onRemoveOtp={(entry) => setDialog({ kind: 'remove-otp', entry })}
              onCopy={onCopy}
            />
          )}
        </aside>
      </div>
      <div className="toast" role="status" aria-live="polite">{toast}</div>

      {(dialog?.kind === 'add' || dialog?.kind === 'edit') && (
        <Modal label={dialog.kind === 'add' ? 'Add entry' : 'Edit entry'} onClose={() => setDialog(null)} wide>
          <EntryForm
            connection={connection}
            customers={customers}
            groups={groups}
            {...(dialog.kind === 'edit' ? { entry: dialog.entry } : {})}
            {...(selectedCustomer ? { defaultCustomer: selectedCustomer.name } : {})}
            suggestGroup={(customer) => suggestGroup(table, customer, groups)}
            onCancel={() => setDialog(null)}
            onSaved={(saved) => {
              setDialog(null);
              const first = saved[0];
              if (first) setSelectedId(first.id);
              setDetailsVersion((v) => v + 1);
              void load();
            }}
          />
        </Modal>
      )}
      {dialog?.kind === 'delete' && (
        <ConfirmDialog title={`Delete ${dialog.entry.title} of ${dialog.entry.customer}?`} confirmLabel="Delete permanently" onCancel={() => setDialog(null)} onConfirm={() => void confirmDelete(dialog.entry)}>
          <p>The entry, its password and its secret key will be deleted and cannot be recovered.</p>
        </ConfirmDialog>
      )}
      {dialog?.kind === 'remove-otp' && (
        <ConfirmDialog title={`Remove the OTP of ${dialog.entry.title} (${dialog.entry.customer})?`} confirmLabel="Remove OTP permanently" onCancel={() => setDialog(null)} onConfirm={() => void confirmRemoveOtp(dialog.entry)}>
          <p>The secret key will be deleted and cannot be recovered; the rest of the entry stays.</p>
        </ConfirmDialog>
      )}
      {dialog?.kind === 'code' && dialog.entry.otp && (
        <Modal label={`Code for ${dialog.entry.title}`} onClose={() => setDialog(null)}>
          <h2>{dialog.entry.title}</h2>
          <p className="muted">{dialog.entry.customer}</p>
          <OtpCode connection={connection} entryId={dialog.entry.id} kind={dialog.entry.otp.kind} onCopy={copyCode} detailed large />
          <div className="dialog-actions"><button type="button" onClick={() => setDialog(null)}>Close</button></div>
        </Modal>
      )}
    </div>
  );
}
