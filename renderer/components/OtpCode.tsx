/**
 * A live code: asked of the main process at each period boundary, grouped for reading
 * (123 456), with a countdown bar animated locally, and a "Copy code" button.
 */
import { useCallback, useEffect, useState } from 'react';
import type { OtpCodeResult } from '../../shared/api/contract';
import type { OtpKind } from '../../shared/otp';
import type { Connection } from '../App';
import { copyFromReply } from '../clipboard';
import { useNow } from '../hooks/useNow';

export function groupCode(code: string): string {
  if (code.length === 6) return `${code.slice(0, 3)} ${code.slice(3)}`;
  if (code.length === 8) return `${code.slice(0, 4)} ${code.slice(4)}`;
  return code;
}

interface Props {
  readonly connection: Connection;
  readonly entryId: number;
  readonly kind: OtpKind;
}

export function OtpCode({ connection, entryId, kind }: Props) {
  const { api } = connection;
  const now = useNow();
  const [result, setResult] = useState<{ value: OtpCodeResult; validUntil: number } | null>(null);
  const [note, setNote] = useState<string | null>(null);

  const fetchCode = useCallback(async () => {
    const reply = await api.otp.code({ id: entryId });
    if (reply.ok) setResult({ value: reply.value, validUntil: Date.now() + (reply.value.remainingMs ?? Number.POSITIVE_INFINITY) });
    else setNote(reply.error.message);
  }, [api, entryId]);

  useEffect(() => {
    if (kind !== 'hotp') void fetchCode();
  }, [fetchCode, kind]);

  useEffect(() => {
    if (result && now >= result.validUntil) void fetchCode();
  }, [now, result, fetchCode]);

  async function copy() {
    const reply = await api.secrets.copy({ id: entryId, what: 'otpCode' });
    setNote(await copyFromReply(connection.transport, reply));
  }

  if (kind === 'hotp' && !result) {
    return <button type="button" onClick={() => void fetchCode()}>Show next code</button>;
  }
  if (!result) return <span aria-busy="true">…</span>;
  const period = result.value.period ?? 0;
  const secondsLeft = Math.max(0, Math.ceil((result.validUntil - now) / 1000));
  return (
    <div className="otp">
      <output className="code" aria-label="One-time password">{groupCode(result.value.code)}</output>
      {period > 0 && (
        <div className={`countdown${secondsLeft <= 5 ? ' warning' : ''}`} role="progressbar" aria-label="Time left" aria-valuemin={0} aria-valuemax={period} aria-valuenow={secondsLeft}>
          <div className="countdown-fill" style={{ width: `${(100 * secondsLeft) / period}%` }} />
        </div>
      )}
      <button type="button" onClick={() => void copy()}>Copy code</button>
      {note && <span className="muted small" role="status">{note}</span>}
    </div>
  );
}
