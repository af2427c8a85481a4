// An entry's URL opens in the system browser through the door, http and https only (issue #11):
// the router reads the address from the vault itself (the page names an entry, never a string to
// open), hands an http(s) one to the door's opener (Electron: shell.openExternal) and refuses any
// other scheme with nothing opened; the browser host, which has no opener, gets the checked
// address back for its page to open. Real vault file and router; the opener records what it is given.
import { describe, expect, it } from 'vitest';
import { webUrl } from '../../shared/web-url';
import { errorCode, newRouter, ok } from '../support/router';
import { OWNER, PASSWORD } from '../support/vault';

async function routerWithEntries(withOpener: boolean) {
  const opened: string[] = [];
  const setup = newRouter(undefined, withOpener ? { openExternal: (url) => { opened.push(url); return Promise.resolve(); } } : {});
  ok(await setup.router.call('vault.create', { username: OWNER, password: PASSWORD }));
  const make = async (title: string, url: string): Promise<number> => (ok(await setup.router.call('entries.create', { customer: 'Acme', title, url })) as { id: number }).id;
  return { ...setup, opened, make };
}

describe('url.open', () => {
  it('hands an http(s) address to the door\'s opener, normalised, and nothing else', async () => {
    const { router, opened, make } = await routerWithEntries(true);
    const portal = await make('Portal', ' https://portal.acme.example/login?x=1 ');
    const plain = await make('Switch', 'http://10.0.0.2');
    expect(ok(await router.call('url.open', { id: portal }))).toEqual({ opened: true });
    expect(ok(await router.call('url.open', { id: plain }))).toEqual({ opened: true });
    expect(opened).toEqual(['https://portal.acme.example/login?x=1', 'http://10.0.0.2']);

    for (const bad of ['javascript:alert(1)', 'javascript://portal.acme.example/%0aalert(1)', 'file:///etc/passwd', 'smb://fileserver/share', 'ms-settings:', 'portal.acme.example', 'data:text/html,hi', 'https:/portal.acme.example', 'http:// portal.acme.example', '']) {
      const id = await make(`Bad ${bad}`, bad);
      const reply = await router.call('url.open', { id });
      expect(reply, bad).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', message: 'Only an http or https address opens in the browser.' } });
    }
    expect(opened).toHaveLength(2);
  });

  it('without an opener (the browser host) answers the checked address for the page to open', async () => {
    const { router, make } = await routerWithEntries(false);
    const id = await make('Portal', 'HTTPS://Portal.Acme.example');
    expect(ok(await router.call('url.open', { id }))).toEqual({ opened: false, url: 'https://Portal.Acme.example' });
  });

  it('needs a signed-in session that may see the entry: locked, a string instead of an id, or another group\'s entry open nothing', async () => {
    const { router, opened, make } = await routerWithEntries(true);
    const finance = (ok(await router.call('groups.create', { name: 'Finance' })) as { id: number }).id;
    const id = (ok(await router.call('entries.create', { customer: 'Bank', title: 'Portal', url: 'https://bank.example', groupId: finance })) as { id: number }).id;
    const shared = await make('Wiki', 'https://wiki.acme.example');
    expect(errorCode(await router.call('url.open', { url: 'https://evil.example' }))).toBe('INVALID_INPUT');
    ok(await router.call('users.create', { username: 'tess', role: 'technician', password: 'tess one-time pw' }));
    ok(await router.call('session.lock', {}));
    expect(errorCode(await router.call('url.open', { id }))).toBe('LOCKED');
    ok(await router.call('session.signIn', { username: 'tess', password: 'tess one-time pw' }));
    ok(await router.call('session.changePassword', { next: 'tess own password' }));
    // tess is not in Finance: its entry is not hers to see, nor its address to open.
    expect(errorCode(await router.call('url.open', { id }))).toBe('NOT_FOUND');
    expect(opened).toEqual([]);
    expect(ok(await router.call('url.open', { id: shared }))).toEqual({ opened: true });
    expect(opened).toEqual(['https://wiki.acme.example']);
  });
});

describe('webUrl, shared by the page and the main process', () => {
  it.each([
    ['https://a.example', 'https://a.example'],
    ['http://10.0.0.1:8443/x?y#z', 'http://10.0.0.1:8443/x?y#z'],
    ['HTTP://a.example', 'http://a.example'],
    ['https://ops@a.example', 'https://ops@a.example'],
    ['https://ops@', undefined],
    ['https://a.example/\nx', undefined],
    ['javascript:alert(1)', undefined],
    ['JavaScript:alert(1)', undefined],
    ['file:///C:/Windows', undefined],
    ['http://', undefined],
    ['not a url', undefined],
  ])('%s → %s', (text, expected) => {
    expect(webUrl(text)).toBe(expected);
  });
});
