/**
 * The secret key typed or pasted by hand: as the person types, the normalised key in groups
 * of four, or what is wrong and where (with the O/I/L/B hint) before Save is pressed.
 * Normalising is the shared engine's, so the field and the vault cannot disagree.
 */
import { useId } from 'react';
import { CrewvaultError } from '../../shared/errors';
import { groupSecret, normaliseSecret } from '../../shared/otp';

export interface SecretCheck {
  readonly ok: boolean;
  readonly message: string;
}

export function checkSecret(value: string): SecretCheck | null {
  if (value.trim() === '') return null;
  try {
    const { secret, warning } = normaliseSecret(value);
    return { ok: true, message: warning ? `${groupSecret(secret)} — ${warning.message}` : groupSecret(secret) };
  } catch (error) {
    return { ok: false, message: error instanceof CrewvaultError ? error.message : 'This is not a valid secret key.' };
  }
}

interface Props {
  readonly value: string;
  readonly onChange: (value: string) => void;
  /** Said under the empty field, where the standard hint does not say what empty means. */
  readonly emptyHint?: string;
}

export function SecretKeyField({ value, onChange, emptyHint = 'Letters A–Z and digits 2–7; spaces and hyphens are fine.' }: Props) {
  const id = useId();
  const check = checkSecret(value);
  return (
    <div className="field">
      <label htmlFor={id}>Secret key</label>
      <input
        id={id}
        name="secret"
        autoComplete="off"
        spellCheck={false}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={check?.ok === false}
        aria-describedby={`${id}-check`}
        placeholder="e.g. JBSW Y3DP EHPK 3PXP"
      />
      <p id={`${id}-check`} className={check?.ok === false ? 'error small' : 'muted small mono'} role={check?.ok === false ? 'alert' : undefined}>
        {check?.message ?? emptyHint}
      </p>
    </div>
  );
}
