/**
 * Events of groups one does not hold, on the server (#15, docs/SYNC.md "Events of groups one does
 * not hold", signature v3): a v3 event is pushed whole and checked (its body hashing to the digest
 * its author signed over its header, its scope the no-group tag exactly when its body names no
 * group), stored with its body's group and digest (schema 22), and handed by that group — the tag
 * is keyed with a scope key the server never holds — whole to owners, admins and members of its group, redacted (header,
 * digest, signature, no body) to anyone else, in pull and snapshot alike. v2 events go as before.
 * What each member receives is checked by the receiver's own rule (shared/sync/event-v3.ts
 * checkReceivedEventV3) over the raw HTTP bodies. Real server over HTTP, real Ed25519,
 * PostgreSQL and PGlite.
 */
import { createHash, createHmac, randomBytes, randomUUID, verify, createPublicKey } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { SERVER_ROUTES, DEVICE_HEADER } from '../../shared/api/server-contract';
import { checkReceivedEventV3, eventBodyDigest, eventHeaderTextV3, eventScope, type EventBodyV3, type EventHeaderV3, type HeldScopeKey, type ScopeHashes } from '../../shared/sync/event-v3';
import type { EventRecord } from '../../shared/sync/records';
import { pullHistory, verifyServerHistory, type PulledRecord, type TrustedKey } from '../../electron/team/history-verify';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { entryIn, pushOf, serverWithPeople, twoGroupRecords, twoGroupVault, type TwoGroupVault } from './people';
import { linkOf, signEvent, signerOf, signText, type TestSigner } from './signers';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();
const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const hashes: ScopeHashes = { sha256Hex, hmacSha256Hex: (keyHex, text) => createHmac('sha256', Buffer.from(keyHex, 'hex')).update(text, 'utf8').digest('hex') };
/** Each group's scope key as its holders' desktops derive it from the group's key (random here: the server never holds one), with the group it is of. */
const scopeKeys = new Map<string, string>();
function scopeKeyOf(group: string): HeldScopeKey {
  let key = scopeKeys.get(group);
  if (key === undefined) {
    key = randomBytes(32).toString('hex');
    scopeKeys.set(group, key);
  }
  return { group, key, derived: true };
}
const hexOf = (b64url: string | null): string | null => (b64url === null ? null : Buffer.from(b64url, 'base64url').toString('hex'));

interface V3Fields {
  readonly actor: string;
  readonly action: string;
  readonly device: string;
  readonly devicePrev: string | null;
  readonly subject?: string;
  readonly entry?: string;
  readonly group?: string;
  readonly sealedDetail?: string;
  /** Sign the scope of this group instead of the body's (a forgery). */
  readonly scopeGroup?: string | null;
}

function headerOf(r: EventRecord): EventHeaderV3 {
  return { uid: r.id, at: r.at, actor: r.actor, action: r.action, deviceHex: hexOf(r.device), devicePrevHex: hexOf(r.devicePrev), signerKey: r.signerKey, scope: r.scope ?? '' };
}

function bodyOf(r: EventRecord): EventBodyV3 {
  return {
    saltHex: r.bodySalt ?? '', subject: r.subject, entry: r.entry, customer: r.customer, group: r.group,
    sealedDetailBase64: r.sealedDetail === null ? null : Buffer.from(r.sealedDetail, 'base64url').toString('base64'),
  };
}

/** An event as a desktop would sign it with the v3 text: whole, a fresh salt, its scope its group's. */
function signV3(vault: string, signer: TestSigner, f: V3Fields): EventRecord {
  const base: EventRecord = {
    kind: 'event', id: randomUUID(), at: 1_700_000_000_000, actor: f.actor, action: f.action, subject: f.subject ?? null, entry: f.entry ?? null, customer: null,
    group: f.group ?? null, sealedDetail: f.sealedDetail ?? null, device: f.device, devicePrev: f.devicePrev, signerKey: signer.keyId, signature: null,
    bodySalt: randomBytes(16).toString('hex'),
  };
  const group = f.scopeGroup === undefined ? base.group : f.scopeGroup;
  const withScope = { ...base, scope: eventScope(vault, base.id, group === null ? null : scopeKeyOf(group), hashes) };
  const digest = eventBodyDigest(vault, withScope.id, bodyOf(withScope), sha256Hex);
  return { ...withScope, signature: signText(eventHeaderTextV3(vault, headerOf(withScope), digest), signer) };
}

/** Whether `signature` holds over `text` under raw public key `publicKey` (base64url). */
function holdsUnder(publicKey: string, signature: string | null) {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
  return (text: string): boolean => signature !== null && verify(null, Buffer.from(text, 'utf8'), key, Buffer.from(signature, 'base64url'));
}

/** What `person` receives for `route`, as the raw HTTP body's text and parsed. */
async function rawCall(person: Person, route: 'syncPull' | 'syncSnapshot', input: object): Promise<{ readonly text: string; readonly records: Array<{ seq: number; record: EventRecord & { kind: string } }> }> {
  const spec = SERVER_ROUTES[route];
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${person.client.tokens?.accessToken ?? ''}`, [DEVICE_HEADER]: person.client.deviceId };
  const response = await fetch(`${person.client.url}${spec.path}`, { method: spec.method, headers, body: JSON.stringify(input), signal: AbortSignal.timeout(20_000) });
  const text = await response.text();
  expect(response.status, text.slice(0, 200)).toBe(200);
  const parsed = JSON.parse(text) as { ok: true; value: { records: Array<{ seq: number; record: EventRecord & { kind: string } }> } };
  return { text, records: parsed.value.records };
}

/** Every record of `person`'s pulls from 0 and of their snapshot's events part, with the raw texts. */
async function everything(person: Person, vault: string): Promise<{ readonly texts: string; readonly pulled: EventRecord[]; readonly snapshot: EventRecord[] }> {
  const pull = await rawCall(person, 'syncPull', { vault, since: 0 });
  const snap = await rawCall(person, 'syncSnapshot', { vault, part: 'events', after: 0 });
  const state = await rawCall(person, 'syncSnapshot', { vault, part: 'state', after: 0 });
  const events = (rows: typeof pull.records): EventRecord[] => rows.flatMap((r) => (r.record.kind === 'event' ? [r.record] : []));
  return { texts: pull.text + snap.text + state.text, pulled: events(pull.records), snapshot: events(snap.records) };
}

describe.each(DATABASE_KINDS)('v3 events of a group a member does not hold, on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let other: Person;
  let w: TwoGroupVault;
  /** tech's entry in G, and the v3 events tech's device wrote: an edit of it, a sign-in (no group), another edit. */
  let entry: string;
  let chain: EventRecord[];
  let v2Event: EventRecord;
  const secretSubject = `Acme/${randomUUID()}`;
  const sealedDetail = randomBytes(48).toString('base64url');

  beforeAll(async () => {
    ({ server, owner, people: { tech, other } } = await serverWithPeople(await databases.open(kind), ['tech', 'other']));
    expect(server).toBeDefined();
    w = twoGroupVault();
    await owner.client.ok('syncPush', pushOf(w.vault, twoGroupRecords(w, { owner, tech, other })));
    const techEntry = entryIn(w.u.tech, w.g);
    entry = techEntry.id;
    await tech.client.ok('syncPush', pushOf(w.vault, [techEntry]));
    await other.client.ok('syncPush', pushOf(w.vault, [entryIn(w.u.other, w.h)]));
    const signer = signerOf(w.u.tech);
    const device = randomBytes(16).toString('base64url');
    const e1 = signV3(w.vault, signer, { actor: w.u.tech, action: 'entry.edit', device, devicePrev: null, subject: secretSubject, entry, group: w.g, sealedDetail });
    const e2 = signV3(w.vault, signer, { actor: w.u.tech, action: 'signin.ok', device, devicePrev: linkOf(e1.signature ?? '') });
    const e3 = signV3(w.vault, signer, { actor: w.u.tech, action: 'entry.reveal', device, devicePrev: linkOf(e2.signature ?? ''), entry, group: w.g, sealedDetail });
    chain = [e1, e2, e3];
    const reply = await tech.client.call('syncPush', { batch: { format: 1, vault: w.vault, records: chain } });
    expect(reply.ok, JSON.stringify(reply)).toBe(true);
    // A v2 event naming the entry, on another device: its signature covers the ids, so it goes to everyone as before.
    v2Event = signEvent({
      kind: 'event', id: randomUUID(), at: 1, actor: w.u.tech, action: 'entry.view', subject: null, entry, customer: null, group: w.g,
      sealedDetail: null, device: randomBytes(16).toString('base64url'), devicePrev: null, signerKey: signer.keyId, signature: null,
    }, signer, w.vault);
    expect((await tech.client.call('syncPush', { batch: { format: 1, vault: w.vault, records: [v2Event] } })).ok).toBe(true);
  }, 120_000);

  it('hands a member of another group the group\'s events redacted: no body id in any raw body, each header holding under its signature, the chain linking through', async () => {
    const got = await everything(other, w.vault);
    // The entry's id comes only in the v2 event (named by its signature, as before v3); the v3 events' bodies come nowhere.
    expect(got.texts).not.toContain(secretSubject);
    expect(got.texts).not.toContain(sealedDetail);
    expect(got.texts).not.toContain(chain[0]?.bodySalt ?? 'no salt');
    expect(got.texts.split(entry).length - 1).toBe(2); // the v2 event, in the pull and the snapshot's events
    for (const received of [got.pulled, got.snapshot]) {
      const v3 = received.filter((e) => e.scope !== undefined);
      expect(v3.map((e) => e.id)).toEqual(chain.map((e) => e.id));
      const [r1, r2, r3] = v3;
      if (r1 === undefined || r2 === undefined || r3 === undefined) throw new Error('three v3 events expected');
      // G's events redacted: header, digest, signature; no body, no salt.
      for (const r of [r1, r3]) {
        expect(r).toMatchObject({ entry: null, group: null, subject: null, sealedDetail: null });
        expect(r.bodySalt).toBeUndefined();
        expect(checkReceivedEventV3(w.vault, { form: 'redacted', header: headerOf(r), bodyDigest: r.bodyDigest ?? '' }, [scopeKeyOf(w.h)], holdsUnder(signerOf(w.u.tech).publicKey, r.signature), hashes)).toEqual({ redacted: true });
      }
      // The sign-in names no group: every member is owed it whole.
      expect(r2.bodyDigest).toBeUndefined();
      expect(checkReceivedEventV3(w.vault, { form: 'whole', header: headerOf(r2), body: bodyOf(r2) }, [scopeKeyOf(w.h)], holdsUnder(signerOf(w.u.tech).publicKey, r2.signature), hashes)).toEqual({ redacted: false });
      // The device's chain links through the redacted events: each next event names the SHA-256 of the signature before.
      expect(r2.devicePrev).toBe(linkOf(r1.signature ?? ''));
      expect(r3.devicePrev).toBe(linkOf(r2.signature ?? ''));
      // The v2 event as it was signed.
      expect(received.find((e) => e.id === v2Event.id)).toEqual(v2Event);
    }
  });

  it('hands the group\'s member and the owner every event whole, each body hashing to the digest its author signed', async () => {
    for (const [person, held] of [[tech, [scopeKeyOf(w.g)]], [owner, []]] as const) {
      const got = await everything(person, w.vault);
      for (const received of [got.pulled, got.snapshot]) {
        const v3 = received.filter((e) => e.scope !== undefined);
        expect(v3).toEqual(chain);
        for (const r of v3) {
          expect(checkReceivedEventV3(w.vault, { form: 'whole', header: headerOf(r), body: bodyOf(r) }, held, holdsUnder(signerOf(w.u.tech).publicKey, r.signature), hashes)).toEqual({ redacted: false });
        }
      }
    }
  });

  it('what a receiver checks catches a server redacting an event for a holder, a forged body under a real header, and a swapped digest', async () => {
    const redacted = (await everything(other, w.vault)).pulled.find((e) => e.id === chain[0]?.id);
    const whole = chain[0];
    if (redacted === undefined || whole === undefined) throw new Error('event missing');
    const holds = holdsUnder(signerOf(w.u.tech).publicKey, whole.signature);
    // Handed to tech (who holds G) redacted: withheld.
    expect(() => checkReceivedEventV3(w.vault, { form: 'redacted', header: headerOf(redacted), bodyDigest: redacted.bodyDigest ?? '' }, [scopeKeyOf(w.g)], holds, hashes)).toThrow(/withheld/);
    // A body naming another entry under the real header: its digest is not the signed one.
    expect(() => checkReceivedEventV3(w.vault, { form: 'whole', header: headerOf(whole), body: { ...bodyOf(whole), entry: randomUUID() } }, [scopeKeyOf(w.g)], holds, hashes)).toThrow(/does not hold/);
    // The digest of another event under this header.
    expect(() => checkReceivedEventV3(w.vault, { form: 'redacted', header: headerOf(redacted), bodyDigest: sha256Hex('another body') }, [scopeKeyOf(w.h)], holds, hashes)).toThrow(/does not hold/);
  });

  it('audit verify --server\'s walk: an owner checks every body; a member of another group counts G\'s events redacted and chains through them; a withheld body, a forged body and a swapped digest are named by sequence', async () => {
    const trusted = new Map<string, TrustedKey>([w.u.owner, w.u.tech, w.u.other].map((u) => [signerOf(u).keyId, { user: u, publicKey: signerOf(u).publicKey }]));
    const pulled = async (person: Person): Promise<PulledRecord[]> => pullHistory({ call: (name, input) => person.client.ok(name, input) }, w.vault);
    const byOwner = await pulled(owner);
    expect(verifyServerHistory(w.vault, byOwner, trusted)).toEqual({ ok: true, events: 4, devices: 2, redacted: 0, mayBeWithheld: [] });
    const byOther = await pulled(other);
    expect(verifyServerHistory(w.vault, byOther, trusted, [scopeKeyOf(w.h)])).toEqual({ ok: true, events: 4, devices: 2, redacted: 2, mayBeWithheld: [] });
    // The same redacted events handed to an owner (owed every body), or to a member of G: withheld.
    expect(verifyServerHistory(w.vault, byOther, trusted)).toMatchObject({ ok: false, reason: expect.stringMatching(/withheld/) as unknown });
    expect(verifyServerHistory(w.vault, byOther, trusted, [scopeKeyOf(w.g)])).toMatchObject({ ok: false, reason: expect.stringMatching(/withheld/) as unknown });
    // A body the server forged under a real header, and a digest swapped in a redacted event.
    const at = byOwner.findIndex((p) => p.record.id === chain[0]?.id);
    const forged = byOwner.map((p, i) => (i === at && p.record.kind === 'event' ? { ...p, record: { ...p.record, entry: randomUUID() } } : p));
    expect(verifyServerHistory(w.vault, forged, trusted)).toMatchObject({ ok: false, seq: byOwner[at]?.seq, reason: expect.stringMatching(/not the one signed/) as unknown });
    const swapped = byOther.map((p) => (p.record.kind === 'event' && p.record.id === chain[0]?.id ? { ...p, record: { ...p.record, bodyDigest: sha256Hex('another body') } } : p));
    expect(verifyServerHistory(w.vault, swapped, trusted, [scopeKeyOf(w.h)])).toMatchObject({ ok: false, reason: expect.stringMatching(/changed after its author signed it/) as unknown });
  });

  it('refuses a v3 push whose body is not the one signed, one pushed redacted, and one whose scope is not its body\'s group, storing nothing', async () => {
    const signer = signerOf(w.u.tech);
    const device = randomBytes(16).toString('base64url');
    const honest = signV3(w.vault, signer, { actor: w.u.tech, action: 'entry.edit', device, devicePrev: null, entry, group: w.g, sealedDetail });
    const noSalt: EventRecord = { ...honest };
    delete noSalt.bodySalt;
    const forged: EventRecord[] = [
      { ...honest, sealedDetail: randomBytes(48).toString('base64url') }, // a forged body under the real header
      { ...noSalt, bodyDigest: eventBodyDigest(w.vault, honest.id, bodyOf(honest), sha256Hex) }, // the redacted form: a push must be whole
      { ...noSalt, subject: null, entry: null, group: null, sealedDetail: null, bodyDigest: sha256Hex('x') }, // a swapped digest
      signV3(w.vault, signer, { actor: w.u.tech, action: 'entry.edit', device, devicePrev: null, entry, group: w.g, scopeGroup: null }), // G's body under the no-group scope
      { ...honest, scope: undefined }, // a salt with no scope
    ];
    const before = await owner.client.ok('syncPull', { vault: w.vault, since: 0 });
    for (const record of forged) {
      expect(await tech.client.call('syncPush', { batch: { format: 1, vault: w.vault, records: [record] } })).toMatchObject({ ok: false, error: { code: 'BAD_SIGNATURE' } });
    }
    expect((await owner.client.ok('syncPull', { vault: w.vault, since: 0 })).upTo).toBe(before.upTo);
    // The honest one is taken (so the refusals are of the forgeries, not of the device).
    expect((await tech.client.call('syncPush', { batch: { format: 1, vault: w.vault, records: [honest] } })).ok).toBe(true);
  });
});
