/**
 * What setting up an authenticator shows, the same in the Two-step sign-in panel and in the
 * setup a "required" policy asks for at sign-in: the key as a QR code drawn in the page and as
 * text in groups of four; then the recovery codes, shown once, with Copy and Save as text file.
 */
import QRCode from 'qrcode';
import { useEffect, useRef, useState } from 'react';
import type { CrewvaultApi } from '../../shared/api/client';
import type { Transport } from '../client';
import { useCopyText } from '../hooks/useCopy';

export function RecoveryCodes({ api, transport, codes }: { api: CrewvaultApi; transport: Transport; codes: readonly string[] }) {
  const [note, setNote] = useState<string | null>(null);
  const copyText = useCopyText(api, transport);
  function save() {
    const url = URL.createObjectURL(new Blob([`Crewvault recovery codes (each works once)\r\n\r\n${codes.join('\r\n')}\r\n`], { type: 'text/plain' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'crewvault-recovery-codes.txt';
    link.click();
    URL.revokeObjectURL(url);
  }
  return (
    <div>
      <p>Recovery codes — each works once in place of a code from your app. They are not shown again.</p>
      <ul className="mono plain" aria-label="Recovery codes">{codes.map((c) => <li key={c}>{c}</li>)}</ul>
      <div className="row">
        <button type="button" onClick={() => void copyText(codes.join('\n'), setNote)}>Copy</button>
        <button type="button" onClick={save}>Save as text file</button>
        {note && <span role="status" className="muted small">{note}</span>}
      </div>
    </div>
  );
}

/** The key as a QR code drawn in the page, and as text in groups of four. */
export function KeyDisplay({ setup }: { setup: { secret: string; uri: string } }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (canvas.current) void QRCode.toCanvas(canvas.current, setup.uri, { width: 220, margin: 2 });
  }, [setup]);
  return (
    <>
      <canvas ref={canvas} aria-label="QR code for your authenticator app" role="img" />
      <p className="mono" aria-label="Secret key">{setup.secret}</p>
    </>
  );
}
