/**
 * `crewvault audit`: reads the whole audit log, oldest first, a page at a time from the vault
 * (so --json is every row however long the log; `--last N` asks only the newest N, and says so
 * nowhere else); `audit verify` checks its hash chain (no password),
 * and with `--keyed` also the keyed anchor, which needs someone who can read the audit log
 * to sign in (it catches a chain rewritten with every hash recomputed). `audit verify --server`:
 * the whole history of the team vault as the server it is signed in to holds it (every desktop's
 * events, in the server's order), checked against this vault's signing keys
 * (electron/team/history-verify.ts). On a new desktop whose audit history is still arriving
 * (first-sync.ts), `audit verify` says so on a line of its own and exits 3: never "intact"
 * for a log it does not hold all of, nor a failure for one that holds so far.
 */
import { parseArgs } from 'node:util';
import { CrewvaultError } from '../../shared/errors';
import type { AuditRecord } from '../../shared/model';
import { UsageError, type CliCommand, type CliIo } from './io';
import { VAULT_OPTIONS, withSession, withVault } from './signin';
import { mayBeWithheldLine } from '../vault/audit-event-texts';

/** `audit verify`'s status while a new desktop's history is still arriving: neither 0 (all verified) nor 1 (broken). */
export const HISTORY_ARRIVING = 3;

const USAGE = 'crewvault audit [--vault PATH] [--user NAME] [--last N] [verify [--keyed] [--server [URL]]] [--json]';

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...VAULT_OPTIONS, json: { type: 'boolean' }, keyed: { type: 'boolean' }, server: { type: 'boolean' }, last: { type: 'string' } }, allowPositionals: true });
  const [sub, ...rest] = positionals;
  if (values.server === true && sub === 'verify' && rest.length <= 1) return verifyOnServer(values, rest[0], io);
  if (rest.length > 0 || (sub !== undefined && sub !== 'verify')) throw new UsageError('the only subcommand is "verify"');
  if ((values.keyed || values.server) && sub !== 'verify') throw new UsageError('--keyed and --server go with "verify"');
  if (sub === 'verify') {
    const { chain, anchor, owed } = values.keyed
      ? await withSession(values, io, async (session) => ({ ...(await session.verifyAuditLog()), owed: await session.replica.historyOwed() }))
      : await withVault(values, io, async (vault) => ({ chain: await vault.verifyAudit(), anchor: undefined, owed: await vault.historyOwed() }));
    // Events of this desktop kept out of its pushes for good (a disabled person's on a shared desktop): in the log, not on the server.
    const notSent = await withVault(values, io, (vault) => vault.eventsNotSent());
    if (!chain.ok) throw new CrewvaultError('VAULT_TAMPERED', `Audit log broken at row ${chain.brokenAt}: ${chain.reason}.`);
    if (anchor && !anchor.ok) throw new CrewvaultError('VAULT_TAMPERED', `Audit log rewritten: ${anchor.reason}.`);
    const keyed = anchor ? (anchor.anchoredRow > 0 ? `; the keyed anchor at row ${anchor.anchoredRow} holds` : '; no keyed anchor yet (a vault from before it)') : '';
    if (owed !== undefined) {
      // Not a failure of integrity and not "ok": what is here holds, the rest of the history has not arrived (first-sync.ts).
      io.out(`Audit log intact so far: ${chain.rows} rows, every link verified${keyed}.\n`);
      if (chain.redacted !== undefined) io.out(`${redactedLine(chain.redacted)}\n`);
      if (chain.mayBeWithheld !== undefined) io.out(`Warning: ${mayBeWithheldLine(chain.mayBeWithheld.length, chain.mayBeWithheld)}\n`);
      io.out(`History still arriving: this vault's audit history up to the team server's sequence ${owed.upTo} is not all here yet (taken up to ${owed.after}); crewvault sync takes in the rest, then verify again.\n`);
      return HISTORY_ARRIVING;
    }
    io.out(`Audit log intact: ${chain.rows} rows, every link verified${keyed}.\n`);
    if (chain.redacted !== undefined) io.out(`${redactedLine(chain.redacted)}\n`);
    if (chain.mayBeWithheld !== undefined) io.out(`Warning: ${mayBeWithheldLine(chain.mayBeWithheld.length, chain.mayBeWithheld)}\n`);
    for (const line of notSent) io.out(`${line}\n`);
    return 0;
  }
  if (values.last !== undefined && (sub !== undefined || !/^[1-9]\d{0,5}$/.test(values.last))) throw new UsageError('--last takes a number of rows from 1 to 999999, without "verify"');
  const last = values.last === undefined ? undefined : Number(values.last);
  await withSession(values, io, async (session) => {
    // The whole log unless --last: a page at a time from the vault, each written out as it comes.
    const pages: AsyncIterable<AuditRecord[]> = last === undefined ? session.auditExport() : (async function* newest() {
      yield await session.auditLog(last);
    })();
    let first = true;
    if (values.json) io.out('[');
    for await (const records of pages) {
      for (const r of records) {
        if (values.json) {
          io.out(`${first ? '' : ','}${JSON.stringify(r)}`);
          first = false;
        } else {
          io.out(`${new Date(r.at).toISOString()}  ${r.actor ?? '-'}  ${r.action}  ${r.detail}\n`);
        }
      }
    }
    if (values.json) io.out(']\n');
  });
  return 0;
}

/** The count of events held or handed redacted (v3: header and body digest, docs/SYNC.md "Events of groups one does not hold"). */
function redactedLine(count: number): string {
  return `${count} event${count === 1 ? '' : 's'} of groups you do not hold: verified by signature, body not held.`;
}

/** `audit verify --server [URL]`: the team vault's whole history as that server holds it. */
async function verifyOnServer(values: Parameters<typeof withSession>[0], url: string | undefined, io: CliIo): Promise<number> {
  const [{ keptSession, load }, { pullHistory, verifyServerHistory }] = await Promise.all([import('./login'), import('../team/history-verify')]);
  const { client, origin } = await keptSession(await load(), io, url);
  return withSession(values, io, async (session) => {
    const vault = await session.replica.vaultId();
    // A member is handed the events of groups they do not hold redacted (v3): judged by the groups they hold; an owner or admin is owed every body.
    const check = verifyServerHistory(vault, await pullHistory(client, vault), await session.replica.signingKeysHeld(), await session.replica.groupsOwedWhole());
    if (!check.ok) throw new CrewvaultError('VAULT_TAMPERED', `The audit history on ${origin} is broken at sequence ${check.seq}: ${check.reason}.`);
    io.out(`Audit history on ${origin} intact: ${check.events} events from ${check.devices} device${check.devices === 1 ? '' : 's'}, each signed by its author and in its device's order.\n`);
    if (check.redacted > 0) io.out(`${redactedLine(check.redacted)}\n`);
    if (check.mayBeWithheld.length > 0) io.out(`Warning: ${mayBeWithheldLine(check.mayBeWithheld.length, check.mayBeWithheld)}\n`);
    return 0;
  });
}

export const auditCommand: CliCommand = { summary: 'read the audit log, or verify its chain', usage: USAGE, run };
