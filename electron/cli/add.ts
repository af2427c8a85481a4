/** `crewvault add`: a new entry; its password is prompted, never taken as an argument. */
import { parseArgs } from 'node:util';
import { UsageError, type CliCommand, type CliIo } from './io';
import { readOtpInput } from './otp-input';
import { VAULT_OPTIONS, withSession } from './signin';

const USAGE = `crewvault add [--vault PATH] [--user NAME] --customer C --title T [--username U] [--url URL]
              [--notes N] [--otp URI-or-SECRET|-] [--password-prompt] [--group GROUP]
  Piped stdin gives, one per line: your password, then the entry's password (--password-prompt),
  then the OTP URI or secret (--otp -).`;

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...VAULT_OPTIONS,
      customer: { type: 'string' },
      title: { type: 'string' },
      username: { type: 'string' },
      url: { type: 'string' },
      notes: { type: 'string' },
      otp: { type: 'string' },
      group: { type: 'string' },
      'password-prompt': { type: 'boolean' },
    },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.customer === undefined || values.title === undefined) throw new UsageError('--customer and --title are required');
  // Parse the OTP before asking for any password, so a typo costs nothing.
  const otpFromArgs = values.otp !== undefined && values.otp !== '-' ? readOtpInput(values.otp, io) : undefined;
  const { customer, title } = values;
  const created = await withSession(values, io, async (session) => {
    const password = values['password-prompt'] ? await io.readSecret('Entry password: ') : undefined;
    const otp = values.otp === '-' ? readOtpInput(await io.readSecret('OTP URI or secret key: '), io) : otpFromArgs;
    const groupId = values.group === undefined ? undefined : session.team.resolveGroup(values.group);
    return session.createEntry({
      ...(groupId === undefined ? {} : { groupId }),
      customer,
      title,
      ...(values.username === undefined ? {} : { username: values.username }),
      ...(values.url === undefined ? {} : { url: values.url }),
      ...(values.notes === undefined ? {} : { notes: values.notes }),
      ...(password === undefined ? {} : { password }),
      ...(otp === undefined ? {} : { otp }),
    });
  });
  io.out(`Added ${created.customer}/${created.title} (id ${created.id}).\n`);
  return 0;
}

export const addCommand: CliCommand = { summary: 'add an entry', usage: USAGE, run };
