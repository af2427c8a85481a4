/**
 * Customers with their entry counts. Memoised: typing in the search box re-renders the list,
 * not thousands of customer buttons.
 */
import { memo } from 'react';
import type { CustomerView } from '../../shared/model';

interface Props {
  readonly customers: readonly CustomerView[];
  readonly total: number;
  readonly selected: number | null;
  readonly onSelect: (customerId: number | null) => void;
}

export const CustomerSidebar = memo(function CustomerSidebar({ customers, total, selected, onSelect }: Props) {
  return (
    <nav className="sidebar" aria-label="Customers">
      <button type="button" className={selected === null ? 'current' : ''} aria-current={selected === null} onClick={() => onSelect(null)}>
        All customers <span className="count">{total}</span>
      </button>
      {customers.filter((c) => c.entryCount > 0).map((c) => (
        <button type="button" key={c.id} className={selected === c.id ? 'current' : ''} aria-current={selected === c.id} onClick={() => onSelect(c.id)}>
          {c.name} <span className="count">{c.entryCount}</span>
        </button>
      ))}
    </nav>
  );
});
