/**
 * Device squatting (#15, docs/SYNC.md "Who a device is"): the server binds a device to the vault
 * user who signed its first event it stores. A member who learns another person's device id
 * before that device's first event reaches the server (a copy of their file, a direct exchange)
 * could push an event of their own under it and take the device, the real owner's events then
 * refused. A device id is now derived from its first signer's key and a birth value the device's
 * first event carries (shared/sync/device-ids.ts), so a chain start on a 32-byte id is taken only
 * from the person whose key derives it; 16-byte ids (devices made before) keep the old rule.
 * Real server over HTTP, real Ed25519 (signers.ts), PostgreSQL and PGlite.
 */
import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { deviceIdText } from '../../shared/sync/device-ids';
import type { EventRecord } from '../../shared/sync/records';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { eventBy, serverWithPeople, twoGroupVaultPushed } from './people';
import { linkOf, signEvent, signerOf, type TestSigner } from './signers';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();

/** A device id derived from `signer`'s key in `vault` (store-device.ts derivedDeviceId), and its birth value, base64url. */
function derivedDevice(vault: string, signer: TestSigner, birth: Buffer = randomBytes(32)): { readonly device: string; readonly birth: string } {
  const text = deviceIdText(vault, Buffer.from(signer.publicKey, 'base64url').toString('base64'), birth.toString('hex'));
  return { device: createHash('sha256').update(text, 'utf8').digest('base64url'), birth: birth.toString('base64url') };
}

describe.each(DATABASE_KINDS)('a device id learned before its first event reaches the server, on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let other: Person;
  beforeAll(async () => {
    ({ server, owner, people: { tech, other } } = await serverWithPeople(await databases.open(kind), ['tech', 'other']));
    expect(server).toBeDefined();
  }, 120_000);

  /** A vault with owner, tech and other as members, each having pushed something. */
  async function vaultWithMembers() {
    const w = await twoGroupVaultPushed({ owner, tech, other });
    const push = (person: Person, records: readonly EventRecord[]) => person.client.call('syncPush', { batch: { format: 1, vault: w.vault, records: [...records] } });
    return { w, push };
  }

  it('a member who pushes a first event of their own under another person\'s device id does not take the device', async () => {
    const { w, push } = await vaultWithMembers();
    // other's desktop made a derived id that has written nothing the server holds; tech learned it and its birth value (a file copy).
    const { device, birth } = derivedDevice(w.vault, signerOf(w.u.other));
    const squats = [
      signEvent(eventBy(w.u.tech, device, null), signerOf(w.u.tech), w.vault),
      signEvent(eventBy(w.u.tech, device, birth), signerOf(w.u.tech), w.vault),
    ];
    for (const squat of squats) expect(await push(tech, [squat])).toMatchObject({ ok: false, error: { code: 'BAD_SIGNATURE' } });
    // other's own first event on their own device: taken, whatever tech pushed first; the next one continues it.
    const first = signEvent(eventBy(w.u.other, device, birth), signerOf(w.u.other), w.vault);
    const reply = await push(other, [first]);
    expect(reply.ok, JSON.stringify(reply)).toBe(true);
    const next = signEvent(eventBy(w.u.other, device, linkOf(first.signature ?? '')), signerOf(w.u.other), w.vault);
    expect((await push(other, [next])).ok).toBe(true);
    // and tech, now relaying nothing of theirs, still cannot add to it.
    const after = signEvent(eventBy(w.u.tech, device, linkOf(next.signature ?? '')), signerOf(w.u.tech), w.vault);
    expect(await push(tech, [after])).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  });

  it('refuses a 32-byte device id whose first event carries no link, and one whose birth value does not derive it', async () => {
    const { w, push } = await vaultWithMembers();
    const { device } = derivedDevice(w.vault, signerOf(w.u.other));
    const noLink = await push(other, [signEvent(eventBy(w.u.other, device, null), signerOf(w.u.other), w.vault)]);
    expect(noLink).toMatchObject({ ok: false, error: { code: 'BAD_SIGNATURE', message: expect.stringMatching(/without the birth value/) as unknown } });
    const wrong = await push(other, [signEvent(eventBy(w.u.other, device, randomBytes(32).toString('base64url')), signerOf(w.u.other), w.vault)]);
    expect(wrong).toMatchObject({ ok: false, error: { code: 'BAD_SIGNATURE', message: expect.stringMatching(/does not derive/) as unknown } });
    // The birth value of another vault derives another id: refused here too.
    const elsewhere = derivedDevice(`${w.vault}-other`, signerOf(w.u.other));
    const moved = await push(other, [signEvent(eventBy(w.u.other, elsewhere.device, elsewhere.birth), signerOf(w.u.other), w.vault)]);
    expect(moved).toMatchObject({ ok: false, error: { code: 'BAD_SIGNATURE' } });
  });

  it('a file two people sign in on keeps one chain: the second person\'s events continue the first signer\'s device', async () => {
    const { w, push } = await vaultWithMembers();
    const { device, birth } = derivedDevice(w.vault, signerOf(w.u.other));
    const first = signEvent(eventBy(w.u.other, device, birth), signerOf(w.u.other), w.vault);
    const techs = signEvent(eventBy(w.u.tech, device, linkOf(first.signature ?? '')), signerOf(w.u.tech), w.vault);
    const third = signEvent(eventBy(w.u.other, device, linkOf(techs.signature ?? '')), signerOf(w.u.other), w.vault);
    const reply = await push(other, [first, techs, third]);
    expect(reply.ok, JSON.stringify(reply)).toBe(true);
  });

  it('a 16-byte device id (made before) keeps the old rule: its chain starts with no link', async () => {
    const { w, push } = await vaultWithMembers();
    const device = randomBytes(16).toString('base64url');
    const linked = await push(other, [signEvent(eventBy(w.u.other, device, randomBytes(32).toString('base64url')), signerOf(w.u.other), w.vault)]);
    expect(linked).toMatchObject({ ok: false, error: { code: 'BAD_SIGNATURE' } });
    const first = signEvent(eventBy(w.u.other, device, null), signerOf(w.u.other), w.vault);
    expect((await push(other, [first])).ok).toBe(true);
    const next = signEvent(eventBy(w.u.other, device, linkOf(first.signature ?? '')), signerOf(w.u.other), w.vault);
    expect((await push(other, [next])).ok).toBe(true);
  });
});
