/**
 * A live code as the list, the details and the popup show it: grouped for reading (123 456),
 * a countdown bar with the seconds left beside it (TOTP/Steam) or a "Next code" button (HOTP),
 * and "Copy code", which copies the characters without the space. In the last 5 s the seconds
 * say "only 4 s" in the warning colour: the words carry it for whoever cannot tell the colour.
 */
import type { OtpKind } from '../../shared/otp';
import type { Connection } from '../client';
import { useOtpCode } from '../hooks/useOtpCode';
import { CountdownBar, WARNING_SECONDS } from './CountdownBar';

export function groupCode(code: string): string {
  if (code.length === 6) return `${code.slice(0, 3)} ${code.slice(3)}`;
  if (code.length === 7) return `${code.slice(0, 3)} ${code.slice(3)}`;
  if (code.length === 8) return `${code.slice(0, 4)} ${code.slice(4)}`;
  return code;
}

interface Props {
  readonly connection: Connection;
  readonly entryId: number;
  readonly kind: OtpKind;
  /** Copies through the page's one copy path (feedback, clipboard clearing). */
  readonly onCopy: (entryId: number) => void;
  /** The details view shows the next code in the last seconds, and labels the code. */
  readonly detailed?: boolean;
  /** The popup: the code large, to read across a desk or off a screen share. */
  readonly large?: boolean;
}

/** "17 s left", or "only 4 s" in the last seconds: about the same width, so the row holds still. */
function SecondsLeft({ secondsLeft, period }: { secondsLeft: number; period: number }) {
  const left = Math.max(0, Math.min(period, secondsLeft));
  const warning = left <= WARNING_SECONDS;
  return <span className={`seconds-left${warning ? ' warning' : ''}`} data-warning={warning}>{warning ? `only ${left} s` : `${left} s left`}</span>;
}

export function OtpCode({ connection, entryId, kind, onCopy, detailed, large }: Props) {
  const live = useOtpCode(connection.api, entryId, kind !== 'hotp');
  const { result, secondsLeft } = live;

  if (live.error && !result) return <span className="error small">{live.error}</span>;
  if (kind === 'hotp' && !result) {
    return <button type="button" onClick={() => void live.fetch()}>Next code</button>;
  }
  if (!result) return <span className="muted" aria-busy="true">······</span>;
  const period = result.period;
  return (
    <div className={`otp${large ? ' large' : ''}`}>
      <output className="code" aria-label="One-time password">{groupCode(result.code)}</output>
      {period !== undefined ? (
        <>
          <CountdownBar secondsLeft={secondsLeft} period={period} />
          <SecondsLeft secondsLeft={secondsLeft} period={period} />
          {detailed && secondsLeft <= WARNING_SECONDS && <span className="muted small">next {groupCode(result.next)}</span>}
        </>
      ) : (
        <button type="button" onClick={() => void live.fetch()}>Next code</button>
      )}
      <button type="button" aria-label="Copy code" title="Enter copies the selected row's code" onClick={() => onCopy(entryId)}>Copy<span className="copy-word"> code</span></button>
    </div>
  );
}
