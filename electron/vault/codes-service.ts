/**
 * One-time codes and reveals: the code of an entry's OTP, its password, its OTP key. Each is
 * opened inside a write transaction that records it (the step or counter a code was for; a
 * reveal or a copy), and an HOTP code advances the stored counter in the same transaction.
 * Must never give someone who may not see the key a code ahead of time (a TOTP code for
 * another step, a burst of HOTP codes, the next HOTP code), and never log a secret.
 */
import type { ServerRouteOutput } from '../../shared/api/server-contract';
import { CrewvaultError } from '../../shared/errors';
import { buildOtpUri, groupSecret, hotpCode, timeStep, totpCode, type HotpCode, type OtpKind, type TotpCode } from '../../shared/otp';
import type { Permission } from '../../shared/policy';
import { heldGroupKey, visibleEntryRow } from './entry-access';
import type { EntriesCore } from './entries-service';
import { openDetails, openSummary, storedOtp, type SealedDetails, type SealedSummary } from './sealed-entry';
import { requireHotpPace } from './hotp-pace';
import type { EntryRow } from './store-entries';
import type { OtpParams } from '../../shared/otp';
import { groupServerCodes, listGroups } from './store-groups';
import { listEntryRowsInGroups } from './store-entries';
import { uidText } from './ids';
import { getMeta } from './store-meta';
import type { ReadDb, WriteDb } from './db';

export const OTP_AUDIT_INTERVAL_MS = 10 * 60_000;

/**
 * Why a code is asked, which the door says and the vault turns into the audit action:
 * `view` — a screen showing the live code (the only passive one); `copy` — put on the
 * clipboard; `print` — handed to a terminal, a pipe or a script (crewvault otp).
 */
export type CodePurpose = 'view' | 'copy' | 'print';

/**
 * The audit actions of codes. Only OTP_VIEW_ACTION is a passive look (deduplicated per entry
 * per session or OTP_AUDIT_INTERVAL_MS, hidden by default on the audit screen); every other one
 * is a code handed out on purpose, written every time. Never decided by a door.
 */
export const OTP_VIEW_ACTION = 'otp.code';
export const OTP_ACTIVE_ACTIONS = {
  /** The current code copied to the clipboard. */
  copy: 'otp.copy',
  /** The current code printed by the CLI (to a terminal, a pipe, a script). */
  print: 'otp.print',
  /** A code for a step other than the current one (collected ahead or looked back at). */
  otherStep: 'otp.code_at',
  /** An HOTP code: each one uses up the counter, whatever it was asked for. */
  hotp: 'otp.hotp',
} as const;

/** The action of a TOTP/Steam code: passive only for a current-step view on screen. */
function totpAction(purpose: CodePurpose, currentStep: boolean): string {
  if (!currentStep) return OTP_ACTIVE_ACTIONS.otherStep;
  if (purpose === 'copy') return OTP_ACTIVE_ACTIONS.copy;
  if (purpose === 'print') return OTP_ACTIVE_ACTIONS.print;
  return OTP_VIEW_ACTION;
}
/** How often a role without otp.reveal_secret may take the next HOTP code of one entry (hotp-pace.ts). */
export { HOTP_CODE_INTERVAL_MS } from './hotp-pace';

/**
 * Where a code of a group set to "server computes codes" comes from for someone who holds no
 * secret key of it (codes-only): the team server (electron/team/desk.ts asks it through the
 * signed-in TeamClient). Undefined when this desktop is not signed in to one.
 */
export type ServerCodeSource = (vault: string, entry: string) => Promise<ServerRouteOutput<'codes'>>;

/** A TOTP key this desktop hands the team server for a group set to "server computes codes". */
export interface ServerCodeKeyOut {
  readonly entry: string;
  readonly group: string;
  readonly keyVersion: number;
  readonly params: OtpParams;
}

/** What a sync hands the team server of server-computed codes' keys (serverCodeKeys). */
export interface ServerCodeKeysView {
  readonly vault: string;
  readonly keys: readonly ServerCodeKeyOut[];
  /**
   * The entries of those groups without a TOTP key (none, or HOTP): a key the server holds for one of them goes as a
   * tombstone, which only a key holder can tell (the server cannot see the key).
   */
  readonly keyless: ReadonlyArray<{ readonly entry: string; readonly group: string; readonly keyVersion: number }>;
  readonly groupsOff: readonly string[];
}

export interface RevealedOtp {
  /** Normalised key, in groups of four. */
  readonly secret: string;
  readonly uri: string;
}

/** What codes and reveals need of a signed-in session. */
export interface CodesCore extends Pick<EntriesCore, 'ring' | 'customers' | 'now' | 'read' | 'write' | 'audit' | 'require'> {
  userId(): number;
  permissions(db: ReadDb): readonly Permission[];
  /** Seals `row` again where it is (entries-service.ts, the one write path for an entry). */
  rewrite(db: WriteDb, row: EntryRow, fields: Omit<SealedSummary, 'c'>, details: SealedDetails): void;
}

export class CodesService {
  private readonly core: CodesCore;
  /** When this session last audited a passive view of each entry's code. */
  private readonly auditedAt = new Map<number, number>();

  constructor(core: CodesCore) {
    this.core = core;
  }

  /**
   * The entry's code. TOTP/Steam: at `atMs`, or now by the vault's clock when it is left out
   * (read once, inside the transaction: a caller's "now" taken before a sign-in or a wait for the
   * writer could fall in the step before, and be refused as a code at another time). Someone who
   * may not see the key (codes-only) gets the current step only (its result names the next code
   * too, as the screen shows), so codes cannot be collected ahead to use after access ends. HOTP: the code for the stored
   * counter, which then advances and is saved (a used HOTP code is never shown again).
   * Audited with the step or counter it was for: a copy, a code at another time and every HOTP
   * code each time; a screen's passive refresh once per entry per OTP_AUDIT_INTERVAL_MS.
   */
  async otpCode(id: number, atMs?: number, purpose: CodePurpose = 'view', fromServer?: ServerCodeSource): Promise<(TotpCode | HotpCode) & { readonly kind: OtpKind }> {
    // One transaction decides where the code comes from and, computed here, gives it (a code is
    // asked every period by every row on screen: a separate read first cost a transaction each).
    const local = await this.core.write((w) => {
      this.core.require(w, 'otp.view');
      const row = visibleEntryRow(w, this.core.ring, id);
      const group = heldGroupKey(this.core.ring, row.group_id);
      // Holding the secret key, this desktop computes the code itself, as for any group; else,
      // in a group set to "server computes codes", the server does (nothing written here).
      if (group.secret === undefined && groupServerCodes(w, row.group_id)) {
        return { remote: { row, vault: getMeta(w, 'vault_id') ?? '', entry: uidText(row.uid), summary: openSummary(row, group) } };
      }
      const summary = openSummary(row, group);
      const details = openDetails(row, group);
      const otp = storedOtp(details);
      if (!otp || !details.otp) throw new CrewvaultError('NOT_FOUND', 'This entry has no one-time password.');
      const path = `${this.core.customers.name(w, row.customer_id)}/${summary.t}`;
      const audit = (action: string, detail: string): void => {
        this.core.audit(w, { action, entry_id: id, customer_id: row.customer_id, group_id: row.group_id }, `${path} (${detail})`);
      };
      const mayLookAhead = this.core.permissions(w).includes('otp.reveal_secret');
      if (otp.params.kind === 'hotp') {
        // Each HOTP code is the next one the service will accept: someone who may not see the
        // key gets one at a time, one per HOTP_CODE_INTERVAL_MS, so codes cannot be collected
        // ahead in a burst (each is audited with its counter); a history still arriving counts as a code just now.
        if (!mayLookAhead) requireHotpPace(w, this.core.userId(), id, this.core.now());
        const result = hotpCode(otp.params);
        this.core.rewrite(w, row, summary, { ...details, otp: { ...details.otp, counter: otp.params.counter + 1 } });
        audit(OTP_ACTIVE_ACTIONS.hotp, `HOTP counter ${result.counter}${purpose === 'view' ? '' : `, ${purpose === 'copy' ? 'copied' : 'printed'}`}`);
        // The next HOTP code is the one the next person will be shown: someone who may not see
        // the key does not get it ahead (an empty string says "not shown").
        return { code: { ...result, next: mayLookAhead ? result.next : '', kind: 'hotp' as const } };
      }
      const now = this.core.now();
      const nowMs = atMs ?? now;
      const step = timeStep(nowMs, otp.params.period);
      const currentStep = timeStep(now, otp.params.period);
      if (step !== currentStep && !mayLookAhead) {
        throw new CrewvaultError('FORBIDDEN', 'Your role shows only the current code (needs permission otp.reveal_secret for a code at another time).');
      }
      // A screen refreshes a visible code every period: one row per entry per interval says
      // "this person saw these codes" without burying the log. Anything else is an act,
      // written every time under its own action.
      const action = totpAction(purpose, step === currentStep);
      const last = this.auditedAt.get(id);
      if (action !== OTP_VIEW_ACTION || last === undefined || now - last >= OTP_AUDIT_INTERVAL_MS) {
        audit(action, `step ${step}`);
        if (action === OTP_VIEW_ACTION) this.auditedAt.set(id, now);
      }
      return { code: { ...totpCode(otp.params, nowMs), kind: otp.params.kind } };
    });
    if (local.remote !== undefined) return this.serverCode(id, local.remote, atMs, purpose, fromServer);
    if (local.code === undefined) throw new CrewvaultError('INTERNAL', 'a code was neither computed here nor left to the server');
    return local.code;
  }

  /**
   * A code the team server computed (the group is set to "server computes codes" and this person
   * holds no secret key of it): the current step only, so `atMs` given must be this second; audited here as a
   * code computed on this desktop is (the server audits it too, with its step).
   */
  private async serverCode(id: number, remote: { row: EntryRow; vault: string; entry: string; summary: SealedSummary }, atMs: number | undefined, purpose: CodePurpose, fromServer: ServerCodeSource | undefined): Promise<TotpCode & { readonly kind: OtpKind }> {
    if (remote.summary.o === null) throw new CrewvaultError('NOT_FOUND', 'This entry has no one-time password.');
    if (remote.summary.o === 'hotp') throw new CrewvaultError('FORBIDDEN', 'The team server computes time-based codes only: ask someone who holds this group\'s keys for this HOTP code.');
    if (fromServer === undefined) throw new CrewvaultError('SERVER_UNREACHABLE', 'The team server computes this group\'s codes: sign in to it (Team server) to see them.');
    const now = this.core.now();
    if (atMs !== undefined && atMs !== now && Math.floor(atMs / 1000) !== Math.floor(now / 1000)) throw new CrewvaultError('FORBIDDEN', 'The team server gives the current code only.');
    const got = await fromServer(remote.vault, remote.entry);
    const after = this.core.now();
    await this.core.write((w) => {
      const action = totpAction(purpose, true);
      const last = this.auditedAt.get(id);
      if (action !== OTP_VIEW_ACTION || last === undefined || after - last >= OTP_AUDIT_INTERVAL_MS) {
        const path = `${this.core.customers.name(w, remote.row.customer_id)}/${remote.summary.t}`;
        this.core.audit(w, { action, entry_id: id, customer_id: remote.row.customer_id, group_id: remote.row.group_id }, `${path} (step ${got.step}, from the team server)`);
        if (action === OTP_VIEW_ACTION) this.auditedAt.set(id, after);
      }
    });
    const remainingMs = Math.max(0, got.expiresAt - after);
    return {
      code: got.code, next: got.next, period: got.period, remainingMs, remainingSeconds: Math.ceil(remainingMs / 1000), validUntilMs: got.expiresAt,
      kind: remote.summary.o === 'steam' ? 'steam' : 'totp',
    };
  }

  /** The entry's password; `purpose` names the audit action (a copy is audited as one). */
  async revealPassword(id: number, purpose: 'reveal' | 'copy' = 'reveal'): Promise<string> {
    return this.reveal(id, 'passwords.reveal', `password.${purpose}`, (details) => details.p);
  }

  async revealOtpSecret(id: number): Promise<RevealedOtp> {
    return this.reveal(id, 'otp.reveal_secret', 'otp.reveal_secret', (details, summary, customer) => {
      const otp = storedOtp(details);
      if (!otp) throw new CrewvaultError('NOT_FOUND', 'This entry has no one-time password.');
      const issuer = otp.issuer ?? customer;
      return { secret: groupSecret(otp.params.secret), uri: buildOtpUri({ params: otp.params, issuer, account: summary.u || summary.t }) };
    });
  }

  /**
   * The TOTP keys of every group set to "server computes codes" whose secret key this person
   * holds, when they may edit entries (the server takes keys from editors only): what a sync
   * hands the team server (electron/team/server-codes.ts seals them), and the groups it holds
   * that are not set so (whose keys the server is to drop). HOTP keys are left out:
   * their counter lives in the sealed entry (such an entry is among the keyless). Never audited one by one: the group's setting was.
   */
  async serverCodeKeys(): Promise<ServerCodeKeysView> {
    return this.core.read((r) => {
      const vault = getMeta(r, 'vault_id') ?? '';
      if (!this.core.permissions(r).includes('entries.edit')) return { vault, keys: [], keyless: [], groupsOff: [] };
      const held = listGroups(r).filter((g) => this.core.ring.groups.get(g.id)?.secret !== undefined);
      const groups = held.filter((g) => g.server_codes === 1);
      const groupsOff = held.filter((g) => g.server_codes !== 1).map((g) => uidText(g.uid));
      const uids = new Map(groups.map((g) => [g.id, uidText(g.uid)]));
      const keys: ServerCodeKeyOut[] = [];
      const keyless: Array<ServerCodeKeysView['keyless'][number]> = [];
      for (const row of listEntryRowsInGroups(r, groups.map((g) => g.id))) {
        const group = heldGroupKey(this.core.ring, row.group_id);
        const otp = storedOtp(openDetails(row, group));
        const place = { entry: uidText(row.uid), group: uids.get(row.group_id) ?? '', keyVersion: row.key_version };
        if (otp === null || otp.params.kind === 'hotp') keyless.push(place);
        else keys.push({ ...place, params: otp.params });
      }
      return { vault, keys, keyless, groupsOff };
    });
  }

  /** Forgets when codes were last audited (the session locked). */
  clear(): void {
    this.auditedAt.clear();
  }

  private async reveal<T>(id: number, permission: Permission, action: string, pick: (details: SealedDetails, summary: SealedSummary, customer: string) => T): Promise<T> {
    return this.core.write((w) => {
      this.core.require(w, permission);
      const row = visibleEntryRow(w, this.core.ring, id);
      const group = heldGroupKey(this.core.ring, row.group_id);
      const summary = openSummary(row, group);
      const customer = this.core.customers.name(w, row.customer_id);
      const value = pick(openDetails(row, group), summary, customer);
      this.core.audit(w, { action, entry_id: id, customer_id: row.customer_id, group_id: row.group_id }, `${customer}/${summary.t}`);
      return value;
    });
  }
}
