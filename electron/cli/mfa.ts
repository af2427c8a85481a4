/**
 * `crewvault mfa …`: one's own two-step sign-in (set up, status, recovery codes, off) and an
 * admin's reset and emergency code for someone else. Keys and codes go to stdout only where
 * showing them is the command's purpose (begin, confirm, regenerate, recovery-codes, emergency);
 * never in an error, never on stderr.
 */
import { parseArgs } from 'node:util';
import { CrewvaultError } from '../../shared/errors';
import type { VaultSession } from '../vault/service';
import { EMERGENCY_CODE_MS, ENROLMENT_MS, RECOVERY_CODES, type Enrolment } from '../vault/mfa';
import { beginSetUp, SECOND_STEP_MS, type SignInAttempt } from '../vault/sign-in-flow';
import { unexpectedArgument, UsageError, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS, withSession, WORDS } from './signin';

const SETUP_MINUTES = ENROLMENT_MS / 60_000;
const EMERGENCY_MINUTES = EMERGENCY_CODE_MS / 60_000;
const SECOND_STEP_MINUTES = SECOND_STEP_MS / 60_000;

const USAGE = `crewvault mfa begin | confirm --code CODE | status [--json] | recovery-codes [--seen] | regenerate | off
                  | reset USER | emergency USER                                    [--vault PATH] [--as USER]
  begin           prints a new authenticator key (an otpauth:// URI, then the key in groups of four); the setup
                  waits ${SETUP_MINUTES} minutes for "crewvault mfa confirm --code CODE", CODE from the new key.
                  Where the policy requires an authenticator you do not have yet, begin and confirm are all you
                  can run (even before replacing a one-time password); where it is "off", begin is refused.
                  With an authenticator already, "begin" (with your current --code) sets up a new device: the
                  old one keeps working until the new one is confirmed.
  confirm         --code is always the new key's code: the setup it confirms was started by you, signed in
                  in full, and stands in for your current code. Prints ${RECOVERY_CODES} recovery codes; they stay
                  viewable with "mfa recovery-codes" until you run "mfa recovery-codes --seen".
                  "--code -" reads it after the password; where this sign-in has a second step (a code, or a
                  setup the policy requires), it must come within the ${SECOND_STEP_MINUTES} minutes the app gives that step.
  status          on or off, recovery codes left, and the policy for your role.
  recovery-codes  how many are left, and the codes themselves while they are not yet marked seen (output cut
                  short, "| head -3", loses nothing). --seen marks them seen: from then on they are kept only
                  hashed and cannot be shown again (see regenerate).
  regenerate      prints ${RECOVERY_CODES} new recovery codes, viewable until marked seen; the old ones stop working.
  off             turns your two-step sign-in off, unless the policy requires it for your role.
  reset USER      (users.manage) removes USER's authenticator, recovery codes and trusted computers. Needs
                  your own password and, if you have an authenticator, your own --code (not a recovery or
                  emergency code), given to this very command.
  emergency USER  (users.manage) prints a 6-letter code USER gives as --emergency-code CODE instead of their
                  authenticator: once, within ${EMERGENCY_MINUTES} minutes.
  Every vault command takes --code CODE, --recovery-code - (the code read like a password) or --emergency-code CODE when you have an
  authenticator.`;

/**
 * The codes, then (on stderr, which holds no code) how to see them again: stdout may be a pipe
 * whose reader stops early, after the vault has committed them (RecoveryDelivery).
 */
function printCodes(io: CliIo, codes: readonly string[]): void {
  for (const code of codes) io.out(`${code}\n`);
  io.err('They stay viewable with "crewvault mfa recovery-codes" until you run "crewvault mfa recovery-codes --seen".\n');
}

const KEEP_UNTIL_SEEN = { keepUntilSeen: true } as const;

/**
 * A new key, by the vault's rules (sign-in-flow.ts), as the app starts one: the setup step of a
 * sign-in the policy sends to set up, or else a signed-in person's setup — refused where the
 * policy turns two-step sign-in off, and, replacing a working authenticator, proved again. This
 * command's password is that proof: its code was used by the sign-in and cannot be used twice.
 */
async function begin(session: VaultSession, password: string, attempt: SignInAttempt, io: CliIo): Promise<Enrolment & { replacing: boolean; user: string }> {
  const replacing = (await session.mfa.status()).enabled;
  const setup = attempt.due === 'enrol' ? await attempt.beginSetUp(WORDS) : await beginSetUp(session, { password }, io.now());
  return { ...setup, replacing, user: session.user.name };
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...VAULT_OPTIONS, json: { type: 'boolean' }, seen: { type: 'boolean' } }, allowPositionals: true });
  const [sub, target, ...rest] = positionals;
  if (rest.length > 0) throw unexpectedArgument();
  const takesUser = sub === 'reset' || sub === 'emergency';
  if (takesUser && !target) throw new UsageError(`"mfa ${sub}" needs a USER`);
  if (!takesUser && target !== undefined) throw unexpectedArgument();
  if (values.json && sub !== 'status') throw new UsageError('--json goes with "mfa status"');
  if (values.seen && sub !== 'recovery-codes') throw new UsageError('--seen goes with "mfa recovery-codes"');
  switch (sub) {
    case 'begin': {
      const setup = await withSession(values, io, (session, password, attempt) => begin(session, password, attempt, io), { allowEnrolment: true });
      io.out(`${setup.uri}\nKey: ${setup.secret}\n`);
      io.out(`Add it to your authenticator app (the first line as a QR code, e.g. with "qrencode -t ansiutf8", or type the key), then within ${SETUP_MINUTES} minutes run:\n  crewvault mfa confirm --code CODE\n`);
      if (setup.replacing) io.out('Your current authenticator keeps working until then.\n');
      return 0;
    }
    case 'confirm': {
      if (values.code === undefined) throw new UsageError('"mfa confirm" needs --code CODE, from the key "mfa begin" printed');
      if (values['recovery-code'] !== undefined || values['emergency-code'] !== undefined) {
        throw new UsageError('"mfa confirm" takes only --code CODE, from the key "mfa begin" printed');
      }
      const code = values.code;
      // Skipping the current authenticator here is safe: a started setup is written only by a
      // session that passed the whole sign-in ("mfa begin" checks the current --code), and it is
      // sealed under a key only this user's password opens. Its code is proof enough.
      const done = await withSession(values, io, async (session, _password, attempt) => {
        const replacing = (await session.mfa.status()).enabled;
        // "-": read after the password, like every secret (signin.ts); confirmed through the
        // attempt, so a code typed late at the prompt meets the second step's time limit.
        const given = code === '-' ? await io.readSecret('Code from the new key: ') : code;
        return { user: session.user.name, replacing, recoveryCodes: await attempt.confirmSetUp(given, WORDS, KEEP_UNTIL_SEEN) };
      }, { allowEnrolment: true, codeConfirmsSetup: true });
      io.out(`Two-step sign-in is on for ${done.user}${done.replacing ? ' with the new authenticator; the old one and its recovery codes no longer work' : ''}.\n`);
      io.out('Recovery codes: each works once in place of a code. Keep them safe.\n');
      printCodes(io, done.recoveryCodes);
      return 0;
    }
    case 'status': {
      const status = await withSession(values, io, async (session) => ({ ...(await session.mfa.status()), policy: (await session.mfa.policy()).mine }));
      if (values.json) {
        io.out(`${JSON.stringify(status)}\n`);
      } else {
        io.out(status.enabled ? `Two-step sign-in: on, ${status.recoveryCodesLeft} recovery codes left.\n` : 'Two-step sign-in: off.\n');
        io.out(`Policy for your role: ${status.policy}.\n`);
      }
      return 0;
    }
    case 'recovery-codes': {
      const seen = values.seen === true;
      const found = await withSession(values, io, async (session) => {
        const status = await session.mfa.status();
        if (!status.enabled) throw new CrewvaultError('INVALID_INPUT', 'Two-step sign-in is not set up for this user.');
        return { status, unseen: seen ? undefined : await session.mfa.unseenRecoveryCodes(), marked: seen && await session.mfa.markRecoveryCodesSeen() };
      });
      const left = `${found.status.recoveryCodesLeft} of ${RECOVERY_CODES} recovery codes left.`;
      if (seen) {
        io.out(found.marked ? `${left} Marked seen: they are kept only as hashes now and cannot be shown again.\n` : `${left} They were already kept only as hashes.\n`);
      } else if (found.unseen) {
        io.out(`${left} Not yet marked seen; each works once:\n`);
        for (const code of found.unseen) io.out(`${code}\n`);
        io.err('Once they are kept safe, run "crewvault mfa recovery-codes --seen".\n');
      } else {
        io.out(`${left} They are kept only as hashes, so they cannot be shown again: "crewvault mfa regenerate" prints new ones.\n`);
      }
      return 0;
    }
    case 'regenerate': {
      const codes = await withSession(values, io, (session) => session.mfa.regenerateRecoveryCodes(KEEP_UNTIL_SEEN));
      io.out('New recovery codes (the old ones no longer work); each works once. Keep them safe.\n');
      printCodes(io, codes);
      return 0;
    }
    case 'off': {
      const was = await withSession(values, io, async (session) => {
        const enabled = (await session.mfa.status()).enabled;
        await session.mfa.disable();
        return { user: session.user.name, enabled };
      });
      io.out(was.enabled
        ? `Two-step sign-in is off for ${was.user}: its key, recovery codes and trusted computers are gone.\n`
        : `Two-step sign-in was not on for ${was.user}.\n`);
      return 0;
    }
    case 'reset': {
      // As the router asks: another person's second factor goes only after the admin proves it is
      // them, with their own authenticator's code (or, without one, their password) given right here.
      if (values['recovery-code'] !== undefined || values['emergency-code'] !== undefined) {
        throw new UsageError('"mfa reset" takes your own --code CODE (if you have an authenticator), not a recovery or emergency code');
      }
      const name = target ?? '';
      await withSession(values, io, (session) => session.mfa.resetFor(name));
      io.out(`Reset the two-step sign-in of ${name}: their authenticator, recovery codes and trusted computers are gone.\n`);
      return 0;
    }
    case 'emergency': {
      const name = target ?? '';
      const code = await withSession(values, io, (session) => session.mfa.issueEmergencyCode(name, io.now()));
      io.out(`Emergency code for ${name}: ${code}\n`);
      io.out(`It works once, within ${EMERGENCY_MINUTES} minutes, in place of their authenticator: --emergency-code CODE.\n`);
      return 0;
    }
    default:
      throw new UsageError('the subcommands are begin, confirm, status, recovery-codes, regenerate, off, reset, emergency');
  }
}

export const mfaCommand: CliCommand = { summary: 'two-step sign-in: set up, recovery codes, reset, emergency codes', usage: USAGE, run };
