/**
 * How long a code stays valid: a progressbar whose value is the whole seconds left, turning
 * to the warning colour in the last 5 s. Animated from the shared ticker, never polled.
 */
export const WARNING_SECONDS = 5;

interface Props {
  readonly secondsLeft: number;
  readonly period: number;
}

export function CountdownBar({ secondsLeft, period }: Props) {
  const clamped = Math.max(0, Math.min(period, secondsLeft));
  const warning = clamped <= WARNING_SECONDS;
  return (
    <div
      className={`countdown${warning ? ' warning' : ''}`}
      role="progressbar"
      aria-label="Seconds until the code changes"
      aria-valuemin={0}
      aria-valuemax={period}
      aria-valuenow={clamped}
      data-warning={warning}
    >
      <div className="countdown-fill" style={{ width: `${period > 0 ? (100 * clamped) / period : 0}%` }} />
    </div>
  );
}
