/**
 * The typed `window.crewvault` object, built from the contract's method names over any
 * transport: Electron's ipcRenderer.invoke (the preload) or HTTP (the browser host's page).
 * One shape, two transports; nothing else is exposed.
 */
import type { Reply } from './reply';
import type { MethodInput, MethodResult } from './contract';
import { METHOD_NAMES, type MethodName } from './methods';

type Namespace = MethodName extends `${infer N}.${string}` ? N : never;

export type CrewvaultApi = {
  readonly [N in Namespace]: {
    readonly [M in MethodName as M extends `${N}.${infer F}` ? F : never]: (input: MethodInput<M>) => Promise<Reply<MethodResult<M>>>;
  };
};

export type Invoke = (method: MethodName, input: unknown) => Promise<Reply<unknown>>;

export function buildApi(invoke: Invoke): CrewvaultApi {
  const api: Record<string, Record<string, (input: unknown) => Promise<Reply<unknown>>>> = {};
  for (const name of METHOD_NAMES) {
    const [namespace = '', call = ''] = name.split('.');
    const group = (api[namespace] ??= {});
    group[call] = (input: unknown) => invoke(name, input);
  }
  for (const group of Object.values(api)) Object.freeze(group);
  // The object is built from METHOD_NAMES, so its shape is CrewvaultApi by construction.
  return Object.freeze(api) as unknown as CrewvaultApi;
}
