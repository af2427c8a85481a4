// The door's own confirmation before a certificate is pinned or a vault moved (electron/team/confirm.ts,
// SECURITY.md "From the app"). A router over a real vault file, a real team server (server/main.ts on
// PGlite) over TLS with a certificate openssl made, sessions in a private Secret Service: the page's
// "confirm" (the fingerprint it sends back, team.move's confirm: true) pins nothing and moves nothing
// unless the port says yes to that very question, which names the host and the fingerprint; without a
// port, nothing happens either. And the browser host's port: a question on its terminal (a real stream)
// answered only by the line typed after it.
import { existsSync, readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { TeamStatus } from '../../shared/api/team-contract';
import { terminalConfirmations, type TrustQuestion } from '../../electron/team/confirm';
import { errorCode, ok } from '../support/router';
import { confirmationPort as port, SERVER_PASSWORD, useTlsTeamServer } from '../support/tls-team-server';

const tls = useTlsTeamServer();
const { logs, desktop } = tls;

const apiRequests = (): number => logs.filter((line) => line.includes('"/v1/')).length;

describe('the door confirms, not the page', () => {
  it('pins a certificate only when the port says yes to its host and fingerprint, and moves a vault only then', async () => {
    const { server, fingerprint } = tls;
    const url = server.url;
    const invite = readFileSync(server.ownerInviteFile ?? '', 'utf8').trim();
    // No port: the page's comparison alone pins nothing and sends nothing.
    const bare = await desktop(undefined);
    expect((ok(await bare.router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite })) as TeamStatus).certificate).toMatchObject({ fingerprint });
    expect(errorCode(await bare.router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite, trustFingerprint: fingerprint }))).toBe('SERVER_UNTRUSTED');
    expect(existsSync(bare.servers)).toBe(false);
    expect(apiRequests()).toBe(0);

    // A port that says no: asked with the host and the very fingerprint, nothing pinned or sent.
    const asker = port(false);
    const { router, servers } = await desktop(asker);
    ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite }));
    const refused = await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite, trustFingerprint: fingerprint });
    expect(errorCode(refused)).toBe('SERVER_UNTRUSTED');
    expect(asker.asked).toEqual([expect.objectContaining({ kind: 'pin-certificate', server: url, fingerprint })]);
    expect(existsSync(servers)).toBe(false);
    expect(apiRequests()).toBe(0);

    // Yes: pinned and signed in (the page compared, the door confirmed).
    asker.answer = true;
    ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite }));
    expect(ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite, trustFingerprint: fingerprint }))).toMatchObject({ connected: { server: url, user: 'alice' } });
    expect(JSON.parse(readFileSync(servers, 'utf8'))).toMatchObject({ servers: { [url]: { trust: { kind: 'pinned', pin: { fingerprint256: fingerprint } } } } });

    // The page confirms the move; the port says no: nothing of the vault reaches the server.
    ok(await router.call('entries.create', { customer: 'Acme', title: 'Firewall', password: 'fw-1' }));
    asker.answer = false;
    expect(errorCode(await router.call('team.move', { confirm: true }))).toBe('FORBIDDEN');
    expect(asker.asked.at(-1)).toEqual({ kind: 'move-vault', server: url, certificate: `pinned, SHA-256 ${fingerprint}` });
    expect(await server.database.query('SELECT 1 FROM sync_records')).toHaveLength(0);
    asker.answer = true;
    expect((ok(await router.call('team.move', { confirm: true })) as TeamStatus).lastSync).toMatchObject({ ok: true, moved: true });
    expect((await server.database.query('SELECT 1 FROM sync_records')).length).toBeGreaterThan(0);
  }, 60_000);
});

describe('the browser host\'s terminal confirmation', () => {
  const question: TrustQuestion = { kind: 'pin-certificate', server: 'https://vault.example.com:8443', fingerprint: 'AB:CD', subject: 'CN=vault', validTo: Date.UTC(2027, 0, 1) };

  it('asks on the terminal with the host and fingerprint, and takes only the question\'s own word typed after it', async () => {
    const input = new PassThrough();
    const written: string[] = [];
    const terminal = terminalConfirmations(input, (text) => written.push(text));
    // Typed ahead, before any question: dropped.
    const tick = (): Promise<unknown> => new Promise((resolve) => setImmediate(resolve));
    input.write('yes\n');
    await tick();
    const first = terminal.confirm(question);
    await tick();
    expect(written.join('')).toContain('vault.example.com:8443');
    expect(written.join('')).toContain('AB:CD');
    input.write('y\n');
    expect(await first).toBe(false);
    // "yes" is not the answer: only the question's own random word is.
    const wordOf = (): string => /type the word ([a-z]+) and Enter/.exec(written.join('').split('anything else to refuse').at(-2) ?? '')?.[1] ?? '';
    const second = terminal.confirm({ kind: 'move-vault', server: 'https://vault.example.com', certificate: 'pinned, SHA-256 AB:CD' });
    await tick();
    input.write('yes\n');
    expect(await second).toBe(false);
    const fourth = terminal.confirm({ kind: 'move-vault', server: 'https://vault.example.com', certificate: 'pinned, SHA-256 AB:CD' });
    await tick();
    expect(wordOf()).toMatch(/^[a-z]{5}$/);
    input.write(`${wordOf()}\n`);
    expect(await fourth).toBe(true);
    // The terminal's input ends: a question then waiting, and any after, are no.
    const third = terminal.confirm(question);
    await tick();
    input.end();
    expect(await third).toBe(false);
    expect(await terminal.confirm(question)).toBe(false);
  });
});
