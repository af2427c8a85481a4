/**
 * A push names how far its desktop pulled (`pulled`, schema 29, review R1: the server judges a
 * rotation by it) only to a server that says it takes it: a server of schema 28 refuses the field
 * as its strict schema does (test/support/old-server-relay.ts), and a desktop sending it there would
 * have every push refused. A real team server on PGlite behind a loopback relay saying schema 28,
 * then 29. Must never: mock the store, the client or the server.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TeamClient } from '../../electron/team/client';
import { syncOnce } from '../../electron/team/sync';
import { createVault, Vault } from '../../electron/vault/vault';
import { startServer, type RunningServer } from '../../server/main';
import { OldServerRelay } from '../support/old-server-relay';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from '../support/vault';

const SERVER_PASSWORD = 'alice on a team server of schema 28';
const clock = manualClock(Date.UTC(2026, 11, 6, 3, 0, 0));
let home = '';
let server: RunningServer;
let relay: OldServerRelay;
let ownerFile = '';

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'crewvault-server-pulled-'));
  server = await startServer({ dataDir: path.join(home, 'server'), listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });
  ownerFile = path.join(home, 'owner.crewvault');
  const owner = await createVault(ownerFile, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF, clock });
  await owner.createEntries([{ customer: 'Acme', title: 'Router', password: 'pw-router' }]);
  await owner.close();
  const direct = new TeamClient(new URL(server.url), { kind: 'loopback' }, 'server-pulled-direct-0000001');
  await direct.register(readFileSync(path.join(home, 'server', 'owner-invite.txt'), 'utf8').trim(), OWNER, SERVER_PASSWORD, undefined);
  relay = new OldServerRelay(new URL(server.url));
  relay.schema = 28;
  await relay.start();
}, 120_000);

afterAll(async () => {
  await relay.close();
  await server.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('a push names how far its desktop pulled only to a server of schema 29 or later', () => {
  it('sends no `pulled` to a server of schema 28, whose pushes then go through; and sends it to one of 29', async () => {
    const owner = await Vault.open(ownerFile, clock).signIn(OWNER, PASSWORD);
    try {
      const old = new TeamClient(new URL(relay.url), { kind: 'loopback' }, 'server-pulled-relayed-000001');
      await old.login(OWNER, SERVER_PASSWORD);
      await syncOnce(old, owner.replica, { move: true });
      await owner.createEntries([{ customer: 'Acme', title: 'Switch', password: 'pw-switch' }]);
      const before = (await syncOnce(old, owner.replica)).pushed;
      expect({ pushed: before > 0, pulledSent: relay.pulledSent }).toEqual({ pushed: true, pulledSent: 0 });
      relay.schema = 29;
      const now = new TeamClient(new URL(relay.url), { kind: 'loopback' }, 'server-pulled-relayed-000002');
      await now.login(OWNER, SERVER_PASSWORD);
      await owner.createEntries([{ customer: 'Acme', title: 'Firewall', password: 'pw-firewall' }]);
      expect((await syncOnce(now, owner.replica)).pushed).toBeGreaterThan(0);
      expect(relay.pulledSent).toBeGreaterThan(0);
    } finally {
      await owner.close();
    }
  });
});
