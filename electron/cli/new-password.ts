/** Asks for a new password for someone else (a one-time password to hand over): twice on a terminal. */
import { CrewvaultError } from '../../shared/errors';
import type { CliIo } from './io';

export async function readNewPassword(io: CliIo, whose: string): Promise<string> {
  const password = await io.readSecret(`One-time password for ${whose}: `);
  if (io.interactive && (await io.readSecret('Repeat it: ')) !== password) {
    throw new CrewvaultError('INVALID_INPUT', 'The two passwords differ; nothing was changed.');
  }
  return password;
}
