/**
 * Audit event signatures v3 (shared/sync/event-v3.ts; docs/SYNC.md "Events of groups one does not
 * hold"): with real Ed25519 keys and SHA-256 from node:crypto, an event signed once holds whole
 * and redacted (the same signature, so the device chain links through either form); a member
 * holding none of its groups takes the redacted form; a forged body under the real header, a body
 * moved under another event, a digest swapped by a relay, a scope of no group over a body of one
 * (and the reverse), and a redacted event the member was owed whole (tagged under a scope key they
 * hold, or of no group) are refused (VAULT_TAMPERED). The tag is keyed with the group's scope key:
 * someone holding every group id but not the key cannot tell which group a redacted event is of.
 * A tag of the rule before the group was named matches under any equal key, so it never refuses:
 * taken redacted and marked (mayBeWithheld); a whole event its author tagged as another held
 * group's than its body names is refused as the author's doing (review of 02a52ce).
 * Must never: pass with any of those checks removed.
 */
import { createHash, createHmac, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkReceivedEventV3, eventBodyDigest, eventHeaderTextV3, eventScope, eventScopeUnnamed, redactEventV3, TAGGED_AS_ANOTHER, type EventBodyV3, type EventHeaderV3, type GroupScope, type HeldScopeKey,
  type ReceivedEventV3, type ScopeHashes,
} from '../../shared/sync/event-v3';
import { CrewvaultError } from '../../shared/errors';

const VAULT = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';
const OPS = '11111111-2222-4333-8444-555555555555';
const NET = '66666666-7777-4888-9999-aaaaaaaaaaaa';
const ENTRY = 'bbbbbbbb-cccc-4ddd-8eee-ffffffffffff';
const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const hashes: ScopeHashes = { sha256Hex, hmacSha256Hex: (keyHex, text) => createHmac('sha256', Buffer.from(keyHex, 'hex')).update(text, 'utf8').digest('hex') };
/** Each group's scope key, as its holders derive it from the group's key (electron/vault/audit-event-texts.ts eventScopeKey). */
const KEY: Readonly<Record<string, string>> = { [OPS]: randomBytes(32).toString('hex'), [NET]: randomBytes(32).toString('hex') };
const keyOf = (group: string | null): GroupScope | null => (group === null ? null : { key: KEY[group] ?? '', group });
/** The scope keys of `groups` as their holder works them out from the list keys it holds. */
const keysOf = (...groups: string[]): HeldScopeKey[] => groups.map((g) => ({ group: g, key: KEY[g] ?? '', derived: true }));

interface Signed {
  readonly header: EventHeaderV3;
  readonly body: EventBodyV3;
  readonly signature: Buffer;
}

function signEvent(key: KeyObject, uid: string, group: string | null, entry: string | null): Signed {
  const body: EventBodyV3 = { saltHex: randomBytes(16).toString('hex'), subject: null, entry, customer: null, group, sealedDetailBase64: randomBytes(40).toString('base64') };
  const header: EventHeaderV3 = {
    uid, at: Date.UTC(2026, 10, 30, 21, 0, 0), actor: '01234567-89ab-4cde-8f01-23456789abcd', action: 'entry.edit',
    deviceHex: randomBytes(16).toString('hex'), devicePrevHex: null, signerKey: '76543210-ba98-4edc-8f10-fedcba987654', scope: eventScope(VAULT, uid, keyOf(group), hashes),
  };
  const signature = sign(null, Buffer.from(eventHeaderTextV3(VAULT, header, eventBodyDigest(VAULT, uid, body, sha256Hex)), 'utf8'), key);
  return { header, body, signature };
}

function holdsUnder(publicKey: KeyObject, signature: Buffer): (text: string) => boolean {
  return (text) => verify(null, Buffer.from(text, 'utf8'), publicKey, signature);
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof CrewvaultError) return `${error.code}: ${error.message}`;
    throw error;
  }
  return 'taken';
}

describe('audit event signatures v3: whole and redacted', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const event = signEvent(privateKey, 'a0a0a0a0-b1b1-4c2c-8d3d-e4e4e4e4e4e4', OPS, ENTRY);
  const holds = holdsUnder(publicKey, event.signature);

  it('holds whole for a member of its group, and redacted for a member of none, under one signature', () => {
    expect(checkReceivedEventV3(VAULT, { form: 'whole', header: event.header, body: event.body }, keysOf(OPS, NET), holds, hashes)).toEqual({ redacted: false });
    const redacted = redactEventV3(VAULT, event.header, event.body, sha256Hex);
    expect(JSON.stringify(redacted)).not.toContain(ENTRY);
    expect(JSON.stringify(redacted)).not.toContain(OPS);
    expect(checkReceivedEventV3(VAULT, redacted, keysOf(NET), holds, hashes)).toEqual({ redacted: true });
  });

  it('refuses a forged body under the real header, and the real body moved under another event', () => {
    const forged: EventBodyV3 = { ...event.body, entry: 'cccccccc-dddd-4eee-8fff-000000000000' };
    expect(refusal(() => checkReceivedEventV3(VAULT, { form: 'whole', header: event.header, body: forged }, keysOf(OPS), holds, hashes))).toMatch(/^VAULT_TAMPERED: .*body is not the one signed/);
    const other = signEvent(privateKey, 'f0f0f0f0-e1e1-4d2d-8c3c-b4b4b4b4b4b4', OPS, null);
    const moved: ReceivedEventV3 = { form: 'whole', header: other.header, body: event.body };
    expect(refusal(() => checkReceivedEventV3(VAULT, moved, keysOf(OPS), holdsUnder(publicKey, other.signature), hashes))).toMatch(/^VAULT_TAMPERED/);
  });

  it('refuses a redacted event whose digest a relay swapped', () => {
    const swapped: ReceivedEventV3 = { form: 'redacted', header: event.header, bodyDigest: sha256Hex('another body') };
    expect(refusal(() => checkReceivedEventV3(VAULT, swapped, keysOf(NET), holds, hashes))).toMatch(/^VAULT_TAMPERED: .*does not hold under its signature/);
  });

  it('refuses a redacted event its receiver was owed whole: of a group they hold, or of no group', () => {
    const redacted = redactEventV3(VAULT, event.header, event.body, sha256Hex);
    expect(refusal(() => checkReceivedEventV3(VAULT, redacted, keysOf(NET, OPS), holds, hashes))).toMatch(/^VAULT_TAMPERED: .*withheld/);
    const signIn = signEvent(privateKey, 'd0d0d0d0-c1c1-4b2b-8a3a-949494949494', null, null);
    const hidden = redactEventV3(VAULT, signIn.header, signIn.body, sha256Hex);
    expect(refusal(() => checkReceivedEventV3(VAULT, hidden, [], holdsUnder(publicKey, signIn.signature), hashes))).toMatch(/^VAULT_TAMPERED: .*withheld/);
  });

  it('refuses an event whose signed scope is of no group over a body of one, and the reverse (its holders could not tell it withheld)', () => {
    for (const [uid, bodyGroup, scopeKey] of [['e0e0e0e0-d1d1-4c2c-8b3b-a4a4a4a4a4a4', OPS, null], ['e1e1e1e1-d1d1-4c2c-8b3b-a4a4a4a4a4a4', null, keyOf(OPS)]] as const) {
      const body: EventBodyV3 = { ...event.body, group: bodyGroup };
      const header: EventHeaderV3 = { ...event.header, uid, scope: eventScope(VAULT, uid, scopeKey, hashes) };
      const signature = sign(null, Buffer.from(eventHeaderTextV3(VAULT, header, eventBodyDigest(VAULT, uid, body, sha256Hex)), 'utf8'), privateKey);
      expect(refusal(() => checkReceivedEventV3(VAULT, { form: 'whole', header, body }, keysOf(OPS), holdsUnder(publicKey, signature), hashes))).toMatch(/^VAULT_TAMPERED: .*scope/);
    }
  });

  it('keys the tag with the group\'s scope key: not recomputable from the group\'s id (which every member holds) nor under another group\'s key, and not linkable across events', () => {
    const tags = [0, 1, 2].map((i) => signEvent(privateKey, `a${i}a0a0a0-b1b1-4c2c-8d3d-e4e4e4e4e4e4`, OPS, ENTRY).header);
    for (const header of tags) {
      // The old, unkeyed tag (SHA-256 over the vault, event and group id) is not it; neither is a tag under NET's key.
      expect(header.scope).not.toBe(sha256Hex(JSON.stringify(['crewvault/v3 event scope', VAULT, header.uid, OPS])));
      expect(header.scope).not.toBe(eventScope(VAULT, header.uid, keyOf(NET), hashes));
      expect(header.scope).toBe(eventScope(VAULT, header.uid, keyOf(OPS), hashes));
    }
    expect(new Set(tags.map((h) => h.scope)).size).toBe(3);
  });

  it('names the group in the tag: a key of NET carried as OPS\'s matches none of NET\'s events', () => {
    const net = signEvent(privateKey, 'b0b0b0b0-a1a1-4c2c-8d3d-e4e4e4e4e4e4', NET, ENTRY);
    const redacted = redactEventV3(VAULT, net.header, net.body, sha256Hex);
    const holdsNet = holdsUnder(publicKey, net.signature);
    // Review round fourteen: a list signer who holds NET carries NET's key in OPS's list (or wraps it as OPS's key): the holder of OPS only is not owed NET's body.
    for (const derived of [false, true]) {
      expect(checkReceivedEventV3(VAULT, redacted, [...keysOf(OPS), { group: OPS, key: KEY[NET] ?? '', derived }], holdsNet, hashes)).toEqual({ redacted: true });
    }
    // NET's holder, under either form of its key, is owed it: withheld.
    expect(refusal(() => checkReceivedEventV3(VAULT, redacted, [{ group: NET, key: KEY[NET] ?? '', derived: false }], holdsNet, hashes))).toMatch(/^VAULT_TAMPERED: .*withheld/);

  });

  it('never refuses an event by the tag of the rule before the group was named (it cannot tell groups apart): taken redacted and marked as maybe withheld, under a derived or a carried key alike', () => {
    // An event of NET tagged by the earlier rule (no group named).
    const net = signEvent(privateKey, 'b0b0b0b0-a1a1-4c2c-8d3d-e4e4e4e4e4e4', NET, ENTRY);
    const uid = 'c0c0c0c0-a1a1-4c2c-8d3d-e4e4e4e4e4e4';
    const header: EventHeaderV3 = { ...net.header, uid, scope: eventScopeUnnamed(VAULT, uid, KEY[NET] ?? '', hashes) };
    const body: EventBodyV3 = { ...net.body };
    const signature = sign(null, Buffer.from(eventHeaderTextV3(VAULT, header, eventBodyDigest(VAULT, uid, body, sha256Hex)), 'utf8'), privateKey);
    const earlier = redactEventV3(VAULT, header, body, sha256Hex);
    const holds = holdsUnder(publicKey, signature);
    // NET's holder (key derived here); OPS's holder whose derived OPS key equals NET's (a rotation that chose NET's list key:
    // review of 02a52ce, finding 1); and a key carried in OPS's list (finding 2): the same answer, never a refusal.
    for (const held of [keysOf(NET), [{ group: OPS, key: KEY[NET] ?? '', derived: true }], [{ group: OPS, key: KEY[NET] ?? '', derived: false }], [{ group: NET, key: KEY[NET] ?? '', derived: false }]]) {
      expect(checkReceivedEventV3(VAULT, earlier, held, holds, hashes)).toEqual({ redacted: true, mayBeWithheld: true });
    }
    // Under no key of it: redacted, nothing to tell.
    expect(checkReceivedEventV3(VAULT, earlier, keysOf(OPS), holds, hashes)).toEqual({ redacted: true });
    // Whole, it is taken as ever (its tag is not matched).
    expect(checkReceivedEventV3(VAULT, { form: 'whole', header, body }, keysOf(OPS, NET), holds, hashes)).toEqual({ redacted: false });
  });

  it('refuses a whole event its author tagged as another held group\'s than its body names, as its author\'s doing (review of 02a52ce, finding 4)', () => {
    // A body of NET under OPS's named tag: a holder of OPS only would get it redacted and refuse it as withheld.
    const uid = 'd0d0d0d0-a1a1-4c2c-8d3d-e4e4e4e4e4e4';
    const body: EventBodyV3 = { saltHex: randomBytes(16).toString('hex'), subject: null, entry: ENTRY, customer: null, group: NET, sealedDetailBase64: null };
    const header: EventHeaderV3 = { ...event.header, uid, scope: eventScope(VAULT, uid, keyOf(OPS), hashes) };
    const signature = sign(null, Buffer.from(eventHeaderTextV3(VAULT, header, eventBodyDigest(VAULT, uid, body, sha256Hex)), 'utf8'), privateKey);
    const holds = holdsUnder(publicKey, signature);
    expect(refusal(() => checkReceivedEventV3(VAULT, { form: 'whole', header, body }, keysOf(OPS, NET), holds, hashes))).toBe(`VAULT_TAMPERED: A received audit event ${TAGGED_AS_ANOTHER}: it is set aside, nothing of it taken.`);
    // A holder of NET only cannot tell the tag from one of NET's at a key version before its own: taken.
    expect(checkReceivedEventV3(VAULT, { form: 'whole', header, body }, keysOf(NET), holds, hashes)).toEqual({ redacted: false });
    // The honest tag of NET is taken by the holder of both.
    const honest = signEvent(privateKey, 'e0e0e0e0-a1a1-4c2c-8d3d-e4e4e4e4e4e4', NET, ENTRY);
    expect(checkReceivedEventV3(VAULT, { form: 'whole', header: honest.header, body: honest.body }, keysOf(OPS, NET), holdsUnder(publicKey, honest.signature), hashes)).toEqual({ redacted: false });
  });

  it('keeps a signature to another vault from holding', () => {
    const elsewhere = '99999999-8888-4777-8666-555555555555';
    expect(refusal(() => checkReceivedEventV3(elsewhere, { form: 'whole', header: event.header, body: event.body }, keysOf(OPS), holds, hashes))).toMatch(/^VAULT_TAMPERED/);
  });
});
