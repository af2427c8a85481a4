/**
 * Review round seven (#15), HOLES: each case asserts the SAFE behaviour and FAILED on the tree as
 * reviewed (64eb050); committed with the fixes as their proof. Adjusted (fix7): HOLE 2 takes a
 * member's relay of another's signed event (a direct exchange then a push is legitimate) and
 * refuses the member's own event continuing that device's chain (the jam) instead; HOLE 6 has a
 * case over every free string of the contract. HOLE 4 (fixed later): an event's and a
 * certificate's replay in another vault, and the v1 texts after the cut-over.
 * Real server over HTTP, real Ed25519 (signers.ts), PostgreSQL and PGlite.
 * Must never: pass on the tree it was written against.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { certificateText, certificateTextV1 } from '../../shared/sync/signing-keys';
import type { EventRecord, SigningKeyRecord, UserRecord } from '../../shared/sync/records';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { entryIn, eventBy, pushOf, serverWithPeople, twoGroupRecords, twoGroupVault, twoGroupVaultPushed, userRecord, type TwoGroupVault } from './people';
import { keyRecordOf, linkOf, signedBy, signEvent, signEventV1, signerOf, signText, type TestSigner } from './signers';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();
const b64 = (text: string): string => Buffer.from(text).toString('base64url');

describe.each(DATABASE_KINDS)('review seven holes, on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let other: Person;
  let second: Person;
  beforeAll(async () => {
    ({ server, owner, people: { tech, other, second } } = await serverWithPeople(await databases.open(kind), ['tech', 'other', 'second']));
  }, 120_000);

  /** The owner's move of a TwoGroupVault; tech and other each pushed an entry (and so their own key). */
  const world = (): Promise<TwoGroupVault> => twoGroupVaultPushed({ owner, tech, other });

  it('HOLE 1: an owner\'s move carrying a member\'s events (from direct exchange) binds that member\'s device to the owner\'s account, and the member\'s own next event is refused', async () => {
    const w = await world();
    // other's desktop wrote two events on its device before the vault moved; the owner's desktop holds them (direct exchange) and its move carries them.
    const device = b64(`device ${randomUUID()}`);
    const otherKey = signerOf(w.u.other);
    const e1 = signEvent(eventBy(w.u.other, device, null), otherKey, w.vault);
    const e2 = signEvent(eventBy(w.u.other, device, linkOf(e1.signature ?? '')), otherKey, w.vault);
    expect(await owner.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [e1, e2] } })).toMatchObject({ accepted: 2 });
    // other signs in and pushes the next event of its own device: SAFE = taken (it is their device, their chain).
    const e3 = signEvent(eventBy(w.u.other, device, linkOf(e2.signature ?? '')), otherKey, w.vault);
    const reply = await other.client.call('syncPush', { batch: { format: 1, vault: w.vault, records: [e3] } });
    expect(reply.ok, JSON.stringify(reply)).toBe(true); // now: FORBIDDEN 'These events claim a device another account pushes for'
  });

  it('HOLE 2: a member relays another person\'s signed events (taken, the device stays theirs) but cannot add to that device\'s chain in their own name (no jam)', async () => {
    const w = await world();
    // Events other signed (tech's desktop got them by direct exchange) before other's desktop reached the server.
    const device = b64(`device ${randomUUID()}`);
    const otherKey = signerOf(w.u.other);
    const e1 = signEvent(eventBy(w.u.other, device, null), otherKey, w.vault);
    // ADJUSTED (fix7): a relay of another's genuinely signed event is taken (a direct exchange, then a push, is legitimate);
    // the reviewer's proof asked for a refusal. What must hold is that the device stays other's.
    expect(await tech.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [e1] } })).toMatchObject({ accepted: 1 });
    // tech signs an event of its own that continues other's device chain (the jam): FORBIDDEN, nothing stored.
    const jam = signEvent(eventBy(w.u.tech, device, linkOf(e1.signature ?? '')), signerOf(w.u.tech), w.vault);
    const jammed = await tech.client.call('syncPush', { batch: { format: 1, vault: w.vault, records: [jam] } });
    expect(jammed.ok ? 'taken' : jammed.error.code, JSON.stringify(jammed)).toBe('FORBIDDEN');
    // other's own push of the device (the relayed event, held already, then the next) is taken.
    const e2 = signEvent(eventBy(w.u.other, device, linkOf(e1.signature ?? '')), otherKey, w.vault);
    const own = await other.client.call('syncPush', { batch: { format: 1, vault: w.vault, records: [e1, e2] } });
    expect(own.ok, JSON.stringify(own)).toBe(true);
  });

  it('HOLES 1-2, a desktop two people sign in on: its own person\'s account pushes the other\'s events written there; the other\'s own account may not add to it', async () => {
    const w = await world();
    const device = b64(`device ${randomUUID()}`);
    const e1 = signEvent(eventBy(w.u.owner, device, null), signerOf(w.u.owner), w.vault);
    // tech signed in on the owner's desktop file: the next event of that device is tech's, pushed by the owner's account.
    const e2 = signEvent(eventBy(w.u.tech, device, linkOf(e1.signature ?? '')), signerOf(w.u.tech), w.vault);
    expect(await owner.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [e1, e2] } })).toMatchObject({ accepted: 2 });
    const e3 = signEvent(eventBy(w.u.tech, device, linkOf(e2.signature ?? '')), signerOf(w.u.tech), w.vault);
    const fromTech = await tech.client.call('syncPush', { batch: { format: 1, vault: w.vault, records: [e3] } });
    expect(fromTech.ok ? 'taken' : fromTech.error.code, JSON.stringify(fromTech)).toBe('FORBIDDEN');
    expect(await owner.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [e3] } })).toMatchObject({ accepted: 1 });
  });

  it('HOLE 3: a key certified by an owner AFTER that owner was disabled is in force (verify.ts reads roles, never disabled)', async () => {
    const w = await world();
    const o2 = randomUUID();
    // A second owner bound to `second`'s account, with their first key (an owner may send it), then disabled by the first owner.
    await owner.client.ok('syncPush', pushOf(w.vault, [userRecord(w.u.owner, { id: o2, role: 'owner', account: second.user.id })]));
    await owner.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [keyRecordOf(o2)] } });
    const o2Key = signerOf(o2);
    const certifiedBy = (signer: TestSigner): SigningKeyRecord => ({
      ...keyRecordOf(w.u.tech, signer), certifiedBy: o2Key.keyId,
      certificate: signText(certificateText(w.vault, signer.keyId, w.u.tech, Buffer.from(signer.publicKey, 'base64url').toString('base64')), o2Key),
    });
    // Added (fix7): a key o2 certified while an owner in good standing, stored then, stays tech's after the disable.
    const earlier: TestSigner = { ...signerOf(`earlier ${randomUUID()}`), keyId: randomUUID() };
    expect(await tech.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [certifiedBy(earlier)] } })).toMatchObject({ accepted: 1 });
    await owner.client.ok('syncPush', pushOf(w.vault, [userRecord(w.u.owner, { id: o2, role: 'owner', account: second.user.id, revision: 2, disabled: true })]));
    expect(await tech.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [signedBy(w.vault, entryIn(w.u.tech, w.g), earlier)] } })).toMatchObject({ accepted: 1 });
    // The disabled owner still holds their private key: they certify a new key for tech (who pushes it; any account may send a certified key).
    const planted: TestSigner = { ...signerOf(`planted ${randomUUID()}`), keyId: randomUUID() };
    // SAFE: BAD_SIGNATURE — a disabled owner vouches for nothing any more.
    const reply = await tech.client.call('syncPush', { batch: { format: 1, vault: w.vault, records: [certifiedBy(planted), signedBy(w.vault, entryIn(w.u.tech, w.g), planted)] } });
    expect(reply.ok ? 'taken' : reply.error.code, JSON.stringify(reply)).toBe('BAD_SIGNATURE'); // was: accepted 2
  });

  // Fixed (#15, hole 4): event and certificate texts name their vault (`crewvault/v2`); the v1 form (no vault) is taken only by the rule in docs/SYNC.md.
  it('HOLE 4: an audit event signed in one vault is refused in another vault with the same vault user (the event text names its vault)', async () => {
    const a = await world();
    // A second vault with the same vault users (a vault copied, then moved again): same user ids, same keys.
    const b: TwoGroupVault = { ...twoGroupVault(), u: a.u };
    await owner.client.ok('syncPush', pushOf(b.vault, twoGroupRecords(b, { owner, tech, other })));
    await tech.client.ok('syncPush', pushOf(b.vault, [entryIn(b.u.tech, b.g)]));
    const device = b64(`device ${randomUUID()}`);
    const inA = signEvent(eventBy(a.u.tech, device, null), signerOf(a.u.tech), a.vault);
    expect(await tech.client.ok('syncPush', { batch: { format: 1, vault: a.vault, records: [inA] } })).toMatchObject({ accepted: 1 });
    // The owner of B (or a relay) plays A's event into B: SAFE = BAD_SIGNATURE (a record's signature names its vault; an event's does now).
    const replay = await owner.client.call('syncPush', { batch: { format: 1, vault: b.vault, records: [inA] } });
    expect(replay.ok ? 'taken' : replay.error.code, JSON.stringify(replay)).toBe('BAD_SIGNATURE'); // was: accepted 1
    // The same event signed for B is taken there (the refusal is the vault, nothing else).
    const inB = signEvent(inA, signerOf(a.u.tech), b.vault);
    expect(await owner.client.ok('syncPush', { batch: { format: 1, vault: b.vault, records: [inB] } })).toMatchObject({ accepted: 1 });
    void server;
  });

  /** A key for tech certified by the owner's key over `text(vault, key id, user, public key)`. */
  function certifiedForTech(w: TwoGroupVault, signer: TestSigner, certificate: string): SigningKeyRecord {
    return { ...keyRecordOf(w.u.tech, signer), certifiedBy: signerOf(w.u.owner).keyId, certificate };
  }
  const publicKeyOf = (signer: TestSigner): string => Buffer.from(signer.publicKey, 'base64url').toString('base64');

  it('HOLE 4: a certificate made in one vault is refused in another vault with the same users and keys (the certificate text names its vault)', async () => {
    const a = await world();
    const b: TwoGroupVault = { ...twoGroupVault(), u: a.u };
    await owner.client.ok('syncPush', pushOf(b.vault, twoGroupRecords(b, { owner, tech, other })));
    const reset: TestSigner = { ...signerOf(`reset ${randomUUID()}`), keyId: randomUUID() };
    const inA = certifiedForTech(a, reset, signText(certificateText(a.vault, reset.keyId, a.u.tech, publicKeyOf(reset)), signerOf(a.u.owner)));
    expect(await tech.client.ok('syncPush', { batch: { format: 1, vault: a.vault, records: [inA] } })).toMatchObject({ accepted: 1 });
    // Played into B (with a record signed by the planted key): SAFE = BAD_SIGNATURE, nothing stored.
    const replay = await tech.client.call('syncPush', { batch: { format: 1, vault: b.vault, records: [inA, signedBy(b.vault, entryIn(b.u.tech, b.g), reset)] } });
    expect(replay.ok ? 'taken' : replay.error.code, JSON.stringify(replay)).toBe('BAD_SIGNATURE'); // was: accepted 2
    const pulled = await tech.client.ok('syncPull', { vault: b.vault, since: 0 });
    expect(pulled.records.some((r) => r.record.id === reset.keyId)).toBe(false);
  });

  it('HOLE 4, the v1 texts (no vault) after the cut-over: taken in the vault\'s move and continuing a device chain the server holds; refused starting a chain, and for a new certificate', async () => {
    // The move of a vault from before the fix: its file's v1 events and v1 certificates are taken (what its file holds already).
    const m = twoGroupVault();
    const device = b64(`device ${randomUUID()}`);
    const e1 = signEventV1(eventBy(m.u.owner, device, null), signerOf(m.u.owner));
    const old: TestSigner = { ...signerOf(`old ${randomUUID()}`), keyId: randomUUID() };
    const oldKey = certifiedForTech(m, old, signText(certificateTextV1(old.keyId, m.u.tech, publicKeyOf(old)), signerOf(m.u.owner)));
    const moved = await owner.client.call('syncPush', pushOf(m.vault, [...twoGroupRecords(m, { owner, tech, other }), oldKey, e1]));
    expect(moved.ok, JSON.stringify(moved)).toBe(true);
    const v1Refused = (reply: { ok: boolean; error?: { code: string; message: string } }): string => (reply.ok ? 'taken' : `${reply.error?.code ?? ''} ${/in this vault/.test(reply.error?.message ?? '') ? 'by the text' : reply.error?.message ?? ''}`);
    // A desktop's backlog from before its update continues its device's chain in v1: taken.
    const e2 = signEventV1(eventBy(m.u.owner, device, linkOf(e1.signature ?? '')), signerOf(m.u.owner));
    expect(await owner.client.ok('syncPush', { batch: { format: 1, vault: m.vault, records: [e2] } })).toMatchObject({ accepted: 1 });
    // After the move, a v1 event starting a device's chain is refused: from a member (a replay from a vault sharing these users would
    // start one), and from the mover's own account for an event written after the vault came here (no desktop signs v1 any more).
    const fromTech = signEventV1(eventBy(m.u.tech, b64(`device ${randomUUID()}`), null), old); // tech's key in force here: the move's
    const started = await tech.client.call('syncPush', { batch: { format: 1, vault: m.vault, records: [fromTech] } });
    expect(v1Refused(started)).toBe('BAD_SIGNATURE by the text');
    const afterMove = signEventV1({ ...eventBy(m.u.owner, b64(`device ${randomUUID()}`), null), at: Date.now() + 86_400_000 }, signerOf(m.u.owner));
    const late = await owner.client.call('syncPush', { batch: { format: 1, vault: m.vault, records: [afterMove] } });
    expect(v1Refused(late)).toBe('BAD_SIGNATURE by the text');
    // The same, signed v2 for this vault, is taken (the refusal is the text's version, nothing else).
    expect(await tech.client.ok('syncPush', { batch: { format: 1, vault: m.vault, records: [signEvent(fromTech, old, m.vault)] } })).toMatchObject({ accepted: 1 });
    // A v1 event of another vault sharing these users, played in at a device this server holds: refused by the chain (its link names the other vault's).
    const elsewhere = signEventV1(eventBy(m.u.owner, device, linkOf(b64('another vault\'s event'))), signerOf(m.u.owner));
    const replayed = await owner.client.call('syncPush', { batch: { format: 1, vault: m.vault, records: [elsewhere] } });
    expect(replayed.ok ? 'taken' : replayed.error.code, JSON.stringify(replayed)).toBe('BAD_SIGNATURE');
    // A new key whose certificate is v1 (no vault), after the move: refused, nothing served; the v2 one for the same key is taken.
    const later: TestSigner = { ...signerOf(`later ${randomUUID()}`), keyId: randomUUID() };
    const v1Cert = certifiedForTech(m, later, signText(certificateTextV1(later.keyId, m.u.tech, publicKeyOf(later)), signerOf(m.u.owner)));
    const refused = await tech.client.call('syncPush', { batch: { format: 1, vault: m.vault, records: [v1Cert] } });
    expect(refused.ok ? 'taken' : refused.error.code, JSON.stringify(refused)).toBe('BAD_SIGNATURE');
    const pulled = await tech.client.ok('syncPull', { vault: m.vault, since: 0 });
    expect(pulled.records.some((r) => r.record.id === later.keyId)).toBe(false);
    expect(pulled.records.some((r) => r.record.id === old.keyId)).toBe(true);
    const v2Cert = certifiedForTech(m, later, signText(certificateText(m.vault, later.keyId, m.u.tech, publicKeyOf(later)), signerOf(m.u.owner)));
    expect(await tech.client.ok('syncPush', { batch: { format: 1, vault: m.vault, records: [v2Cert] } })).toMatchObject({ accepted: 1 });
  });

  it('HOLE 5: a signing key record reusing the id of a key that introduced itself (indexed, not stored as a record) is stored and served unchecked', async () => {
    const w = await world();
    // tech's first key introduced itself: the server indexed it (sync_signing_keys) and stored no record of it.
    const techKey = signerOf(w.u.tech);
    const attacker: TestSigner = { ...signerOf(`attacker ${randomUUID()}`), keyId: techKey.keyId };
    // other sends a "certified" key record under that id: another user, another public key, a certificate nobody signed.
    const forged: SigningKeyRecord = { ...keyRecordOf(w.u.owner, attacker), certifiedBy: signerOf(w.u.owner).keyId, certificate: b64('not a certificate').padEnd(86, 'A') };
    const reply = await other.client.call('syncPush', { batch: { format: 1, vault: w.vault, records: [forged] } });
    const pulled = await tech.client.ok('syncPull', { vault: w.vault, since: 0 });
    const served = pulled.records.filter((r) => r.record.kind === 'signing_key' && r.record.id === techKey.keyId);
    // SAFE: refused, and nothing under tech's key id is served (now: accepted 1, and the forgery is what every desktop pulls under tech's key id).
    expect({ ok: reply.ok, served: served.length }, JSON.stringify(reply)).toEqual({ ok: false, served: 0 });
    // Added (fix7): a key record under a new id whose certificate nobody signed is refused too (every key record pushed is checked), nothing served.
    const fresh: SigningKeyRecord = { ...keyRecordOf(w.u.other, { ...signerOf(`fresh ${randomUUID()}`), keyId: randomUUID() }), certifiedBy: signerOf(w.u.owner).keyId, certificate: b64('not a certificate').padEnd(86, 'A') };
    const unsigned = await other.client.call('syncPush', { batch: { format: 1, vault: w.vault, records: [fresh] } });
    expect(unsigned.ok ? 'taken' : unsigned.error.code, JSON.stringify(unsigned)).toBe('BAD_SIGNATURE');
    const again = await tech.client.ok('syncPull', { vault: w.vault, since: 0 });
    expect(again.records.some((r) => r.record.id === fresh.id)).toBe(false);
  });

  it('HOLE 6: a NUL in an event\'s subject (valid by the contract, signed) is a 500 INTERNAL from PostgreSQL\'s jsonb, not a one-line INVALID_INPUT', async () => {
    const w = await world();
    const device = b64(`device ${randomUUID()}`);
    const e = signEvent({ ...eventBy(w.u.tech, device, null), subject: 'a\u0000b' }, signerOf(w.u.tech), w.vault);
    const reply = await tech.client.call('syncPush', { batch: { format: 1, vault: w.vault, records: [e] } });
    // SAFE: a 4xx with a stable code; now a 500.
    expect(reply.status, JSON.stringify(reply)).toBeLessThan(500);
  });
  it('HOLE 6, every free string of the sync contract: a NUL or a lone surrogate in a user\'s name or role, an event\'s subject or the batch\'s vault is INVALID_INPUT, nothing stored', async () => {
    const w = await world();
    const before = await owner.client.ok('syncPull', { vault: w.vault, since: 0 });
    const user = (patch: { name?: string; role?: string }): UserRecord => signedBy(w.vault, { ...userRecord(w.u.owner, { id: randomUUID(), role: 'technician', account: null }), ...patch }, signerOf(w.u.owner));
    const event = (subject: string): EventRecord => signEvent({ ...eventBy(w.u.owner, b64(`device ${randomUUID()}`), null), subject }, signerOf(w.u.owner), w.vault);
    const pushes = [
      { vault: w.vault, records: [user({ name: 'Ada\u0000' })] },
      { vault: w.vault, records: [user({ name: 'Ada \ud800' })] },
      { vault: w.vault, records: [user({ role: 'technician\udc00' })] },
      { vault: w.vault, records: [event('\u0000')] },
      { vault: w.vault, records: [event('lone \udbff end')] },
      { vault: `${w.vault}\u0000`, records: [event('fine')] },
    ];
    for (const push of pushes) {
      const reply = await owner.client.call('syncPush', { batch: { format: 1, ...push } });
      expect(reply.ok ? 'taken' : reply.error.code, JSON.stringify(reply)).toBe('INVALID_INPUT');
      if (!reply.ok) expect(reply.error.message.split('\n')).toHaveLength(1);
    }
    // A paired surrogate (an emoji) is text PostgreSQL stores: taken.
    expect(await owner.client.ok('syncPush', { batch: { format: 1, vault: w.vault, records: [event('deployed \ud83d\ude80')] } })).toMatchObject({ accepted: 1 });
    const after = await owner.client.ok('syncPull', { vault: w.vault, since: 0 });
    expect(after.records.length).toBe(before.records.length + 1);
  });
});
