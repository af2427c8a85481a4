/**
 * A child process for the sign-in race tests: signs in and presents second factors through the
 * real vault service on its own connection, one command per stdin line (signin-race-protocol.ts),
 * one reply per line. Idle between commands, so a command written to every child at once is
 * carried out by all of them at the same moment. Bundled by signin-race-process.ts.
 * Prints only error codes and messages, which never hold a secret.
 */
import { writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { CrewvaultError } from '../../shared/errors';
import type { Clock, VaultSession } from '../../electron/vault/service';
import { Vault } from '../../electron/vault/vault';
import type { RaceCommand, RaceReply } from './signin-race-protocol';

let now = 0;
const clock: Clock = { now: () => now };
const vaults = new Map<string, Vault>();
let session: VaultSession | undefined;

function reply(answer: RaceReply): void {
  writeSync(1, `${JSON.stringify(answer)}\n`);
}

function signedIn(): VaultSession {
  if (!session) throw new CrewvaultError('LOCKED', 'The race child has not signed in.');
  return session;
}

async function run(command: RaceCommand): Promise<unknown> {
  now = command.now;
  switch (command.op) {
    case 'signIn': {
      session?.lock();
      session = undefined;
      let vault = vaults.get(command.file);
      if (!vault) {
        vault = Vault.open(command.file, clock);
        vaults.set(command.file, vault);
      }
      session = await vault.signIn(command.user, command.password);
      return session.user.name;
    }
    case 'code':
      await signedIn().mfa.verifyCode(command.code, command.now);
      return null;
    case 'recovery':
      return signedIn().mfa.useRecoveryCode(command.code);
    case 'emergency':
      await signedIn().mfa.useEmergencyCode(command.code, command.now);
      return null;
    case 'confirm':
      return signedIn().mfa.confirmEnrolment(command.code, command.now);
  }
}

async function main(): Promise<void> {
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === '') continue;
    try {
      reply({ ok: true, value: await run(JSON.parse(line) as RaceCommand) });
    } catch (error) {
      if (error instanceof CrewvaultError) reply({ ok: false, code: error.code, message: error.message });
      else reply({ ok: false, code: 'INTERNAL', message: error instanceof Error ? `${error.name}: ${error.message}` : typeof error });
    }
  }
  session?.lock();
  for (const vault of vaults.values()) await vault.close();
}

void main();
