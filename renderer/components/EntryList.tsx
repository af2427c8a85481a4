/**
 * The entry list, virtualised: rows have one height, so only the rows in view (plus a few)
 * exist in the DOM — 100,000 entries scroll like 100. Rows out of view unmount, so their
 * codes stop being asked for. Arrows move the selection; Enter copies its code.
 */
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { EntrySummary } from '../../shared/model';
import type { Connection } from '../App';
import { OtpCode } from './OtpCode';

export const ROW_HEIGHT = 56;
const OVERSCAN = 6;

interface Props {
  readonly connection: Connection;
  readonly entries: readonly EntrySummary[];
  readonly selectedId: number | null;
  readonly onSelect: (id: number) => void;
  readonly onCopyCode: (id: number) => void;
  readonly onOpenCode: (entry: EntrySummary) => void;
  readonly canSeeCodes: boolean;
}

export function EntryList({ connection, entries, selectedId, onSelect, onCopyCode, onOpenCode, canSeeCodes }: Props) {
  const viewport = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);

  useEffect(() => {
    const element = viewport.current;
    if (!element) return undefined;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    setHeight(element.clientHeight);
    return () => observer.disconnect();
  }, []);

  const selectedIndex = entries.findIndex((e) => e.id === selectedId);

  function moveTo(index: number) {
    const entry = entries[Math.max(0, Math.min(entries.length - 1, index))];
    if (!entry) return;
    onSelect(entry.id);
    const element = viewport.current;
    const top = entries.indexOf(entry) * ROW_HEIGHT;
    if (element && (top < element.scrollTop || top + ROW_HEIGHT > element.scrollTop + element.clientHeight)) {
      element.scrollTop = top - element.clientHeight / 2;
    }
  }

  function onKeyDown(event: KeyboardEvent) {
    if (event.key === 'ArrowDown') moveTo(selectedIndex + 1);
    else if (event.key === 'ArrowUp') moveTo(selectedIndex - 1);
    else if (event.key === 'Home') moveTo(0);
    else if (event.key === 'End') moveTo(entries.length - 1);
    else if (event.key === 'Enter') {
      const entry = entries[selectedIndex];
      if (entry?.otp && canSeeCodes) onCopyCode(entry.id);
    } else return;
    event.preventDefault();
  }

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(entries.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const visible = entries.slice(first, last);

  return (
    // A plain list, not a listbox: each row holds buttons (copy, open), which an ARIA option
    // may not. The list takes focus for the arrow keys; the selected row is aria-current.
    <div ref={viewport} className="entry-list" onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
      <ul
        className="entry-rows"
        aria-label="Entries"
        tabIndex={0}
        onKeyDown={onKeyDown}
        style={{ height: entries.length * ROW_HEIGHT }}
      >
        {visible.map((entry, i) => (
          <li
            key={entry.id}
            id={`entry-${entry.id}`}
            aria-current={entry.id === selectedId ? 'true' : undefined}
            className={`entry-row${entry.id === selectedId ? ' selected' : ''}`}
            style={{ top: (first + i) * ROW_HEIGHT, height: ROW_HEIGHT }}
            onClick={(e) => {
              // Clicks on the row's own buttons act on their own; anywhere else selects.
              if (!(e.target instanceof Element && e.target.closest('button'))) onSelect(entry.id);
            }}
          >
            <div className="entry-text">
              <div className="entry-title">{entry.title}</div>
              <div className="muted small">{entry.customer}{entry.username ? ` · ${entry.username}` : ''}</div>
            </div>
            {entry.otp && canSeeCodes && (
              <div className="row">
                {/* Keyed by updatedAt: an edited secret key must show its code now, not at the next period. */}
                <OtpCode key={entry.updatedAt} connection={connection} entryId={entry.id} kind={entry.otp.kind} onCopy={onCopyCode} settleMs={150} />
                <button type="button" aria-label={`Open code of ${entry.title}`} onClick={() => onOpenCode(entry)}>⤢</button>
              </div>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
