/**
 * `crewvault sync [URL]`: one round of team sync between this computer's vault and the team
 * server it is signed in to (crewvault login): others' changes in, this vault's out
 * (electron/team/sync.ts). `--move`: the vault's owner moves it onto the server (the whole
 * vault pushed, once) and is told their owner key, to hand over with invites. Asks for the
 * vault's password each time (an unlocked session does not run it: agent-commands.ts),
 * never the server's: that session is the one `crewvault login` kept. After each round, the TOTP keys of groups
 * set to "server computes codes" go to the server sealed to its code key, as the app's sync hands them (desk.ts).
 */
import { parseArgs } from 'node:util';
import { isCrewvaultError } from '../../shared/errors';
import type { SyncOutcome } from '../team/sync';
import { syncToldLines } from '../team/sync-told';
import type { EventStream } from '../team/transport';
import type { ReplicaService } from '../vault/replica-service';
import { ownerKeyText, signingKeyFingerprint } from '../team/owner-anchor';
import { unexpectedArgument, untilStopped, type CliCommand, type CliIo } from './io';
import { keptSession, load } from './login';
import { VAULT_OPTIONS, withSession } from './signin';
import { HISTORY_OPTION, historyProgress, historyWhen } from './history-option';
import { SYNC_SUMMARY, SYNC_USAGE } from './team-usage';
import { oneLine } from '../../shared/text';

/** How often a watching sync looks for this computer's own changes. */
const LOCAL_ROUND_MS = 30_000;
/** How long a watching sync waits before opening a broken stream again. */
const RECONNECT_MS = 5_000;

function report(io: CliIo, origin: string, outcome: SyncOutcome, json: boolean): void {
  if (json) {
    io.out(`${JSON.stringify({ server: origin, ...outcome })}\n`);
    return;
  }
  const copies = outcome.conflictCopies > 0 ? `; ${outcome.conflictCopies} entr${outcome.conflictCopies === 1 ? 'y' : 'ies'} changed here and there kept as "(conflict copy)"` : '';
  const held = outcome.held > 0 ? `; ${outcome.held} record${outcome.held === 1 ? '' : 's'} set aside, not taken in yet (a key, group or user this vault lacks, or refused): tried again each sync` : '';
  io.out(`Synced with ${origin}: ${outcome.applied} change${outcome.applied === 1 ? '' : 's'} taken in, ${outcome.pushed} sent${copies}${held}.\n`);
  for (const removed of outcome.accessRemoved) {
    const edits = removed.droppedEdits > 0 ? `; ${removed.droppedEdits} edit${removed.droppedEdits === 1 ? '' : 's'} made here in it could not be sent and ${removed.droppedEdits === 1 ? 'was' : 'were'} dropped` : '';
    io.out(`Your access to the group "${removed.group}" was removed: its entries are no longer on this computer${edits}.\n`);
  }
  // People crossed (one line a person, audited as user.crossed), this desktop's old device id, entries
  // moved out of this person's reach, events left out of the push, changes kept here unsent (the role may not
  // make them now): worded as the app shows them (sync-told.ts).
  for (const line of syncToldLines(outcome)) io.out(`crewvault: ${line}\n`);
  // The server's history was not the one this desktop pulled from (restored, or the vault replaced): taken in again (docs/SYNC.md "Faults").
  if (outcome.historyChanged !== undefined) io.out(`crewvault: ${outcome.historyChanged}\n`);
}

/** What a round handed the server for its code computing, in words. */
function handedLine(sealed: number, removed: number): string {
  const parts = [
    ...(sealed > 0 ? [`${sealed} TOTP key${sealed === 1 ? '' : 's'} sealed to the server's code key`] : []),
    ...(removed > 0 ? [`${removed} withdrawn`] : []),
  ];
  return `Codes computed by the server: ${parts.join(', ')} (groups set to "server computes codes").`;
}

/**
 * After a move: the vault's id and the mover's signing key (id, public key, fingerprint), on
 * stderr (stdout stays the report), to hand over with each invite: a desktop joining from the
 * server alone pins it (electron/team/owner-anchor.ts). A public key: nothing secret.
 */
async function tellOwnerFingerprint(io: CliIo, replica: ReplicaService): Promise<void> {
  const key = await replica.ownSigningKey();
  if (key === undefined) return;
  io.err(`Vault ${await replica.vaultId()}: your owner key is ${ownerKeyText(key)} (fingerprint ${signingKeyFingerprint(key.publicKey)}). Hand it over with each invite, apart from the server: a desktop joining from the server alone trusts only that owner.\n`);
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...VAULT_OPTIONS, ...HISTORY_OPTION, move: { type: 'boolean' }, watch: { type: 'boolean' }, json: { type: 'boolean' } }, allowPositionals: true });
  if (positionals.length > 1) throw unexpectedArgument();
  const history = { history: historyWhen(values.history), onHistory: historyProgress(io) };
  const m = await load();
  const { client, origin } = await keptSession(m, io, positionals[0]);
  const { syncOnce } = await import('../team/sync');
  const json = values.json === true;
  const { handOverServerCodes, nothingHandedOver } = await import('../team/server-codes');
  return withSession(values, io, async (session) => {
    // What this process handed the server of the TOTP keys of groups set to "server computes codes" (a watch's rounds share it).
    const handed = nothingHandedOver();
    /**
     * Those keys handed over as the app hands them (desk.ts), then the round's report: else, after a key change here, the
     * group's codes stopped until an app synced. The report comes once the round's last call has ended, as before.
     */
    const reported = async (current: typeof client, outcome: SyncOutcome): Promise<void> => {
      const { sealed, removed } = await handOverServerCodes(current, session, handed);
      report(io, origin, outcome, json);
      if (!json && sealed + removed > 0) io.out(`crewvault: ${handedLine(sealed, removed)}\n`);
    };
    await reported(client, await syncOnce(client, session.replica, { move: values.move === true, ...history }));
    if (values.move === true) await tellOwnerFingerprint(io, session.replica);
    if (values.watch !== true) return 0;
    return watch(io, session.replica, async () => {
      // Each round with the kept session as it is now (refreshed when its access token ends).
      const current = await keptSession(m, io, origin);
      await reported(current.client, await syncOnce(current.client, session.replica));
    }, async (onSeq) => (await keptSession(m, io, origin)).client.openSyncStream(await session.replica.vaultId(), onSeq));
  });
}

/**
 * Syncs again whenever the server's stream says the vault moved past what this replica holds,
 * and every LOCAL_ROUND_MS for this computer's own changes; one round at a time. A stream the
 * server ends (its access token ran out) or that breaks is opened again. Ends at Ctrl+C or
 * SIGTERM (0), or when the server session has ended (UNAUTHORIZED).
 */
async function watch(io: CliIo, replica: ReplicaService, round: () => Promise<void>, openStream: (onSeq: (seq: number) => void) => Promise<EventStream>): Promise<number> {
  let stopped = false;
  const stop = untilStopped().then(() => {
    stopped = true;
  });
  let queue = Promise.resolve();
  let fatal: Error | undefined;
  const again = (): void => {
    queue = queue.then(round).catch((error: unknown) => {
      if (isCrewvaultError(error) && error.code === 'UNAUTHORIZED') fatal = error;
      else io.err(`crewvault: ${isCrewvaultError(error) ? `${error.code}: ${oneLine(error.message)}` : 'a sync round failed'} (trying again)\n`);
    });
  };
  const timer = setInterval(again, LOCAL_ROUND_MS);
  try {
    while (!stopped && fatal === undefined) {
      let stream: EventStream | undefined;
      try {
        stream = await openStream((seq) => {
          // What this replica holds is asked of the vault; if that fails, the round says why.
          void replica.pulledUpTo().then((held) => {
            if (seq > held) again();
          }, () => again());
        });
        await Promise.race([stream.ended, stop]);
      } catch (error) {
        if (isCrewvaultError(error) && error.code === 'UNAUTHORIZED') throw error;
        io.err(`crewvault: ${isCrewvaultError(error) ? `${error.code}: ${oneLine(error.message)}` : 'the sync stream broke'} (opening it again)\n`);
        await Promise.race([new Promise((resolve) => setTimeout(resolve, RECONNECT_MS)), stop]);
      } finally {
        stream?.close();
      }
    }
    await queue;
    if (fatal !== undefined) throw fatal;
    return 0;
  } finally {
    clearInterval(timer);
  }
}

export const syncCommand: CliCommand = { summary: SYNC_SUMMARY, usage: SYNC_USAGE, run };
