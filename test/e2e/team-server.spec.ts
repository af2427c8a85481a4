// The Team server screen end to end (#14, #15): a real team server on loopback, two desktops of
// one vault — A through Chromium and `crewvault serve`, B through the CLI — each with its own
// session in a private Secret Service. A signs in from the account menu with the server's
// second step (a wrong code refused, then the authenticator's), moves the vault there, takes in
// an entry B made through live sync alone, sends an edit B then reads, and signs out, which
// takes the session out of A's keychain. Each state of the screen passes axe.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { keychainDeviceStore } from '../../electron/devices';
import { TeamClient } from '../../electron/team/client';
import { SessionKeeper } from '../../electron/team/profiles';
import { authenticatorCode } from '../server/support';
import { runScripted } from '../support/scripted-cli';
import { expect, OWNER, PASSWORD, test } from './fixtures';
import { detailsPane, entryRow, selectRow, signIn } from './helpers';
import { serveConfigDir, startServe, startTeamWorld, type TeamWorld } from './team-server-helpers';
import { seriousViolations } from './axe';

const SERVER_PASSWORD = 'alice on the team server 1';

/** Desktop B's CLI, on the test's clock, in its own config folder and keychain service. */
async function onB(world: TeamWorld, args: readonly string[], answers: readonly string[]) {
  const b = world.desktops[1];
  const vault = ['sync', 'add', 'show'].includes(args[0] ?? '') ? ['--vault', b.file] : [];
  const out = await runScripted([...args, ...vault], answers, { now: () => Date.now() }, b.env);
  expect(out.code, `${args.join(' ')}: ${out.stderr}`).toBe('ok');
  return out;
}

test('signs in with the second step, moves the vault, syncs both ways with another desktop, and signs out', async ({ page }) => {
  test.setTimeout(120_000);
  const world = await startTeamWorld();
  const serve = await startServe(world);
  try {
    const url = world.server.url;
    // Desktop B registers Alice with the owner's invite; she turns an authenticator on there.
    await onB(world, ['login', url, '--user', OWNER, '--invite-file', world.inviteFile], [SERVER_PASSWORD]);
    const client = new TeamClient(new URL(url), { kind: 'loopback' }, 'e2e-team-device-000001');
    await client.login(OWNER, SERVER_PASSWORD);
    const { secret } = await client.call('mfaEnrolStart', {});
    const { recoveryCodes } = await client.call('mfaEnrolConfirm', { code: authenticatorCode(secret, world.clock.now()) });
    // B signs in again with a recovery code: its session needs the second step now too.
    await onB(world, ['login', url, '--recovery-code', '-'], [SERVER_PASSWORD, recoveryCodes[0] ?? '']);

    // Desktop A: the vault, then the Team server screen from the account menu, by keyboard.
    await page.goto(serve.url);
    await signIn(page, OWNER, PASSWORD);
    await page.getByRole('button', { name: /^Account: / }).click();
    const teamButton = page.getByRole('group', { name: /^Account of / }).getByRole('button', { name: 'Team server' });
    await teamButton.focus();
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { name: 'Sign in to a team server' })).toBeVisible();
    expect(await seriousViolations(page)).toEqual([]);

    // Plain http to another computer is refused as the CLI refuses it.
    await page.getByLabel('Server address').fill('http://10.255.255.1:8443');
    await page.getByLabel('Your name on the server').fill(OWNER);
    await page.getByLabel('Server password').fill(SERVER_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByRole('alert')).toContainText('plain http:// is for a server on this computer only');

    world.clock.advance(60_000); // a step the authenticator has not used yet
    await page.getByLabel('Server address').fill(url);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Two-step sign-in to the team server' })).toBeVisible();
    expect(await seriousViolations(page)).toEqual([]);
    const right = authenticatorCode(secret, world.clock.now());
    await page.getByLabel('Authentication code').fill(right === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByRole('alert')).toBeVisible();
    await page.getByLabel('Authentication code').fill(right);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByRole('status').filter({ hasText: `Signed in to ${url}; live sync is on.` })).toBeVisible();
    await expect(page.getByRole('checkbox', { name: /Live sync/ })).toBeChecked();
    // The password typed went nowhere the page keeps: not in its storage, not in the DOM.
    expect(await page.content()).not.toContain(SERVER_PASSWORD);
    expect(await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))).not.toContain(SERVER_PASSWORD);
    expect(readFileSync(`${world.home}/serve/servers.json`, 'utf8')).not.toContain(SERVER_PASSWORD);

    // The owner moves the vault onto the server, after saying so.
    await page.getByRole('button', { name: 'Move this vault to the team server…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Move this vault to the team server?' });
    await confirm.getByRole('button', { name: 'Move the vault' }).click();
    // The page's "confirm" is not enough: serve asks on its own terminal, naming the server.
    expect(await serve.answerOnTerminal('yes')).toContain(`Move this vault's records to ${new URL(url).host}?`);
    await expect(page.getByLabel('Last sync')).toContainText(/Moved at .*: \d+ records sent to move the vault; no conflict copies; nothing set aside\./);
    expect(await seriousViolations(page)).toEqual([]);

    // Back on the vault's page, B takes it in, makes an entry and sends it: A's live sync takes it
    // in and the list shows it, without a click or leaving the page.
    await page.getByRole('button', { name: 'Back to the vault' }).click();
    await expect(page.getByLabel('Search')).toBeVisible();
    const row = entryRow(page, 'Domain admin', 'Globex');
    await expect(row).toHaveCount(0);
    await onB(world, ['sync'], [PASSWORD]);
    await onB(world, ['add', '--customer', 'Globex', '--title', 'Domain admin', '--username', 'hank'], [PASSWORD]);
    await onB(world, ['sync'], [PASSWORD]);
    await expect(row).toBeVisible({ timeout: 15_000 });

    // An edit made here reaches B with "Sync now".
    await selectRow(row);
    await detailsPane(page, 'Domain admin').getByRole('button', { name: 'Edit' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit entry' });
    await dialog.getByLabel('Username').fill('hank-from-a');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect(dialog).toBeHidden();
    await page.getByRole('button', { name: /^Account: / }).click();
    await page.getByRole('group', { name: /^Account of / }).getByRole('button', { name: 'Team server' }).click();
    await page.getByRole('button', { name: 'Sync now' }).click();
    await expect(page.getByLabel('Last sync')).toContainText(/Synced at .*: \d+ changes? taken in, [1-9]\d* records? sent/);
    await onB(world, ['sync'], [PASSWORD]);
    const shown = await onB(world, ['show', 'Globex/Domain admin', '--json'], [PASSWORD]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ username: 'hank-from-a' });

    // Signing out takes the session out of A's keychain (B's stays).
    await page.getByRole('button', { name: 'Sign out of the server' }).click();
    await expect(page.getByRole('heading', { name: 'Sign in to a team server' })).toBeVisible();
    const [a, b] = world.desktops;
    expect(await new SessionKeeper(keychainDeviceStore(a.env.CREWVAULT_KEYCHAIN_SERVICE)).get(url, OWNER)).toBeUndefined();
    expect(await new SessionKeeper(keychainDeviceStore(b.env.CREWVAULT_KEYCHAIN_SERVICE)).get(url, OWNER)).toBeDefined();
  } finally {
    await serve.stop();
    await world.stop();
  }
});

test('an https server no authority vouches for: its fingerprint is compared before it is pinned, then the owner registers with the invite', async ({ page }) => {
  const world = await startTeamWorld({ tls: true });
  const serve = await startServe(world);
  try {
    const url = world.server.url;
    expect(url).toMatch(/^https:/);
    await page.goto(serve.url);
    await signIn(page, OWNER, PASSWORD);
    await page.getByRole('button', { name: /^Account: / }).click();
    await page.getByRole('group', { name: /^Account of / }).getByRole('button', { name: 'Team server' }).click();
    await page.getByLabel('Server address').fill(url);
    await page.getByLabel('Your name on the server').fill(OWNER);
    await page.getByLabel('Server password').fill(SERVER_PASSWORD);
    await page.getByRole('checkbox', { name: /I have an invite/ }).check();
    await page.getByLabel('Invite', { exact: true }).fill(readFileSync(world.inviteFile, 'utf8').trim());
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();

    // Shown, never pinned silently: the fingerprint is openssl's own, and nothing is kept yet.
    await expect(page.getByRole('heading', { name: 'Check the server\'s certificate' })).toBeVisible();
    await expect(page.getByLabel('Certificate fingerprint')).toHaveText(world.fingerprint ?? 'no fingerprint');
    expect(existsSync(path.join(serveConfigDir(world), 'servers.json'))).toBe(false);
    expect(await seriousViolations(page)).toEqual([]);
    // Cancelled: back to the form, still nothing kept; then compared and trusted.
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect(page.getByRole('heading', { name: 'Sign in to a team server' })).toBeVisible();
    expect(existsSync(path.join(serveConfigDir(world), 'servers.json'))).toBe(false);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'They match: trust and sign in' }).click();
    // Compared on the page, confirmed on serve's terminal, which names the host and the fingerprint.
    const asked = await serve.answerOnTerminal('yes');
    expect(asked).toContain(new URL(url).host);
    expect(asked).toContain(world.fingerprint ?? 'no fingerprint');
    // Registration then sign-in: two OPAQUE key stretchings (2.7 s in a trace at load 12 on the shared 2 cores), more than the 5 s default allows when busier.
    await expect(page.getByRole('status').filter({ hasText: `Signed in to ${url}; live sync is on.` })).toBeVisible({ timeout: 20_000 });
    const saved = JSON.parse(readFileSync(path.join(serveConfigDir(world), 'servers.json'), 'utf8')) as { servers: Record<string, { trust: unknown }> };
    expect(saved.servers[url]?.trust).toMatchObject({ kind: 'pinned', pin: { fingerprint256: world.fingerprint } });
    // The invite and the password went nowhere the page keeps.
    expect(await page.content()).not.toContain(SERVER_PASSWORD);
  } finally {
    await serve.stop();
    await world.stop();
  }
});
