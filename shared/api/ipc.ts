/** [Note: IPC contract] The IPC channel of each contract method (preload ↔ main). */
import type { MethodName } from './methods';

export function ipcChannel(method: MethodName): string {
  return `crewvault:${method}`;
}
