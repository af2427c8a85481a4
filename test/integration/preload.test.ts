// The built preload (dist/electron/preload.cjs) run against a stand-in for Electron's two
// preload APIs: it exposes exactly one object whose functions are exactly the contract's
// methods, each invoking its own IPC channel — no ipcRenderer, no generic invoke.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import { METHOD_NAMES } from '../../shared/api/contract';

const BUNDLE = path.resolve(import.meta.dirname, '../../dist/electron/preload.cjs');

function loadPreload() {
  const exposed: Array<{ name: string; api: unknown }> = [];
  const invoked: Array<{ channel: string; input: unknown }> = [];
  const electron = {
    contextBridge: { exposeInMainWorld: (name: string, api: unknown) => exposed.push({ name, api }) },
    ipcRenderer: { invoke: (channel: string, input: unknown) => (invoked.push({ channel, input }), Promise.resolve({ ok: true, value: null })) },
  };
  const module = { exports: {} };
  runInNewContext(readFileSync(BUNDLE, 'utf8'), {
    module,
    exports: module.exports,
    require: (id: string) => {
      if (id === 'electron') return electron;
      throw new Error(`the preload may require only electron, not ${id}`);
    },
  });
  return { exposed, invoked };
}

function methodPaths(api: unknown, prefix = ''): string[] {
  return Object.entries(api as Record<string, unknown>).flatMap(([key, value]) =>
    typeof value === 'function' ? [`${prefix}${key}`] : methodPaths(value, `${prefix}${key}.`),
  );
}

it('exposes exactly window.crewvault with the contract methods, each on its own channel', async () => {
  const { exposed, invoked } = loadPreload();
  expect(exposed.map((e) => e.name)).toEqual(['crewvault']);
  const api = exposed[0]?.api as Record<string, Record<string, (input: unknown) => Promise<unknown>>>;
  expect(methodPaths(api).sort()).toEqual([...METHOD_NAMES].sort());
  expect(Object.isFrozen(api)).toBe(true);
  await api.entries?.list?.({ search: 'acme' });
  await api.otp?.code?.({ id: 7 });
  expect(invoked).toEqual([
    { channel: 'crewvault:entries.list', input: { search: 'acme' } },
    { channel: 'crewvault:otp.code', input: { id: 7 } },
  ]);
});
