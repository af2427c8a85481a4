/**
 * Server-computed codes (issue #15, docs/SYNC.md "Server-computed codes"). For a group set to
 * "server computes codes", a desktop of someone who may edit its entries hands the server each
 * TOTP key sealed to the server's code key (`sealCodes`); a member whose role may see codes but
 * not keys (codes-only), or an automation token with the `codes` scope, then asks the server for
 * the current code (`computeCode`) and never holds the key. The server checks, at each request
 * and in the transaction that counts and audits it (server/codes/batch.ts, under the vault's row),
 * that the caller's vault user is a current member of the entry's group with otp.view (from the
 * membership it holds, and the role's permissions as it holds them: a custom role's record too) before it looks at the seal, and only then opens the key and computes the
 * code. No such entry and an entry of a group the caller does not hold get one answer.
 *
 * What the server can then see: these groups' TOTP keys (it opens them), and so their codes.
 * Everything else of theirs, and everything of every other group, stays sealed under keys it
 * never holds.
 * Must never: return or log a key, compute a code for someone its membership does not name, or
 * give a code before its audit event is committed.
 */
import type { ServerRouteInput, ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { mayHoldSecretKeyIn } from '../../shared/policy';
import { timeStep, totpCode, type OtpParams } from '../../shared/otp';
import type { ServerCodeKey } from '../../shared/sync/server-codes';
import { appendAuditBatch, type AuditEvent } from '../audit';
import { requireVaultInReach, type Caller } from '../auth/automation-tokens';
import type { Authenticated, PresentedSession } from '../auth/sessions';
import type { ServerContext } from '../context';
import { deleteSealedCode, deleteSealedCodesOfGroup, entryPlacement, findSealedCode, holdVaults, putSealedCode, sealDigestsOf, serverCodeGroups, type CodeHeld, type SealedCodeRow } from '../store/codes';
import type { Transaction } from '../store/db';
import { personOfAccount } from '../store/membership';
import { codeAccess } from './access';
import { codeBatcher, type Asker, type CodeGrant } from './batch';
import { keyedDigest, keyedDigestOfSeal } from './held';
import type { CodeKey } from './key-ring';
import { codePublicKeyText, openSealedCodeKey } from './sealed-box';

/** The key desktops seal to now (a rotation's new key once it is made: key-ring.ts reads the file again). */
export function publishedCodeKey(ctx: ServerContext): ServerRouteOutput<'codesKey'> {
  const current = ctx.keys.codeKeys.current;
  return { publicKey: codePublicKeyText(current.publicKey), fingerprint: current.id };
}

/**
 * Opened keys, kept while their seal is the one stored and the code key it was sealed to is still
 * held (an X25519 agreement a request is most of a code's cost). Only in this process's memory,
 * which already holds the key that opens them.
 */
const OPENED_LIMIT = 10_000;
const opened = new WeakMap<ServerContext, Map<string, { readonly sealed: string; readonly key: ServerCodeKey }>>();

/** The code keys a stored seal may open with: the one it names (none once deleted), or for a seal from before schema 19, each held. */
function keysFor(ctx: ServerContext, row: SealedCodeRow): readonly CodeKey[] {
  if (row.codeKey !== null) {
    const key = ctx.keys.codeKeys.byId(row.codeKey);
    return key === undefined ? [] : [key];
  }
  return [ctx.keys.codeKeys.current, ...ctx.keys.codeKeys.retiring];
}

function openStored(ctx: ServerContext, vault: string, row: SealedCodeRow): ServerCodeKey | undefined {
  let cache = opened.get(ctx);
  if (cache === undefined) {
    cache = new Map();
    opened.set(ctx, cache);
  }
  const id = `${vault}/${row.entry}`;
  const candidates = keysFor(ctx, row);
  if (candidates.length === 0) {
    // Its code key was deleted: nothing sealed to it opens, not even from this process's memory.
    cache.delete(id);
    return undefined;
  }
  const held = cache.get(id);
  if (held !== undefined && held.sealed === row.sealed) return held.key;
  const binding = { vault, entry: row.entry, group: row.group, keyVersion: row.keyVersion };
  let key: ServerCodeKey | undefined;
  for (const codeKey of candidates) {
    key = openSealedCodeKey(codeKey.privateKey, codeKey.publicKey, binding, row.sealed);
    if (key !== undefined) break;
  }
  if (key === undefined) return undefined;
  cache.delete(id);
  if (cache.size >= OPENED_LIMIT) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(id, { sealed: row.sealed, key });
  return key;
}

function otpParams(key: ServerCodeKey): OtpParams {
  return { kind: key.kind, secret: key.secret, algorithm: key.algorithm, digits: key.digits, period: key.period, counter: 0 };
}

/** One answer for an entry that does not exist (or is deleted) and one in a group the caller does not hold: neither is told from the other. */
function notYours(): CrewvaultError {
  return new CrewvaultError('FORBIDDEN', 'No code for you here: there is no such entry, or it is in an access group you do not hold.');
}

/** The token or session a call came with, for the batch to read again. */
function askerOf(caller: Caller): Asker {
  if (caller.token !== undefined) return { kind: 'token', id: caller.token.id, account: caller.user.id };
  if (caller.session !== undefined) return { kind: 'session', id: caller.session.id, accessExpiresAt: caller.session.accessExpiresAt, account: caller.user.id };
  throw new CrewvaultError('INTERNAL', 'a code was asked by a caller with neither a token nor a session');
}

/**
 * A code for a caller authenticated before the batch (an automation token's, whose scope and vaults the request
 * checked; a session's authenticated in process): the batch reads its token or session again.
 */
export async function computeCode(ctx: ServerContext, caller: Caller, input: ServerRouteInput<'codes'>, source: string): Promise<ServerRouteOutput<'codes'>> {
  requireVaultInReach(caller, input.vault);
  return codeFor(ctx, askerOf(caller), input, source);
}

/**
 * A code for a session as its request presented it, not yet read (server/app.ts, the codes route): the batch's
 * transaction is the session's only read, and judges it as authenticate and requireSecondStep would (batch.ts),
 * one statement a code fewer than reading it for the request and again in the batch.
 */
export async function computeCodeForPresented(ctx: ServerContext, presented: PresentedSession, input: ServerRouteInput<'codes'>, source: string): Promise<ServerRouteOutput<'codes'>> {
  return codeFor(ctx, { kind: 'presented', accessHash: presented.accessHash, deviceId: presented.deviceId }, input, source);
}

async function codeFor(ctx: ServerContext, asker: Asker, input: ServerRouteInput<'codes'>, source: string): Promise<ServerRouteOutput<'codes'>> {
  // Judged in the batch's transaction (batch.ts), under the vault's row: the asker's token or session still
  // standing first, then access, the seal after. Counted against the account, whichever of its tokens or sessions asks.
  const { grant, now } = await codeBatcher(ctx).take({
    asker,
    vault: input.vault, entry: input.entry, source,
    judge: (held: CodeHeld | undefined, at: number): CodeGrant<OtpParams> | CrewvaultError => {
      if (held === undefined) return notYours();
      // The role's permissions as the server holds them: a custom role's from its record (review 13a hole 1).
      if (!held.permissions.includes('otp.view')) return new CrewvaultError('FORBIDDEN', 'Your role does not show one-time codes (needs permission otp.view).');
      const row = held.seal;
      if (row === undefined) return new CrewvaultError('NOT_FOUND', 'The server computes no code for this entry: its group is not set to "server computes codes", or it has no TOTP key.');
      if (held.groupKeyVersion !== row.keyVersion) {
        return new CrewvaultError('CONFLICT', 'This entry\'s key was sealed to the server under an older key of its group: a key holder\'s desktop seals it again at its next sync.');
      }
      const key = openStored(ctx, input.vault, row);
      if (key === undefined) return new CrewvaultError('VAULT_TAMPERED', 'The key stored for this entry does not open with this server\'s code key.');
      const step = timeStep(at, key.period);
      return { step, stepEndsAt: (step + 1) * key.period * 1000, value: otpParams(key) };
    },
  });
  const code = totpCode(grant.value, now);
  return { code: code.code, next: code.next, period: code.period, step: grant.step, expiresAt: code.validUntilMs };
}

export async function sealCodes(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'codesSeal'>, source: string): Promise<ServerRouteOutput<'codesSeal'>> {
  const entries = input.records.map((r) => r.entry);
  if (new Set(entries).size !== entries.length) throw new CrewvaultError('INVALID_INPUT', 'An entry is named twice.');
  // Checked and written in one transaction under the vault's row (as a code is: batch.ts), so a
  // revoke or a move a push commits meanwhile is either seen here or waits for this to commit.
  return ctx.db.transaction(async (tx) => {
    await holdVaults(tx, [input.vault]);
    // Access is settled before anything of the vault is looked at (review 13a hole 4): a person of
    // the vault first (no such vault gets the same answer), then per record the group named, then
    // the entry's place; every way of not holding it is one answer (notYoursToSeal).
    await requirePersonOfVault(tx, input.vault, auth.user.id);
    // Every check before any write: all or nothing. Keys only of groups whose record says the server computes their codes.
    const setOn = await serverCodeGroups(tx, input.vault, [...new Set(input.records.map((r) => r.group))]);
    const current = ctx.keys.codeKeys.current;
    /** Seals held in a group the caller may not edit: left as they are, told as nothing removed. */
    const notTheirs = new Set<string>();
    /** Each seal's keyed digest (held.ts), stored with it: what POST /v1/codes/keys/held compares a desktop's key by. */
    const digests = new Map<string, string>();
    for (const record of input.records) {
      await requireEditor(tx, input.vault, auth.user.id, record.group);
      const held = await findSealedCode(tx, input.vault, record.entry);
      if (record.sealed === null) {
        // A removal: by someone who may edit where the key was. A seal in a group they may not edit
        // is not theirs to know of: nothing removed, no refusal (an answer that differed would say it is there).
        if (held !== undefined && held.group !== record.group && !await mayEdit(tx, input.vault, auth.user.id, held.group)) notTheirs.add(record.entry);
        continue;
      }
      await requireEntryIn(tx, input.vault, auth.user.id, record);
      if (held !== undefined && held.group !== record.group) await requireEditor(tx, input.vault, auth.user.id, held.group);
      if (!setOn.has(record.group)) {
        throw new CrewvaultError('CONFLICT', 'The server does not hold this group as set to "server computes codes": an owner or admin turns it on, and their desktop syncs, first.');
      }
      // Only to the current key: a seal to a retiring one (a desktop that fetched the key before a
      // rotation) would keep alive the key the rotation is retiring. The desktop fetches it again.
      const binding = { vault: input.vault, entry: record.entry, group: record.group, keyVersion: record.keyVersion };
      const sealed = record.sealed;
      const opened = openSealedCodeKey(current.privateKey, current.publicKey, binding, sealed);
      if (opened !== undefined) digests.set(record.entry, keyedDigestOfSeal(current, binding, opened));
      else {
        if (ctx.keys.codeKeys.retiring.some((k) => openSealedCodeKey(k.privateKey, k.publicKey, binding, sealed) !== undefined)) {
          throw new CrewvaultError('CONFLICT', 'A key was sealed to this server\'s previous code key: the server\'s code key was rotated; fetch it again (GET /v1/codes/key) and seal again.');
        }
        throw new CrewvaultError('INVALID_INPUT', 'A sealed key does not open for its entry with this server\'s code key: check the server\'s code key fingerprint.');
      }
    }
    // Groups a desktop holds as off: their leftover keys go only where the server holds the group's
    // record as off too (a desktop that does not know the setting drops nothing), and only for someone
    // who may edit there; the rest is nothing to refuse a sync for. Turning a group off drops its keys
    // when its record reaches the server (group-setting.ts).
    const askedOff = [...new Set(input.groupsOff ?? [])];
    const heldOn = await serverCodeGroups(tx, input.vault, askedOff);
    const groupsOff: string[] = [];
    for (const group of askedOff) {
      if (heldOn.has(group)) continue;
      const access = await codeAccess(tx, input.vault, auth.user.id, group);
      if (access?.permissions.includes('entries.edit') === true) groupsOff.push(group);
    }
    let stored = 0;
    let removed = 0;
    const events: AuditEvent[] = [];
    for (const group of groupsOff) {
      const dropped = await deleteSealedCodesOfGroup(tx, input.vault, group);
      removed += dropped;
      if (dropped > 0) events.push({ kind: 'codes.key-removed', actorId: auth.user.id, source, detail: { vault: input.vault, group, keys: dropped } });
    }
    for (const record of input.records) {
      if (record.sealed === null) {
        if (!notTheirs.has(record.entry) && await deleteSealedCode(tx, input.vault, record.entry)) {
          removed += 1;
          events.push({ kind: 'codes.key-removed', actorId: auth.user.id, source, detail: { vault: input.vault, entry: record.entry } });
        }
      } else {
        await putSealedCode(tx, input.vault, { entry: record.entry, group: record.group, keyVersion: record.keyVersion, sealed: record.sealed, codeKey: current.id, digest: digests.get(record.entry) ?? null }, auth.user.id, ctx.now());
        stored += 1;
        events.push({ kind: 'codes.key-sealed', actorId: auth.user.id, source, detail: { vault: input.vault, entry: record.entry, group: record.group, keyVersion: record.keyVersion } });
      }
    }
    await appendAuditBatch(tx, ctx, events);
    return { stored, removed };
  });
}

/**
 * Which of a desktop's keys the server does not hold sealed as they are, to its current code key (POST
 * /v1/codes/keys/held): the desktop hands over only those. A key of a group the caller may not edit (or in no such
 * vault) is needed, the same answer as a key not held: nothing is told of a seal not theirs, and handing it is refused as
 * ever. Reads only, nothing audited (it hands no key and shows none).
 */
export async function sealsNeeded(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'codesHeld'>): Promise<ServerRouteOutput<'codesHeld'>> {
  const current = ctx.keys.codeKeys.current;
  return ctx.db.transaction(async (tx) => {
    const person = await personOfAccount(tx, input.vault, auth.user.id);
    const editable = new Set<string>();
    if (person !== undefined && !person.disabled) {
      for (const group of new Set(input.keys.map((k) => k.group))) if (await mayEdit(tx, input.vault, auth.user.id, group)) editable.add(group);
    }
    const held = await sealDigestsOf(tx, input.vault, input.keys.filter((k) => editable.has(k.group)).map((k) => k.entry));
    const needed = input.keys.filter((k) => {
      const seal = held.get(k.entry);
      return !editable.has(k.group) || seal === undefined || seal.group !== k.group || seal.codeKey !== current.id || seal.digest !== keyedDigest(current, k.digest);
    });
    return { needed: needed.map((k) => k.entry) };
  });
}

/** The one answer to everyone who may not hand this key over: no such vault, entry or group told apart from one they do not hold (review 13a hole 4). */
function notYoursToSeal(): CrewvaultError {
  return new CrewvaultError('FORBIDDEN', 'Only a member of the entry\'s group who may edit it hands its key to the server: there is no such vault or entry here, or it is in an access group you may not edit.');
}

/** A person of the vault, not disabled; a vault the server does not hold is answered alike (a creator not bound yet holds no group to seal for). */
async function requirePersonOfVault(tx: Transaction, vault: string, account: string): Promise<void> {
  const person = await personOfAccount(tx, vault, account);
  if (person === undefined || person.disabled) throw notYoursToSeal();
}

/**
 * A current member whose role may edit there, and may hold the group's secret key there (shared/policy
 * mayHoldSecretKeyIn): in a group whose codes the server computes, a role without otp.reveal_secret
 * holds the list key alone, and its entries.edit does not work in it (review D2).
 */
async function mayEdit(tx: Transaction, vault: string, account: string, group: string): Promise<boolean> {
  const access = await codeAccess(tx, vault, account, group);
  if (access === undefined || !access.permissions.includes('entries.edit')) return false;
  return mayHoldSecretKeyIn(access.permissions, (await serverCodeGroups(tx, vault, [group])).has(group));
}

/** Sealing a group's key to the server is an edit of its entries: a current member whose role may edit. */
async function requireEditor(tx: Transaction, vault: string, account: string, group: string): Promise<void> {
  if (!await mayEdit(tx, vault, account, group)) throw notYoursToSeal();
}

/**
 * The entry is where the record says, asked only of an editor of the group named: no such entry, and
 * one in a group they may not edit, get the one refusal; one in another group they may edit, or at
 * another key version of their group, is told (CONFLICT: they hold both, nothing new is told).
 */
async function requireEntryIn(tx: Transaction, vault: string, account: string, record: { readonly entry: string; readonly group: string; readonly keyVersion: number }): Promise<void> {
  const placement = await entryPlacement(tx, vault, record.entry);
  if (placement === undefined) throw notYoursToSeal();
  if (placement.group !== record.group && !await mayEdit(tx, vault, account, placement.group)) throw notYoursToSeal();
  if (placement.group !== record.group || placement.keyVersion !== record.keyVersion) {
    throw new CrewvaultError('CONFLICT', 'The entry is in another group or under another key version on the server: sync, then seal it again.');
  }
}
