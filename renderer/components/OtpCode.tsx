/**
 * A live code as the list and the details show it: grouped for reading (123 456), a
 * countdown bar (TOTP/Steam) or a "Next code" button (HOTP), and "Copy code", which copies
 * the characters without the space.
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
}

export function OtpCode({ connection, entryId, kind, onCopy, detailed }: Props) {
  const live = useOtpCode(connection.api, entryId, kind !== 'hotp');
  const { result, secondsLeft } = live;

  if (live.error && !result) return <span className="error small">{live.error}</span>;
  if (kind === 'hotp' && !result) {
    return <button type="button" onClick={() => void live.fetch()}>Next code</button>;
  }
  if (!result) return <span className="muted" aria-busy="true">······</span>;
  const period = result.period;
  return (
    <div className="otp">
      <output className="code" aria-label="One-time password">{groupCode(result.code)}</output>
      {period !== undefined ? (
        <>
          <CountdownBar secondsLeft={secondsLeft} period={period} />
          {detailed && secondsLeft <= WARNING_SECONDS && <span className="muted small">next {groupCode(result.next)}</span>}
        </>
      ) : (
        <button type="button" onClick={() => void live.fetch()}>Next code</button>
      )}
      <button type="button" onClick={() => onCopy(entryId)}>Copy code</button>
    </div>
  );
}
