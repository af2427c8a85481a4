/**
 * `crewvault join URL --user NAME --team-vault ID [--trust-owner KEY-ID:PUBLIC-KEY]`: a person's
 * fresh desktop gets their team vault from the server alone (#15, docs/SYNC.md). A top-level
 * command beside `login` and `sync` (every person runs it once, as they run those; `team …` holds
 * the server administrators' acts). It signs in as `login` does (second step included, the
 * session kept), pins the owner key handed over with the invite (asked for, its fingerprint shown,
 * when not given), opens this person's keys from what the server holds (join-material.ts: vouched
 * for by that owner, wrapped to their account key), makes a new vault file under a NEW local
 * password (not the server's: a stolen laptop's file is open to offline guesses, which must not be
 * guesses at the server account), and takes the vault in with the first sync, progress on stderr.
 * Must never: write over a file that exists, write anything when the owner or key is not the one
 * trusted, or print a password, key or code.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CrewvaultError } from '../../shared/errors';
import type { ReplicaRecord } from '../../shared/sync/records';
import { rawPublicKey } from '../team/account-keys';
import { parseOwnerKey, signingKeyFingerprint } from '../team/owner-anchor';
import { printable } from '../team/printable';
import { unexpectedArgument, UsageError, type CliCommand, type CliIo } from './io';
import { decideTrust, load, secondStep } from './login';
import { vaultPath } from './signin';
import { HISTORY_OPTION, historyProgress, historyWhen } from './history-option';
import { JOIN_SUMMARY, JOIN_USAGE } from './team-usage';

async function join(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      user: { type: 'string' }, 'team-vault': { type: 'string' }, 'trust-owner': { type: 'string' }, vault: { type: 'string' }, trust: { type: 'string' },
      code: { type: 'string' }, 'recovery-code': { type: 'string' }, 'emergency-code': { type: 'string' }, ...HISTORY_OPTION,
    },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw positionals.length === 0 ? new UsageError('name the server: crewvault join https://HOST[:PORT]') : unexpectedArgument();
  if (values.user === undefined) throw new UsageError('give your name on the server with --user NAME');
  const history = historyWhen(values.history);
  const teamVault = values['team-vault'] ?? '';
  if (!/^[0-9a-f]{32}$/.test(teamVault)) throw new UsageError('--team-vault takes the vault\'s id (32 hex digits), as the owner handed it over');
  const file = vaultPath(values, io);
  if (existsSync(file)) throw new CrewvaultError('ALREADY_EXISTS', `${file} exists already: join makes a new vault file (give another with --vault).`);
  const given = values['trust-owner'];
  const ownerKey = parseOwnerKey(given ?? await io.readSecret('The owner key handed over with your invite (KEY-ID:PUBLIC-KEY): '));
  io.err(`Trusting the owner key ${ownerKey.id} (fingerprint ${signingKeyFingerprint(ownerKey.publicKey)}).\n`);
  if (given === undefined && io.interactive && (await io.readSecret('Is that the fingerprint the owner read to you? (yes/no) ')).trim().toLowerCase() !== 'yes') {
    throw new CrewvaultError('OWNER_KEY_CHANGED', 'The owner key was not confirmed: nothing was written.');
  }

  const m = await load();
  const url = m.transport.parseServerUrl(positionals[0] ?? '');
  const place = m.signIn.serverPlace(io.env);
  const trust = await decideTrust(m, url, place.profiles.get(url.origin)?.trust, values.trust, io);
  const password = await io.readSecret(`Password for ${values.user} on ${url.host}: `);
  const flow = await m.signIn.ServerSignIn.begin(place, { url, trust, username: values.user, password, newServer: false });
  await secondStep(flow, values, io);
  const { keys, user } = await flow.finish(io.now(), (line) => io.err(`crewvault: ${line}\n`));
  const { client } = await m.signIn.keptSession(place, url.origin, io.now);

  // The state part of the snapshot names every user and certified key: what is checked before a byte is written.
  // A server older than this desktop's sync is said before a byte is written (server-schema.ts). A record the server stored
  // out of the contract's shape is left out here (snapshot-page.ts); the first sync sets it aside.
  const [{ snapshotPage }, { requireServerSchema }] = await Promise.all([import('../team/snapshot-page'), import('../team/server-schema')]);
  await requireServerSchema(client);
  const records: ReplicaRecord[] = [];
  for (let after = 0, upTo: number | undefined; ;) {
    const { page } = await snapshotPage(client, { vault: teamVault, part: 'state', after, ...(upTo === undefined ? {} : { upTo }) });
    upTo = page.upTo;
    records.push(...page.records.map((r) => r.record));
    if (!page.more) break;
    after = page.after;
  }
  const { openJoinMaterial } = await import('../team/join-material');
  const material = openJoinMaterial(teamVault, records, ownerKey, user.id, keys);
  const local = await io.readSecret(`A new password for your vault file on this computer (not your server password): `);
  if (io.interactive && (await io.readSecret('Repeat it: ')) !== local) throw new CrewvaultError('INVALID_INPUT', 'The two passwords differ; nothing was written.');
  if (local === password) throw new CrewvaultError('INVALID_INPUT', 'Choose a vault password other than your server password (a stolen file is open to offline guesses): nothing was written.');

  const [{ createJoinedVault }, { firstSync }, { syncOnce }] = await Promise.all([import('../vault/join-vault'), import('../team/first-sync'), import('../team/sync')]);
  const b = (text: string | null): Buffer => Buffer.from(text ?? '', 'base64url');
  const session = await createJoinedVault(file, {
    vaultId: teamVault, person: { uid: material.me.id, name: material.me.name, role: material.me.role }, keyPair: { publicKey: rawPublicKey(keys), privateKey: keys.privateKey },
    password: local, clock: { now: io.now }, owner: { uid: material.owner.id, name: material.owner.name, publicKey: b(material.owner.publicKey) },
    ownerKey: { uid: ownerKey.id, publicKey: ownerKey.publicKey },
    signingKey: { uid: material.signingKey.id, publicKey: b(material.signingKey.publicKey), createdAt: material.signingKey.createdAt, certificate: b(material.signingKey.certificate), binding: b(material.signingKey.binding) },
    signingSeed: material.signingSeed, directoryKey: material.directoryKey, directoryVersion: material.directoryVersion,
  });
  material.signingSeed.fill(0);
  material.directoryKey.fill(0);
  try {
    const first = await firstSync(client, session.replica, { onPage: (taken) => io.err(`crewvault: ${taken} records taken in\n`), history, onHistory: historyProgress(io) });
    const after = await syncOnce(client, session.replica, { history, onHistory: historyProgress(io) });
    if (history === 'later' && (await session.replica.historyOwed()) !== undefined) io.err('crewvault: the vault is usable; its audit history is still to come (the next crewvault sync takes it in).\n');
    io.out(`Joined vault ${teamVault} as ${printable(material.me.name, 64)} (${material.me.role}): ${(first?.applied ?? 0) + after.applied} records taken in into ${file}; sign in there with your new vault password.\n`);
  } finally {
    await session.close();
  }
  return 0;
}

export const joinCommand: CliCommand = { summary: JOIN_SUMMARY, usage: JOIN_USAGE, run: join };
