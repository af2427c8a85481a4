// The Team server screen's "Server administration" end to end (#14): a real team server on
// loopback (PGlite, the server's clock moved by the test), a private Secret Service, and the
// desktop through Chromium and `crewvault serve`. The server's owner (with an authenticator)
// signs in on the Team server screen, opens the administration, makes an automation token (the
// MFA-bypass warning first, the token shown once, copied, never in the list) and revokes it
// (the server then refuses it), resets a member's MFA after a dialog naming her and, since her
// own second step is by then over 5 minutes old, the fresh code the server asks for. axe checks
// each tab and dialog in the dark and the light theme.
import { SERVER_ROUTES } from '../../shared/api/server-contract';
import { TeamClient } from '../../electron/team/client';
import { authenticatorCode } from '../server/support';
import { runScripted } from '../support/scripted-cli';
import { expect, OWNER, PASSWORD, test } from './fixtures';
import { readClipboard, signIn } from './helpers';
import { startServe, startTeamWorld, type TeamWorld } from './team-server-helpers';
import { seriousViolations } from './axe';

const SERVER_PASSWORD = 'alice on the team server 1';

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

/** A script's call with an automation token: the status and the server's error code. */
async function withToken(world: TeamWorld, token: string): Promise<{ status: number; code: string | undefined }> {
  const spec = SERVER_ROUTES.syncPull;
  const response = await fetch(`${world.server.url}${spec.path}`, {
    method: spec.method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ vault: 'a'.repeat(32), since: 0 }), signal: AbortSignal.timeout(20_000),
  });
  const body = await response.json() as { error?: { code: string } };
  return { status: response.status, code: body.error?.code };
}

test('the owner makes and revokes an automation token and resets a member\'s MFA with a fresh code', async ({ page }) => {
  test.setTimeout(150_000);
  const world = await startTeamWorld();
  const serve = await startServe(world);
  try {
    const url = world.server.url;
    // Alice registers as the server's owner with its invite (from desktop B's CLI) and turns an authenticator on.
    const b = world.desktops[1];
    const registered = await runScripted(['login', url, '--user', OWNER, '--invite-file', world.inviteFile], [SERVER_PASSWORD], { now: () => Date.now() }, b.env);
    expect(registered.code, registered.stderr).toBe('ok');
    const alice = new TeamClient(new URL(url), { kind: 'loopback' }, 'e2e-admin-device-alice-01');
    await alice.login(OWNER, SERVER_PASSWORD);
    const { secret } = await alice.call('mfaEnrolStart', {});
    await alice.call('mfaEnrolConfirm', { code: authenticatorCode(secret, world.clock.now()) });
    // Mia, a member, with an authenticator of her own.
    const { invite } = await alice.call('inviteCreate', { username: 'mia', role: 'member' });
    const mia = new TeamClient(new URL(url), { kind: 'loopback' }, 'e2e-admin-device-mia-0001');
    await mia.register(invite, 'mia', SERVER_PASSWORD, undefined);
    await mia.login('mia', SERVER_PASSWORD);
    const { secret: miaSecret } = await mia.call('mfaEnrolStart', {});
    await mia.call('mfaEnrolConfirm', { code: authenticatorCode(miaSecret, world.clock.now()) });

    // The desktop signs in to the server on the Team server screen.
    await page.goto(serve.url);
    await signIn(page, OWNER, PASSWORD);
    await page.getByRole('button', { name: /^Account: / }).click();
    await page.getByRole('group', { name: /^Account of / }).getByRole('button', { name: 'Team server' }).click();
    await page.getByLabel('Server address').fill(url);
    await page.getByLabel('Your name on the server').fill(OWNER);
    await page.getByLabel('Server password').fill(SERVER_PASSWORD);
    world.clock.advance(60_000); // a step the authenticator has not used yet
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByLabel('Authentication code').fill(authenticatorCode(secret, world.clock.now()));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByRole('status').filter({ hasText: `Signed in to ${url}` })).toBeVisible();

    // Server administration: the server says she is its owner; the people tab lists Mia's second steps.
    await page.getByRole('button', { name: 'Open server administration' }).click();
    const area = page.getByRole('region', { name: 'Server administration' });
    await expect(page.getByText(`Signed in to ${url} as ${OWNER}, owner.`)).toBeVisible();
    const miaRow = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'mia' }) });
    await expect(miaRow).toContainText('Authenticator');
    expect(await seriousViolations(page)).toEqual([]);

    // Automation tokens: the warning before, the token once, copied, never listed.
    await page.getByRole('tab', { name: 'Automation tokens' }).click();
    await expect(page.getByText('No automation tokens.')).toBeVisible();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel('Name (what script it is for)').fill('nightly backup');
    await page.getByLabel('Days until it expires (1 to 365)').fill('30');
    await page.getByRole('button', { name: 'Create token…' }).click();
    const warn = page.getByRole('dialog', { name: 'Create a token that skips two-step sign-in?' });
    await expect(warn).toContainText('signs in without a second step (MFA)');
    expect(await seriousViolations(page)).toEqual([]);
    await warn.getByRole('button', { name: 'Create the token' }).click();
    const shown = page.getByRole('dialog', { name: 'New automation token' });
    const token = (await shown.getByLabel('The new token').textContent()) ?? '';
    expect(token).toMatch(/^cvt_[A-Za-z0-9_-]{40,}$/);
    expect(await seriousViolations(page)).toEqual([]);
    await shown.getByRole('button', { name: 'Copy' }).click();
    await expect(shown.getByRole('status')).toHaveText(/^Copied — clears in \d+ s$/);
    expect(await readClipboard(page)).toBe(token);
    expect(await withToken(world, token)).toEqual({ status: 404, code: 'NOT_FOUND' }); // it reaches pull; the server holds no such vault
    await shown.getByRole('button', { name: 'Done' }).click();
    const tokenRow = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'nightly backup' }) });
    await expect(tokenRow).toContainText('sync.pull');
    expect(await page.content(), 'the token is gone from the page once its dialog closes').not.toContain(token);
    await tokenRow.getByRole('button', { name: 'Revoke nightly backup' }).click();
    const revoke = page.getByRole('dialog', { name: 'Revoke "nightly backup"?' });
    expect(await seriousViolations(page)).toEqual([]);
    await revoke.getByRole('button', { name: 'Revoke the token' }).click();
    await expect(area.getByRole('status')).toHaveText('Token "nightly backup" revoked: it no longer works.');
    await expect(tokenRow).toContainText('Revoked');
    expect(await withToken(world, token)).toEqual({ status: 401, code: 'UNAUTHORIZED' });

    // Reset Mia's MFA: a dialog naming her, then (her own second step over 5 minutes old) the fresh code the server asks for.
    world.clock.advance(5 * 60_000 + 30_000);
    await page.getByRole('tab', { name: 'People and MFA' }).click();
    await miaRow.getByRole('button', { name: 'Reset MFA of mia' }).click();
    const confirm = page.getByRole('dialog', { name: 'Reset mia\'s two-step sign-in?' });
    expect(await seriousViolations(page)).toEqual([]);
    await confirm.getByRole('button', { name: 'Reset mia\'s MFA' }).click();
    const proof = page.getByRole('dialog', { name: 'Confirm it is you' });
    await expect(proof).toContainText('this needs a second step from the last 5 minutes');
    expect(await seriousViolations(page)).toEqual([]);
    const right = authenticatorCode(secret, world.clock.now());
    await proof.getByLabel('Code from your authenticator').fill(right === '000000' ? '111111' : '000000');
    await proof.getByRole('button', { name: 'Confirm' }).click();
    await expect(proof.getByRole('alert')).toContainText('That code was not accepted');
    await expect(miaRow).toContainText('Authenticator'); // nothing changed
    await proof.getByLabel('Code from your authenticator').fill(right);
    await proof.getByRole('button', { name: 'Confirm' }).click();
    await expect(area.getByRole('status')).toHaveText(/^Reset mia's two-step sign-in: authenticator removed, 0 trusted device\(s\) forgotten, \d+ session\(s\) ended\.$/);
    await expect(miaRow.getByRole('cell').nth(2)).toHaveText('None');
    expect(await page.content()).not.toContain(right);

    // The other tabs, each checked by axe: the policy as it stands, devices, and where e-mail/SMS settings are managed.
    await page.getByRole('tab', { name: 'Policy' }).click();
    await expect(page.getByLabel('Level for everyone')).toHaveValue('optional');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('tab', { name: 'Devices' }).click();
    await page.getByLabel('Person').selectOption({ label: 'mia (member)' });
    await expect(page.getByText('mia has no authorised or trusted devices.')).toBeVisible();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('tab', { name: 'E-mail and SMS' }).click();
    await expect(page.getByRole('tabpanel')).toContainText('This server runs on this computer: manage them in a terminal here, as the user the server runs as, with crewvault server admin.');
    expect(await seriousViolations(page)).toEqual([]);
  } finally {
    await serve.stop();
    await world.stop();
  }
});
