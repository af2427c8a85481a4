/**
 * The entry list, virtualised: rows have one height, so only the rows in view (plus a few)
 * exist in the DOM — 100,000 entries scroll like 100. Rows out of view unmount, so their
 * codes stop being asked for. A row shows its live code only once the rows in view have held
 * still for a moment: rows that fly past while scrolling, or come and go while someone types
 * a search, never mount a code (nor ask for one). Arrows move the selection; Enter copies its
 * code; ArrowUp on the first row goes back to the search box (`onLeaveTop`). Where the person
 * may move entries between groups (`marking`), each row has a checkbox and Space marks the
 * selected row; where they hold several groups, each row names its group.
 */
import { memo, useEffect, useImperativeHandle, useRef, useState, type KeyboardEvent, type ReactNode, type Ref } from 'react';
import type { EntrySummary } from '../../shared/model';
import type { Connection } from '../client';
import type { ListedEntries } from '../listed-entries';
import { OtpCode } from './OtpCode';

export const ROW_HEIGHT = 56;
const OVERSCAN = 6;
/** How long the rows in view must hold still before their codes appear. */
const SETTLE_MS = 150;

/** What the search box may do to the list: ArrowDown there lands here. */
export interface EntryListHandle {
  /** Scrolls to the first row and takes focus, for the selection the caller has just made there. */
  enterAtTop(): void;
}

interface Props {
  readonly handle?: Ref<EntryListHandle>;
  readonly connection: Connection;
  readonly entries: ListedEntries;
  readonly selectedId: number | null;
  readonly onSelect: (id: number) => void;
  readonly onCopyCode: (id: number) => void;
  readonly onOpenCode: (entry: EntrySummary) => void;
  readonly canSeeCodes: boolean;
  readonly onLeaveTop?: () => void;
  /** Marking rows for a move to another group (team leads); absent: no checkboxes. */
  readonly marking?: Marking | undefined;
  /** A group's name, shown on each row (absent when the person holds one group). */
  readonly groupName?: ((groupId: number) => string | undefined) | undefined;
}

export interface Marking {
  readonly marked: ReadonlySet<number>;
  readonly onMark: (id: number, on: boolean) => void;
}

export const EntryList = memo(function EntryList({ handle, connection, entries, selectedId, onSelect, onCopyCode, onOpenCode, canSeeCodes, onLeaveTop, marking, groupName }: Props) {
  const viewport = useRef<HTMLDivElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  /**
   * Entries whose rows have been in view for SETTLE_MS, each at the place it held then: only
   * these show a live code, and only at that place. An entry a keystroke moves to another place
   * is drawn by another slot, whose code would be a new OtpCode asking the vault at once, in the
   * keystroke's own commit (a request per moved row: a few ms of a search keystroke); it waits
   * for the next settle like any row coming into view.
   */
  const [settled, setSettled] = useState<ReadonlyMap<number, number>>(() => new Map());
  const inView = useRef<Array<[id: number, place: number]>>([]);

  useEffect(() => {
    const element = viewport.current;
    if (!element) return undefined;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    setHeight(element.clientHeight);
    return () => observer.disconnect();
  }, []);

  // A selection the list starts with (unlocking returns to it) is scrolled into view once, when
  // the rows first arrive; later selections are the person's, made where they are looking.
  const revealed = useRef(false);
  useEffect(() => {
    const element = viewport.current;
    if (revealed.current || !element || entries.length === 0) return;
    revealed.current = true;
    const top = entries.placeOf(selectedId) * ROW_HEIGHT;
    if (top + ROW_HEIGHT > element.clientHeight) element.scrollTop = top - element.clientHeight / 2;
  }, [entries, selectedId]);

  useImperativeHandle(handle, () => ({
    enterAtTop() {
      if (viewport.current) viewport.current.scrollTop = 0;
      list.current?.focus({ preventScroll: true });
    },
  }), []);

  function moveTo(index: number) {
    const place = Math.max(0, Math.min(entries.length - 1, index));
    const entry = entries.at(place);
    if (!entry) return;
    onSelect(entry.id);
    const element = viewport.current;
    const top = place * ROW_HEIGHT;
    if (element && (top < element.scrollTop || top + ROW_HEIGHT > element.scrollTop + element.clientHeight)) {
      element.scrollTop = top - element.clientHeight / 2;
    }
  }

  function onKeyDown(event: KeyboardEvent) {
    // Looked up on a key only: a render never scans the list for the selection.
    const selectedIndex = entries.placeOf(selectedId);
    if (event.key === 'ArrowDown') moveTo(selectedIndex + 1);
    else if (event.key === 'ArrowUp' && selectedIndex === 0 && onLeaveTop) onLeaveTop();
    else if (event.key === 'ArrowUp') moveTo(selectedIndex - 1);
    else if (event.key === 'Home') moveTo(0);
    else if (event.key === 'End') moveTo(entries.length - 1);
    else if (event.key === 'Enter') {
      // The selected entry even when a search typed since hides it: the details show it still.
      const entry = entries.find(selectedId);
      if (entry?.otp && canSeeCodes) onCopyCode(entry.id);
    } else if (event.key === ' ' && marking && selectedId !== null) {
      marking.onMark(selectedId, !marking.marked.has(selectedId));
    } else return;
    event.preventDefault();
  }

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(entries.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);

  // One timer for the whole list, restarted whenever what is in view changes.
  useEffect(() => {
    const timer = setTimeout(() => setSettled(new Map(inView.current)), SETTLE_MS);
    return () => clearTimeout(timer);
  }, [first, last, entries]);

  // Rows are keyed by their slot, not their entry: a keystroke that changes which entries are
  // in view updates the same few elements in place instead of removing and creating them all
  // (about half a search keystroke's work in the page at 100,000 entries), and a scroll moves
  // only the rows that wrap round. Any run of `slots` places has distinct slots.
  const slots = Math.ceil(height / ROW_HEIGHT) + 2 * OVERSCAN + 2;
  const rows: ReactNode[] = [];
  const ids: Array<[number, number]> = [];
  for (let place = first; place < last; place++) {
    const entry = entries.at(place);
    if (!entry) continue;
    ids.push([entry.id, place]);
    rows.push(
      <EntryRow
        key={place % slots}
        connection={connection}
        entry={entry}
        top={place * ROW_HEIGHT}
        selected={entry.id === selectedId}
        settled={settled.get(entry.id) === place}
        onSelect={onSelect}
        onCopyCode={onCopyCode}
        onOpenCode={onOpenCode}
        canSeeCodes={canSeeCodes}
        marked={marking ? marking.marked.has(entry.id) : undefined}
        onMark={marking?.onMark}
        group={groupName?.(entry.groupId)}
      />,
    );
  }

  inView.current = ids;

  return (
    // A plain list, not a listbox: each row holds buttons (copy, open), which an ARIA option
    // may not. The list takes focus for the arrow keys; the selected row is aria-current.
    <div ref={viewport} className="entry-list" onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
      <ul
        ref={list}
        className="entry-rows"
        aria-label="Entries"
        tabIndex={0}
        onKeyDown={onKeyDown}
        style={{ height: entries.length * ROW_HEIGHT }}
      >
        {rows}
      </ul>
    </div>
  );
});

interface RowProps {
  readonly connection: Connection;
  readonly entry: EntrySummary;
  readonly top: number;
  readonly selected: boolean;
  /** In view long enough to show its live code. */
  readonly settled: boolean;
  readonly onSelect: (id: number) => void;
  readonly onCopyCode: (id: number) => void;
  readonly onOpenCode: (entry: EntrySummary) => void;
  readonly canSeeCodes: boolean;
  /** Undefined: the row has no checkbox. */
  readonly marked: boolean | undefined;
  readonly onMark: ((id: number, on: boolean) => void) | undefined;
  readonly group: string | undefined;
}

/** One row. Memoised: a keystroke that keeps a row in view (same entry, same place) skips it. */
const EntryRow = memo(function EntryRow({ connection, entry, top, selected, settled, onSelect, onCopyCode, onOpenCode, canSeeCodes, marked, onMark, group }: RowProps) {
  return (
    <li
      id={`entry-${entry.id}`}
      aria-current={selected ? 'true' : undefined}
      className={`entry-row${selected ? ' selected' : ''}`}
      style={{ top, height: ROW_HEIGHT }}
      onClick={(e) => {
        // Clicks on the row's own buttons and checkbox act on their own; anywhere else selects.
        if (!(e.target instanceof Element && e.target.closest('button, input'))) onSelect(entry.id);
      }}
    >
      {marked !== undefined && onMark && (
        <input type="checkbox" className="entry-mark" aria-label={`Mark ${entry.title} (${entry.customer})`} checked={marked} onChange={(e) => onMark(entry.id, e.target.checked)} />
      )}
      <div className="entry-text">
        <div className="entry-title">{entry.title}</div>
        <div className="muted small">{entry.customer}{entry.username ? ` · ${entry.username}` : ''}{group ? ` · ${group}` : ''}</div>
      </div>
      {entry.otp && canSeeCodes && (
        <div className="row">
          {/* Keyed by entry and updatedAt: a slot that shows another entry never shows the last one's
              code, and an edited secret key must show its code now, not at the next period. */}
          {settled
            ? <OtpCode key={`${entry.id}@${entry.updatedAt}`} connection={connection} entryId={entry.id} kind={entry.otp.kind} onCopy={onCopyCode} />
            : <span className="muted" aria-busy="true">······</span>}
          <button type="button" aria-label={`Open code of ${entry.title}`} onClick={() => onOpenCode(entry)}>⤢</button>
        </div>
      )}
    </li>
  );
});
