// Schema 11 (issue #13): audit events signed by their author and linked per device. Someone who
// can write the file — a member with every key a member has — can no longer rewrite, re-attribute
// or drop another person's events: each edit below recomputes the hash chain and the head as the
// app would, and the authors' signatures still catch it.
import Database from 'better-sqlite3';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bindingBytes, certificateBytes, signBytes, newSigningKeyPair, type Signer } from '../../electron/vault/signing';
import { uidText } from '../../electron/vault/ids';
import { storedEventBytes } from '../../electron/vault/store-audit';
import type { VaultSession } from '../../electron/vault/service';
import { Vault } from '../../electron/vault/vault';
import { rechainAudit } from '../support/audit-forger';

/** The vault id a certificate names (review round seven hole 4), read as a forger with the file would. */
const vaultIdOf = (db: Database.Database): string => (db.prepare("SELECT value FROM meta WHERE key = 'vault_id'").get() as { value: string }).value;
import { FAST_KDF, manualClock, newVault, OWNER, PASSWORD } from '../support/vault';

function edit(file: string, work: (db: Database.Database) => void): void {
  const db = new Database(file);
  try {
    work(db);
    rechainAudit(db);
  } finally {
    db.close();
  }
}

function signerOf(session: VaultSession): Signer {
  const signer = (session as unknown as { ring: { signer: Signer | undefined } }).ring.signer;
  if (!signer) throw new Error('no signer');
  return signer;
}

interface Row { id: number; actor_id: number | null; action: string; device_id: Buffer | null; signer_key_id: number | null; signature: Buffer | null }

/** A team: alice (owner) and mallory (technician), each writing from this desktop. */
async function team() {
  const clock = manualClock();
  const { file, session: alice } = await newVault(clock);
  await alice.createUser('mallory', 'technician', 'mallory password', FAST_KDF);
  const vault = Vault.open(file, clock);
  const mallory = await vault.signIn('mallory', 'mallory password');
  await mallory.changePassword('mallory password', 'mallory chose this', FAST_KDF);
  const entry = await alice.createEntry({ customer: 'Acme', title: 'VPN', password: 'vpn-pass' });
  await alice.revealPassword(entry.id);
  await mallory.listEntries();
  await alice.createEntry({ customer: 'Acme', title: 'Mail', password: 'mail-pass' });
  const rows = (): Row[] => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare<[], Row>('SELECT id, actor_id, action, device_id, signer_key_id, signature FROM audit_log ORDER BY id').all();
    } finally {
      db.close();
    }
  };
  const verify = async () => {
    const check = Vault.open(file, clock);
    try {
      return await check.verifyAudit();
    } finally {
      await check.close();
    }
  };
  return { file, clock, alice, mallory, vault, entry, rows, verify };
}

describe('signed audit events', () => {
  it('every event someone signed in writes is signed by them and names this device; the log verifies', async () => {
    const { alice, rows, verify } = await team();
    const all = rows();
    expect(all.length).toBeGreaterThan(6);
    for (const row of all) {
      expect(row.signature, row.action).not.toBeNull();
      expect(row.device_id).toEqual(all[0]?.device_id);
    }
    expect(new Set(all.map((r) => r.signer_key_id)).size).toBe(2);
    expect(await verify()).toEqual({ ok: true, rows: all.length });
    expect((await alice.verifyAuditLog()).chain).toMatchObject({ ok: true });
  });

  it('an edited event fails its author\'s signature, even with every hash recomputed', async () => {
    const { file, rows, verify } = await team();
    const reveal = rows().find((r) => r.action === 'password.reveal');
    edit(file, (db) => db.prepare("UPDATE audit_log SET action = 'entry.view' WHERE id = ?").run(reveal?.id));
    expect(await verify()).toMatchObject({ ok: false, brokenAt: reveal?.id, reason: expect.stringMatching(/changed after its author signed it/) as unknown });
  });

  it('another member cannot re-sign someone\'s event as theirs, nor take it over as their own', async () => {
    const { file, mallory, rows, verify } = await team();
    const reveal = rows().find((r) => r.action === 'password.reveal');
    const malloryKey = signerOf(mallory);
    const malloryId = mallory.user.id;
    // Alice's event, reworded and signed with Mallory's own key.
    edit(file, (db) => {
      db.prepare("UPDATE audit_log SET action = 'entry.view', signer_key_id = ? WHERE id = ?").run(malloryKey.keyId, reveal?.id);
      db.prepare('UPDATE audit_log SET signature = ? WHERE id = ?').run(signBytes(malloryKey.privateKey, storedEventBytes(db as never, reveal?.id ?? 0)), reveal?.id);
    });
    expect(await verify()).toMatchObject({ ok: false, brokenAt: reveal?.id, reason: expect.stringMatching(/not its author's/) as unknown });
    // Claimed as Mallory's own, validly signed by her: the next event from this device no longer follows it.
    edit(file, (db) => {
      db.prepare('UPDATE audit_log SET actor_id = ? WHERE id = ?').run(malloryId, reveal?.id);
      db.prepare('UPDATE audit_log SET signature = ? WHERE id = ?').run(signBytes(malloryKey.privateKey, storedEventBytes(db as never, reveal?.id ?? 0)), reveal?.id);
    });
    expect(await verify()).toMatchObject({ ok: false, brokenAt: (reveal?.id ?? 0) + 1, reason: expect.stringMatching(/does not follow the event before it from its device/) as unknown });
  });

  it('a signing key made up for someone is not theirs: only a first key may vouch for itself', async () => {
    const { file, alice, rows, verify } = await team();
    const reveal = rows().find((r) => r.action === 'password.reveal');
    const forged = newSigningKeyPair();
    edit(file, (db) => {
      const keyId = Number(db.prepare('INSERT INTO signing_keys (uid, user_id, public_key, created_at) VALUES (randomblob(16), ?, ?, 1)').run(alice.user.id, forged.publicKey).lastInsertRowid);
      db.prepare("UPDATE audit_log SET action = 'entry.view', signer_key_id = ? WHERE id = ?").run(keyId, reveal?.id);
      db.prepare('UPDATE audit_log SET signature = ? WHERE id = ?').run(signBytes(forged.privateKey, storedEventBytes(db as never, reveal?.id ?? 0)), reveal?.id);
    });
    expect(await verify()).toMatchObject({ ok: false, brokenAt: reveal?.id, reason: expect.stringMatching(/not its author's/) as unknown });
  });

  it('every event names its vault (review round seven hole 4): re-signed for another vault it is refused; signed as before the fix (v1, no vault) it still holds', async () => {
    const { file, alice, mallory, rows, verify } = await team();
    // The last event: re-signing it breaks no link of an event after it.
    const last = rows().at(-1);
    const author = last?.actor_id === alice.user.id ? alice : mallory;
    expect(last?.actor_id).toBe(author.user.id);
    const key = signerOf(author);
    const resign = (text: (signed: unknown[], vault: string) => unknown[]): void => edit(file, (db) => {
      const signed = JSON.parse(storedEventBytes(db as never, last?.id ?? 0).toString('utf8')) as unknown[];
      db.prepare('UPDATE audit_log SET signature = ? WHERE id = ?').run(signBytes(key.privateKey, Buffer.from(JSON.stringify(text(signed, vaultIdOf(db))), 'utf8')), last?.id);
    });
    // What a desktop signs now names the vault.
    const signedNow = (() => {
      const db = new Database(file, { readonly: true });
      try {
        return { text: JSON.parse(storedEventBytes(db as never, last?.id ?? 0).toString('utf8')) as unknown[], vault: vaultIdOf(db) };
      } finally {
        db.close();
      }
    })();
    expect(signedNow.text.slice(0, 2)).toEqual(['crewvault/v2 audit event', signedNow.vault]);
    resign(([, , ...rest]) => ['crewvault/v2 audit event', 'another vault', ...rest]);
    expect(await verify()).toMatchObject({ ok: false, brokenAt: last?.id, reason: expect.stringMatching(/changed after its author signed it/) as unknown });
    resign(([, , ...rest]) => ['crewvault/v1 audit event', ...rest]);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('an event dropped from one device\'s chain is caught; so is a signature removed', async () => {
    const { file, rows, verify } = await team();
    const reveal = rows().find((r) => r.action === 'password.reveal');
    edit(file, (db) => db.prepare('DELETE FROM audit_log WHERE id = ?').run(reveal?.id));
    expect(await verify()).toMatchObject({ ok: false, reason: expect.stringMatching(/does not follow the event before it from its device/) as unknown });
    const second = await team();
    const listed = second.rows().at(-1);
    edit(second.file, (db) => db.prepare('UPDATE audit_log SET signature = NULL, signer_key_id = NULL, device_id = NULL, device_prev = NULL WHERE id = ?').run(listed?.id));
    expect(await second.verify()).toMatchObject({ ok: false, brokenAt: listed?.id, reason: expect.stringMatching(/nobody signed it/) as unknown });
  });

  it('two devices each keep their own chain; a password reset gives a key vouched for by the owner', async () => {
    const { file, clock, alice, mallory, verify } = await team();
    mallory.lock();
    // The same file written from another desktop: another device id.
    const db = new Database(file);
    db.prepare('UPDATE this_device SET device_id = randomblob(16)').run();
    // (a derived id, store-device.ts, lives in meta: gone, the next signed event makes another)
    db.prepare("DELETE FROM meta WHERE key = 'this_device_derived'").run();
    db.close();
    await alice.createEntry({ customer: 'Globex', title: 'Router', password: 'r' });
    await alice.team.resetPassword('mallory', 'a one-time password', await alice.team.userRevision('mallory'), FAST_KDF);
    const vault = Vault.open(file, clock);
    const back = await vault.signIn('mallory', 'a one-time password');
    await back.changePassword('a one-time password', 'mallory again', FAST_KDF);
    await back.listEntries();
    const devices = new Database(file, { readonly: true });
    const count = devices.prepare<[], { n: number }>('SELECT count(DISTINCT device_id) AS n FROM audit_log').get()?.n;
    const keys = devices.prepare<[], { user_id: number; certified_by: number | null }>('SELECT user_id, certified_by FROM signing_keys ORDER BY id').all();
    devices.close();
    expect(count).toBe(2);
    expect(keys.filter((k) => k.user_id === back.user.id).map((k) => k.certified_by !== null)).toEqual([false, true]);
    expect(await verify()).toMatchObject({ ok: true });
    await vault.close();
  });

  it('a signing key replaced in the file after someone saw it is caught at their next sign-in, and stays reported', async () => {
    const { file, clock, alice, mallory, vault } = await team();
    // Mallory saw Alice's key when she signed in; Alice's key is now swapped for one the forger holds.
    mallory.lock();
    const forged = newSigningKeyPair();
    const db = new Database(file);
    // The forger puts the trigger that forbids it back afterwards, so the vault still opens.
    const trigger = db.prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'signing_keys_fixed'").get()?.sql ?? '';
    db.exec('DROP TRIGGER signing_keys_fixed');
    db.prepare('UPDATE signing_keys SET public_key = ? WHERE user_id = ?').run(forged.publicKey, alice.user.id);
    db.exec(trigger);
    db.close();
    const again = await vault.signIn('mallory', 'mallory chose this');
    expect(again.auditAnchorAtSignIn).toMatchObject({ ok: false, fresh: true, reason: expect.stringMatching(/alice's signing key .* was replaced since you last signed in/) as unknown });
    again.lock();
    const later = await Vault.open(file, clock).signIn('mallory', 'mallory chose this');
    expect(later.auditAnchorAtSignIn).toMatchObject({ ok: false });
  });

  it('a log rewritten at or before where someone last saw it — signatures stripped, hashes, head and anchor remade — is caught at their next sign-in', async () => {
    const { file, clock, alice, mallory, rows } = await team();
    const reveal = rows().find((r) => r.action === 'password.reveal');
    // Alice's last sign-in saw the log as it is now (her session's sign-in checkpointed it).
    alice.lock();
    const vaultA = Vault.open(file, clock);
    (await vaultA.signIn(OWNER, PASSWORD)).lock();
    await vaultA.close();
    // Mallory, with every key a member has, rewrites Alice's reveal and remakes everything she can.
    const auditKey = Buffer.from((mallory as unknown as { ring: { auditKey: Buffer } }).ring.auditKey);
    mallory.lock();
    edit(file, (db) => {
      db.prepare('UPDATE audit_log SET signature = NULL, signer_key_id = NULL, device_id = NULL, device_prev = NULL').run();
      db.prepare("UPDATE audit_log SET action = 'entry.view' WHERE id = ?").run(reveal?.id);
    });
    const db = new Database(file);
    const last = db.prepare<[], { id: number; hash: Buffer }>('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1').get();
    const mac = createHmac('sha256', auditKey).update(`${last?.id}:${last?.hash.toString('hex')}`, 'utf8').digest('hex');
    db.prepare("UPDATE meta SET value = ? WHERE key = 'audit_anchor'").run(`${last?.id}:${mac}`);
    db.close();
    const unkeyed = Vault.open(file, clock);
    expect(await unkeyed.verifyAudit()).toMatchObject({ ok: true }); // every check a member can remake passes
    await unkeyed.close();
    const vault = Vault.open(file, clock);
    const again = await vault.signIn(OWNER, PASSWORD);
    expect(again.auditAnchorAtSignIn).toMatchObject({ ok: false, reason: expect.stringMatching(/the audit log was rewritten at or before row \d+ since you last signed in/) as unknown });
    await vault.close();
  });

  it('a key vouched for by a technician, or by a key whose user does not exist, is nobody\'s', async () => {
    const { file, alice, mallory, rows, verify } = await team();
    const reveal = rows().find((r) => r.action === 'password.reveal');
    const malloryKey = signerOf(mallory);
    for (const certifierOf of ['mallory', 'nobody'] as const) {
      const forged = newSigningKeyPair();
      edit(file, (db) => {
        const aliceUid = (db.prepare('SELECT uid FROM users WHERE id = ?').get(alice.user.id) as { uid: Buffer }).uid;
        let certifier: Signer = malloryKey;
        if (certifierOf === 'nobody') {
          db.pragma('foreign_keys = OFF'); // the forger's own connection: nothing makes them keep it on
          const ghost = newSigningKeyPair();
          const ghostId = Number(db.prepare('INSERT INTO signing_keys (uid, user_id, public_key, created_at) VALUES (randomblob(16), 4242, ?, 1)').run(ghost.publicKey).lastInsertRowid);
          certifier = { keyId: ghostId, keyUid: Buffer.alloc(16), privateKey: ghost.privateKey };
        }
        const keyUid = randomBytes(16);
        const certificate = signBytes(certifier.privateKey, certificateBytes(vaultIdOf(db), uidText(keyUid), uidText(aliceUid), forged.publicKey));
        const keyId = Number(db.prepare('INSERT INTO signing_keys (uid, user_id, public_key, created_at, certified_by, certificate) VALUES (?, ?, ?, 1, ?, ?)').run(keyUid, alice.user.id, forged.publicKey, certifier.keyId, certificate).lastInsertRowid);
        db.prepare("UPDATE audit_log SET action = 'entry.view', signer_key_id = ? WHERE id = ?").run(keyId, reveal?.id);
        db.prepare('UPDATE audit_log SET signature = ? WHERE id = ?').run(signBytes(forged.privateKey, storedEventBytes(db as never, reveal?.id ?? 0)), reveal?.id);
      });
      expect(await verify(), certifierOf).toMatchObject({ ok: false, brokenAt: reveal?.id, reason: expect.stringMatching(/not its author's/) as unknown });
    }
  });

  it('an owner disabled since vouches only for keys made before the disable: one they certify after it is nobody\'s (review round seven hole 3)', async () => {
    const { file, clock, alice, mallory, vault, rows, verify } = await team();
    await alice.createUser('olga', 'owner', 'olga password', FAST_KDF);
    const olga = await vault.signIn('olga', 'olga password');
    await olga.changePassword('olga password', 'olga chose this', FAST_KDF);
    const olgaKey = signerOf(olga);
    await olga.close();
    clock.advance(60_000);
    await alice.team.disableUser('olga', await alice.team.userRevision('olga'));
    const disabledAt = clock.now();
    // The last event (alice's disabling olga): re-signing it breaks no link of an event after it.
    const reveal = rows().at(-1);
    expect(reveal?.actor_id).toBe(alice.user.id);
    // Olga, disabled, still holds her private key: she certifies a key for alice and re-signs alice's event with it.
    const plant = (createdAt: number): void => {
      const forged = newSigningKeyPair();
      edit(file, (db) => {
        const aliceUid = (db.prepare('SELECT uid FROM users WHERE id = ?').get(alice.user.id) as { uid: Buffer }).uid;
        const keyUid = randomBytes(16);
        const certificate = signBytes(olgaKey.privateKey, certificateBytes(vaultIdOf(db), uidText(keyUid), uidText(aliceUid), forged.publicKey));
        const keyId = Number(db.prepare('INSERT INTO signing_keys (uid, user_id, public_key, created_at, certified_by, certificate) VALUES (?, ?, ?, ?, ?, ?)')
          .run(keyUid, alice.user.id, forged.publicKey, createdAt, olgaKey.keyId, certificate).lastInsertRowid);
        db.prepare('UPDATE audit_log SET signer_key_id = ? WHERE id = ?').run(keyId, reveal?.id);
        db.prepare('UPDATE audit_log SET signature = ? WHERE id = ?').run(signBytes(forged.privateKey, storedEventBytes(db as never, reveal?.id ?? 0)), reveal?.id);
      });
    };
    // Made before the disable: it stays hers to vouch for (the event re-signed with it holds).
    plant(disabledAt - 1);
    const before = await verify();
    expect(before, JSON.stringify(before)).toMatchObject({ ok: true });
    // Made at or after the disable: nobody's.
    plant(disabledAt);
    expect(await verify()).toMatchObject({ ok: false, brokenAt: reveal?.id, reason: expect.stringMatching(/not its author's/) as unknown });
    void mallory;
  });

  it('a person\'s record removed or put back is caught at their next sign-in: their last signed sign-in names the one it left', async () => {
    const { file, clock, alice } = await team();
    alice.lock();
    const vault = Vault.open(file, clock);
    (await vault.signIn(OWNER, PASSWORD)).lock();
    const db = new Database(file);
    db.prepare("UPDATE users SET sealed_key_pins = NULL WHERE name = 'alice'").run();
    db.close();
    const again = await vault.signIn(OWNER, PASSWORD);
    expect(again.auditAnchorAtSignIn).toMatchObject({ ok: false, reason: expect.stringMatching(/not the one your last sign-in left/) as unknown });
    // What people read of a sign-in is still only who signed in.
    expect((await again.auditLog()).filter((r) => r.action === 'signin.ok').every((r) => r.detail === r.actor)).toBe(true);
    await vault.close();
  });

  it('a key put in among older ones for someone is caught, and no key is wrapped to the public key it vouches for', async () => {
    const clock = manualClock();
    const { file, session: alice } = await newVault(clock);
    const finance = await alice.team.createGroup('Finance');
    for (const name of ['bob', 'carol', 'mallory']) await alice.createUser(name, 'technician', `${name} password`, FAST_KDF);
    await alice.team.grant(finance.id, 'bob', false, await alice.team.groupRevision(finance.id));
    await alice.team.grant(finance.id, 'carol', false, await alice.team.groupRevision(finance.id));
    await alice.team.resetPassword('bob', 'bob one-time', await alice.team.userRevision('bob'), FAST_KDF);
    alice.lock();
    const vault = Vault.open(file, clock);
    (await vault.signIn('bob', 'bob one-time')).lock();
    (await vault.signIn(OWNER, PASSWORD)).lock();
    const mallory = await vault.signIn('mallory', 'mallory password');
    const malloryPublic = Buffer.from((mallory as unknown as { ring: { keyPair: { publicKey: Buffer } } }).ring.keyPair.publicKey);
    mallory.lock();
    const planted = newSigningKeyPair();
    const db = new Database(file);
    db.pragma('foreign_keys = OFF');
    const bob = db.prepare<[], { id: number; uid: Buffer }>("SELECT id, uid FROM users WHERE name = 'bob'").get();
    const binding = signBytes(planted.privateKey, bindingBytes(uidText(bob?.uid ?? Buffer.alloc(16)), malloryPublic));
    db.prepare('INSERT INTO signing_keys (id, uid, user_id, public_key, created_at, binding) VALUES (-1, ?, ?, ?, 1, ?)').run(randomBytes(16), bob?.id, planted.publicKey, binding);
    db.prepare('UPDATE users SET public_key = ?, signing_key_id = -1 WHERE id = ?').run(malloryPublic, bob?.id);
    db.close();
    const owner = await vault.signIn(OWNER, PASSWORD);
    expect(owner.auditAnchorAtSignIn).toMatchObject({ ok: false, reason: expect.stringMatching(/bob's signing key .* was put in among keys you had already seen/) as unknown });
    await expect(owner.team.revoke(finance.id, 'carol', await owner.team.memberRevision(finance.id, 'carol'))).rejects.toThrow(expect.objectContaining({ code: 'VAULT_TAMPERED' }));
    await vault.close();
  });
});
