// No plaintext on disk: no written field, secret or deleted sealed blob can be found in the vault file or its WAL.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normaliseName } from '../../electron/vault/keys';
import { Vault } from '../../electron/vault/vault';
import { decodeSecret, encodeSecret, groupSecret, parseOtpUri } from '../../shared/otp';
import { seededRandom } from '../support/random';
import { newVault, OWNER, PASSWORD } from '../support/vault';

const random = seededRandom();
const TOTP_BYTES = random.bytes(20);
const HOTP_BYTES = random.bytes(32);
const TOTP_SECRET = encodeSecret(TOTP_BYTES);
const HOTP_SECRET = encodeSecret(HOTP_BYTES);

// Distinctive enough that a chance match in ciphertext is out of the question.
const FIELDS = {
  customer: 'Quokka Logistics Pty',
  title: 'Zanzibar firewall console',
  username: 'ops.wrangler@quokka-logistics.example',
  url: 'https://fw-zanzibar.quokka-logistics.example/admin',
  notes: 'Rotate the marmoset break-glass key every equinox',
  password: 'Pw!Xylophone-Tangerine-8842',
  oldPassword: 'Pw!Pelican-Harmonica-3317',
  importedIssuer: 'Wombat Dynamics',
  importedAccount: 'svc-kookaburra@wombat.example',
  secondCustomer: 'Narwhal Freight GmbH',
  secondTitle: 'Quasar VPN gateway',
} as const;

/** Every byte form a field could leak in: UTF-8, UTF-16LE, and the lower-cased name form
 * the keyed lookups hash (it must only ever be hashed, never stored). */
function forms(text: string): Buffer[] {
  return [text, normaliseName(text)].flatMap((t) => [Buffer.from(t, 'utf8'), Buffer.from(t, 'utf16le')]);
}

const NEEDLES: ReadonlyArray<readonly [string, Buffer]> = [
  ...Object.entries(FIELDS).flatMap(([name, text]) => forms(text).map((b) => [name, b] as const)),
  ...[TOTP_SECRET, HOTP_SECRET, groupSecret(TOTP_SECRET)].flatMap((s) => forms(s).map((b) => ['otp secret (base32)', b] as const)),
  ['TOTP key bytes', Buffer.from(TOTP_BYTES)],
  ['HOTP key bytes', Buffer.from(HOTP_BYTES)],
];

function vaultFiles(file: string): string[] {
  return [file, `${file}-wal`, `${file}-shm`].filter((f) => existsSync(f));
}

/** Names of the needles found, with the file they were found in. */
function leaks(file: string, needles: ReadonlyArray<readonly [string, Buffer]>): string[] {
  return vaultFiles(file).flatMap((f) => {
    const raw = readFileSync(f);
    return needles.filter(([, bytes]) => raw.includes(bytes)).map(([name]) => `${name} in ${f.slice(file.length) || 'vault'}`);
  });
}

/** A sealed blob cut into 16-byte pieces: a piece left anywhere means the blob was not wiped. */
function pieces(label: string, blob: Buffer): Array<readonly [string, Buffer]> {
  const out: Array<readonly [string, Buffer]> = [];
  for (let at = 0; at + 8 <= blob.length; at += 16) out.push([`${label}[${at}]`, blob.subarray(at, Math.min(at + 16, blob.length))]);
  return out;
}

async function openFresh() {
  const { file, session: created, clock } = await newVault();
  created.lock();
  const vault = Vault.open(file, clock);
  return { file, vault, session: await vault.signIn(OWNER, PASSWORD) };
}

describe('the vault file on disk', () => {
  it('holds none of the written names, fields or OTP secrets, in the file or the WAL', async () => {
    const { file, vault, session } = await openFresh();
    const entry = await session.createEntry({
      customer: FIELDS.customer, title: FIELDS.title, username: FIELDS.username, url: FIELDS.url, notes: FIELDS.notes,
      password: FIELDS.oldPassword, otp: parseOtpUri(`otpauth://totp/Quokka:ops?secret=${TOTP_SECRET}&issuer=Quokka`),
    });
    await session.updateEntry(entry.id, { password: FIELDS.password }, (await session.getEntry(entry.id)).revision);
    await session.createEntries([{ customer: FIELDS.secondCustomer, title: FIELDS.secondTitle, username: FIELDS.username, password: FIELDS.password }]);
    const imported = await session.importOtpauth(`otpauth://hotp/${encodeURIComponent(`${FIELDS.importedIssuer}:${FIELDS.importedAccount}`)}?secret=${HOTP_SECRET}&counter=7`);
    expect(imported.problems).toEqual([]);
    // Reading back the secrets puts them in memory, and the audit log: still nothing on disk.
    expect(await session.revealPassword(entry.id)).toBe(FIELDS.password);
    expect((await session.revealOtpSecret(entry.id)).secret).toBe(groupSecret(TOTP_SECRET));
    await session.otpCode(imported.added[0]?.id ?? -1);
    expect((await session.auditLog()).map((r) => r.detail).join('\n')).toContain(FIELDS.title);

    // While the session is open the new pages live in the WAL (a write that replaced sealed bytes
    // checkpointed it: one more audited read puts pages there again).
    await session.revealPassword(entry.id);
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(0);
    expect(leaks(file, NEEDLES), `seed ${random.seed}`).toEqual([]);
    for (const f of vaultFiles(file)) expect(statSync(f).mode & 0o777, f).toBe(0o600);

    await vault.close(); // checkpoints: everything is now in the main file
    expect(leaks(file, NEEDLES), `seed ${random.seed}`).toEqual([]);
    // The needles are the real key bytes, and the search does see what is stored in clear
    // (user names are plain by design, so sign-in can find the account).
    expect(decodeSecret(TOTP_SECRET)).toEqual(TOTP_BYTES);
    expect(leaks(file, [['owner name', Buffer.from(OWNER, 'utf8')]])).toEqual(['owner name in vault']);
  });

  it('wipes a deleted entry\'s sealed blobs, and an edited entry\'s old ones, from the file and the WAL', async () => {
    const { file, vault, session } = await openFresh();
    const kept = await session.createEntry({ customer: FIELDS.customer, title: FIELDS.title, password: FIELDS.oldPassword, notes: FIELDS.notes });
    const doomed = await session.createEntry({ customer: FIELDS.secondCustomer, title: FIELDS.secondTitle, password: FIELDS.password, otp: parseOtpUri(`otpauth://totp/x?secret=${TOTP_SECRET}`) });
    await vault.store.checkpoint();
    const blobs = async (id: number) => {
      const row = await vault.store.read((r) => r.prepare<[number], { sealed_summary: Buffer; sealed_details: Buffer }>('SELECT sealed_summary, sealed_details FROM entries WHERE id = ?').get(id));
      if (!row) throw new Error(`no entry row ${id}`);
      return [...pieces(`entry ${id} summary`, row.sealed_summary), ...pieces(`entry ${id} details`, row.sealed_details)];
    };
    const doomedBlobs = await blobs(doomed.id);
    const keptBefore = await blobs(kept.id);
    // The search finds them while they are live: its silence afterwards means something.
    expect(leaks(file, [...doomedBlobs, ...keptBefore])).toHaveLength(doomedBlobs.length + keptBefore.length);

    await session.deleteEntry(doomed.id, (await session.getEntry(doomed.id)).revision);
    await session.updateEntry(kept.id, { password: FIELDS.password, notes: 'changed' }, (await session.getEntry(kept.id)).revision);
    await vault.store.checkpoint();
    expect(statSync(`${file}-wal`).size).toBe(0);
    expect(leaks(file, doomedBlobs)).toEqual([]);
    expect(leaks(file, keptBefore)).toEqual([]);
    const keptAfter = await blobs(kept.id);
    expect(leaks(file, keptAfter)).toHaveLength(keptAfter.length);
    await vault.close();
  });
});
