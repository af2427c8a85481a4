/**
 * Where a trusted computer keeps its device token: the OS keychain (Keychain, Credential
 * Manager, or the Secret Service on Linux) through keytar, under the service "crewvault".
 * The vault keeps only the token's hash, so trust lives in this computer's keychain and a
 * copied vault file trusts nobody. keytar is loaded on first use: the CLI never needs it.
 */
export interface DeviceStore {
  get(account: string): Promise<string | null>;
  set(account: string, token: string): Promise<void>;
  remove(account: string): Promise<void>;
}

export const KEYCHAIN_SERVICE = 'crewvault';

interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

/** The keychain account for one person of one vault. */
export function deviceAccount(vaultId: string, userName: string): string {
  return `trusted-device/${vaultId}/${userName.toLowerCase()}`;
}

export function keychainDeviceStore(service: string = KEYCHAIN_SERVICE): DeviceStore {
  let loaded: Promise<Keytar> | undefined;
  const keytar = (): Promise<Keytar> => {
    // A CommonJS native module: its functions sit on the default export once bundled as ESM.
    loaded ??= import('keytar').then((m: { default?: Keytar } & Partial<Keytar>) => m.default ?? (m as Keytar));
    return loaded;
  };
  return {
    get: async (account) => (await keytar()).getPassword(service, account),
    set: async (account, token) => (await keytar()).setPassword(service, account, token),
    remove: async (account) => {
      await (await keytar()).deletePassword(service, account);
    },
  };
}
