/**
 * A QR code image — chosen, dropped or pasted — decoded in the page with jsQR. The image
 * never leaves the page; what it holds is handed to the form as text (an otpauth URI, or a
 * Google Authenticator export that becomes several entries).
 */
import jsQR from 'jsqr';
import { useState, type ClipboardEvent, type DragEvent } from 'react';

export async function decodeQrImage(file: Blob): Promise<string | null> {
  const bitmap = await createImageBitmap(file);
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const context = canvas.getContext('2d');
  if (!context) return null;
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const image = context.getImageData(0, 0, canvas.width, canvas.height);
  return jsQR(image.data, image.width, image.height)?.data ?? null;
}

interface Props {
  readonly onDecoded: (text: string) => void;
}

export function QrImport({ onDecoded }: Props) {
  const [message, setMessage] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);

  async function read(file: Blob | null | undefined) {
    if (!file || !file.type.startsWith('image/')) {
      setMessage('That is not an image.');
      return;
    }
    try {
      const text = await decodeQrImage(file);
      if (text === null) setMessage('No QR code found in this image');
      else {
        setMessage(null);
        onDecoded(text);
      }
    } catch {
      setMessage('This image could not be read.');
    }
  }

  function onDrop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    void read(event.dataTransfer.files[0]);
  }

  function onPaste(event: ClipboardEvent) {
    const item = [...event.clipboardData.items].find((i) => i.type.startsWith('image/'));
    if (item) {
      event.preventDefault();
      void read(item.getAsFile());
    }
  }

  return (
    <div
      className={`dropzone${dragging ? ' dragging' : ''}`}
      onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
      onPaste={onPaste}
      tabIndex={0}
      aria-label="QR image: drop or paste an image here"
    >
      <label>
        QR image
        <input type="file" accept="image/*" name="qr" onChange={(e) => void read(e.target.files?.[0])} />
      </label>
      <p className="muted small">Choose a file, drop an image here, or paste one (Ctrl+V).</p>
      {message && <p role="alert" className="error">{message}</p>}
    </div>
  );
}
