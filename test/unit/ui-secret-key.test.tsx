// @vitest-environment jsdom
/**
 * The secret-key field: as the person types, the normalised key in groups of four; on a bad
 * character, which one and where, with the O/I/L/B hint, as an alert tied to the input; when
 * empty, the help line. The check is synchronous — no debounce to wait for — so fake timers
 * only guard against one creeping in.
 */
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkSecret, SecretKeyField } from '../../renderer/components/SecretKeyField';

const HELP = 'Letters A–Z and digits 2–7; spaces and hyphens are fine.';
const ALPHABET_RULE = '; a secret key uses only the letters A–Z and the digits 2–7.';

function Harness({ initial = '', onValue }: { initial?: string; onValue?: (value: string) => void }) {
  const [value, setValue] = useState(initial);
  return <SecretKeyField value={value} onChange={(v) => { setValue(v); onValue?.(v); }} />;
}

function input(): HTMLInputElement {
  return screen.getByRole<HTMLInputElement>('textbox', { name: 'Secret key' });
}

/** The line under the field, found the way assistive technology finds it. */
function checkLine(): HTMLElement {
  const id = input().getAttribute('aria-describedby') ?? '';
  const line = document.getElementById(id);
  if (!line) throw new Error(`no element #${id} describes the input`);
  return line;
}

function type(text: string): void {
  fireEvent.change(input(), { target: { value: text } });
  act(() => { vi.runOnlyPendingTimers(); });
}

describe('SecretKeyField', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it('shows the help line while empty, not an error', () => {
    render(<Harness />);
    expect(input().value).toBe('');
    expect(checkLine().textContent).toBe(HELP);
    expect(input().getAttribute('aria-invalid')).toBe('false');
    expect(screen.queryByRole('alert')).toBeNull();
    type('   ');
    expect(checkLine().textContent).toBe(HELP);
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('shows the normalised key in groups of four as it is typed', () => {
    const seen: string[] = [];
    render(<Harness onValue={(v) => seen.push(v)} />);
    type('jbsw y3dp ehpk 3pxp');
    expect(checkLine().textContent).toBe('JBSW Y3DP EHPK 3PXP');
    expect(input().value).toBe('jbsw y3dp ehpk 3pxp'); // what was typed stays as typed
    expect(seen).toEqual(['jbsw y3dp ehpk 3pxp']);
    expect(input().getAttribute('aria-invalid')).toBe('false');
    expect(screen.queryByRole('alert')).toBeNull();

    type('jbsw-y3dp-ehpk-3pxp-gezd-gnbv====');
    expect(checkLine().textContent).toBe('JBSW Y3DP EHPK 3PXP GEZD GNBV');
    type('  JBSWY3DPEHPK3PXPGEZDGNBVGY3TQOJQ\t');
    expect(checkLine().textContent).toBe('JBSW Y3DP EHPK 3PXP GEZD GNBV GY3T QOJQ');
  });

  it('warns about a short key but still shows it', () => {
    render(<Harness />);
    type('jbsw y3dp');
    const line = checkLine().textContent ?? '';
    expect(line.startsWith('JBSW Y3DP — ')).toBe(true);
    expect(line).toMatch(/bits/);
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('names a bad character and its position, with the hint for 0, as an alert', () => {
    render(<Harness />);
    type('jbsw y3dp ehpk 3pxo0');
    const alert = screen.getByRole('alert');
    expect(alert).toBe(checkLine());
    expect(alert.textContent).toBe(`Secret key has "0" at position 20 (did you mean the letter O?)${ALPHABET_RULE}`);
    expect(input().getAttribute('aria-invalid')).toBe('true');
  });

  it.each([
    ['jbsw1y3dp', '"1" at position 5 (did you mean the letter I or L?)'],
    ['8bsw', '"8" at position 1 (did you mean the letter B?)'],
    ['jbsw y3dp ehpk 3pxp!', '"!" at position 20'],
    ['  ab9c', '"9" at position 5'], // positions count what was typed, leading spaces included
    ['jb=sw', '"=" (padding belongs only at the end) at position 3'],
  ])('%s → %s', (typed, expected) => {
    render(<Harness />);
    type(typed);
    expect(screen.getByRole('alert').textContent).toBe(`Secret key has ${expected}${ALPHABET_RULE}`);
  });

  it('says so when a character is missing or doubled', () => {
    render(<Harness />);
    type('jbsw y3dp ehpk 3pxpp');
    expect(screen.getByRole('alert').textContent).toMatch(/^Secret key has 17 characters.*missing or doubled/);
  });

  it('clears the alert once the character is fixed, and the help line once emptied', () => {
    render(<Harness initial="jbsw y3dp ehpk 3pxo0" />);
    expect(screen.getByRole('alert')).toBeTruthy();
    type('jbsw y3dp ehpk 3pxo');
    expect(screen.queryByRole('alert')).toBeNull();
    expect(checkLine().textContent).toBe('JBSW Y3DP EHPK 3PXO');
    type('');
    expect(checkLine().textContent).toBe(HELP);
  });

  it('has one checker for the field and the form', () => {
    expect(checkSecret('')).toBeNull();
    expect(checkSecret('jbsw y3dp ehpk 3pxp')).toEqual({ ok: true, message: 'JBSW Y3DP EHPK 3PXP' });
    expect(checkSecret('jbsw0')?.ok).toBe(false);
  });
});
