// @vitest-environment jsdom
/**
 * The countdown bar: a progressbar whose value is the whole seconds left and whose maximum is
 * the period, turning to the warning colour in the last 5 s. Driven here the way the app
 * drives it — from the one shared ticker (useNow) — with the clock faked, never slept on.
 */
import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CountdownBar, WARNING_SECONDS } from '../../renderer/components/CountdownBar';
import { useNow } from '../../renderer/hooks/useNow';

const PERIOD_START = Date.UTC(2026, 0, 1, 12, 0, 0); // a multiple of 30 s

/** What OtpCode does: whole seconds left until `validUntil`, on the shared ticker. */
function LiveBar({ validUntil, period }: { validUntil: number; period: number }) {
  const now = useNow();
  return <CountdownBar secondsLeft={Math.max(0, Math.ceil((validUntil - now) / 1000))} period={period} />;
}

function bar(): HTMLElement {
  return screen.getByRole('progressbar', { name: 'Seconds until the code changes' });
}

describe('CountdownBar', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(PERIOD_START);
  });
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it('reports the seconds left and the period as ARIA values', () => {
    render(<CountdownBar secondsLeft={17} period={30} />);
    expect(bar().getAttribute('aria-valuemin')).toBe('0');
    expect(bar().getAttribute('aria-valuemax')).toBe('30');
    expect(bar().getAttribute('aria-valuenow')).toBe('17');
    expect(bar().dataset.warning).toBe('false');
    expect(bar().className).toBe('countdown');
    expect(parseFloat((bar().firstElementChild as HTMLElement).style.width)).toBeCloseTo((100 * 17) / 30, 3);
  });

  it('keeps the value within 0 and the period', () => {
    const { rerender } = render(<CountdownBar secondsLeft={45} period={30} />);
    expect(bar().getAttribute('aria-valuenow')).toBe('30');
    rerender(<CountdownBar secondsLeft={-3} period={30} />);
    expect(bar().getAttribute('aria-valuenow')).toBe('0');
    expect((bar().firstElementChild as HTMLElement).style.width).toBe('0%');
  });

  it('turns to the warning state in the last 5 s, not before', () => {
    const { rerender } = render(<CountdownBar secondsLeft={WARNING_SECONDS + 1} period={30} />);
    expect(bar().dataset.warning).toBe('false');
    expect(bar().classList.contains('warning')).toBe(false);
    for (const left of [5, 4, 3, 2, 1, 0]) {
      rerender(<CountdownBar secondsLeft={left} period={30} />);
      expect(bar().dataset.warning).toBe('true');
      expect(bar().classList.contains('warning')).toBe(true);
    }
    expect(WARNING_SECONDS).toBe(5);
  });

  it('follows any period, 60 s included', () => {
    render(<CountdownBar secondsLeft={42} period={60} />);
    expect(bar().getAttribute('aria-valuemax')).toBe('60');
    expect(bar().getAttribute('aria-valuenow')).toBe('42');
    expect((bar().firstElementChild as HTMLElement).style.width).toBe('70%');
  });

  it('counts down second by second on the shared ticker and warns for the last 5', () => {
    render(<LiveBar validUntil={PERIOD_START + 30_000} period={30} />);
    expect(bar().getAttribute('aria-valuenow')).toBe('30');
    const seen: string[] = [];
    for (let elapsed = 0; elapsed < 30_000; elapsed += 250) {
      act(() => { vi.advanceTimersByTime(250); });
      const value = bar().getAttribute('aria-valuenow') ?? '';
      if (seen.at(-1) !== value) seen.push(value);
      expect(bar().dataset.warning).toBe(String(Number(value) <= 5));
    }
    // Every whole second from 30 down to 0, none skipped, none repeated.
    expect(seen).toEqual(Array.from({ length: 31 }, (_, i) => String(30 - i)));
  });

  it('shows a whole second while part of one is left', () => {
    render(<LiveBar validUntil={PERIOD_START + 30_000} period={30} />);
    act(() => { vi.advanceTimersByTime(24_750); }); // 5.25 s left
    expect(bar().getAttribute('aria-valuenow')).toBe('6');
    expect(bar().dataset.warning).toBe('false');
    act(() => { vi.advanceTimersByTime(250); }); // exactly 5 s left
    expect(bar().getAttribute('aria-valuenow')).toBe('5');
    expect(bar().dataset.warning).toBe('true');
  });

  it('shares one interval between every bar on screen, and stops it with the last', () => {
    const { unmount } = render(
      <>
        <LiveBar validUntil={PERIOD_START + 30_000} period={30} />
        <LiveBar validUntil={PERIOD_START + 10_000} period={30} />
        <LiveBar validUntil={PERIOD_START + 60_000} period={60} />
      </>,
    );
    expect(vi.getTimerCount()).toBe(1);
    act(() => { vi.advanceTimersByTime(6_000); });
    expect(screen.getAllByRole('progressbar').map((b) => b.getAttribute('aria-valuenow'))).toEqual(['24', '4', '54']);
    unmount();
    expect(vi.getTimerCount()).toBe(0);
  });
});
