/**
 * Customers with their entry counts. Memoised (typing in the search box re-renders the list,
 * not the customers) and windowed like the entry list: an MSP's 5,000 customers as buttons
 * cost ~0.4 s to render and lay out, so only those in view (plus a few) exist in the DOM.
 * Rows have one height; a long name ends in an ellipsis and shows whole on hover.
 * In a window under 900 px wide there is no room for a column: the customers become a picker
 * above the list, with the same filter.
 */
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import type { CustomerView } from '../../shared/model';
import { useMediaQuery } from '../hooks/useMediaQuery';

/** The width under which the sidebar gives way to a picker (styles.css says the same). */
export const NARROW_WINDOW = '(max-width: 900px)';

export const CUSTOMER_ROW_HEIGHT = 30;
const OVERSCAN = 8;

interface Props {
  readonly customers: readonly CustomerView[];
  readonly total: number;
  readonly selected: number | null;
  readonly onSelect: (customerId: number | null) => void;
}

export const CustomerSidebar = memo(function CustomerSidebar(props: Props) {
  return useMediaQuery(NARROW_WINDOW) ? <CustomerPicker {...props} /> : <CustomerColumn {...props} />;
});

function CustomerPicker({ customers, total, selected, onSelect }: Props) {
  const listed = useMemo(() => customers.filter((c) => c.entryCount > 0), [customers]);
  return (
    <label className="customer-picker inline">
      Customer
      <select value={selected ?? ''} onChange={(e) => onSelect(e.target.value === '' ? null : Number(e.target.value))}>
        <option value="">All customers ({total})</option>
        {listed.map((c) => <option key={c.id} value={c.id}>{c.name} ({c.entryCount})</option>)}
      </select>
    </label>
  );
}

function CustomerColumn({ customers, total, selected, onSelect }: Props) {
  const viewport = useRef<HTMLElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const listed = useMemo(() => customers.filter((c) => c.entryCount > 0), [customers]);

  useEffect(() => {
    const element = viewport.current;
    if (!element) return undefined;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    setHeight(element.clientHeight);
    return () => observer.disconnect();
  }, []);

  // The "All customers" button scrolls with the rows above them; close enough for the window.
  const first = Math.max(0, Math.floor(scrollTop / CUSTOMER_ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(listed.length, Math.ceil((scrollTop + height) / CUSTOMER_ROW_HEIGHT) + OVERSCAN);

  return (
    <nav ref={viewport} className="sidebar" aria-label="Customers" onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
      <button type="button" className={selected === null ? 'current' : ''} aria-current={selected === null} onClick={() => onSelect(null)}>
        All customers <span className="count">{total}</span>
      </button>
      <div className="sidebar-rows" style={{ height: listed.length * CUSTOMER_ROW_HEIGHT }}>
        {listed.slice(first, last).map((c, i) => (
          <button
            type="button"
            key={c.id}
            className={selected === c.id ? 'current' : ''}
            aria-current={selected === c.id}
            title={c.name}
            style={{ top: (first + i) * CUSTOMER_ROW_HEIGHT, height: CUSTOMER_ROW_HEIGHT }}
            onClick={() => onSelect(c.id)}
          >
            <span className="sidebar-name">{c.name}</span> <span className="count">{c.entryCount}</span>
          </button>
        ))}
      </div>
    </nav>
  );
}
