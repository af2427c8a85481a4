/**
 * Vault-wide settings (idle lock, clipboard clearing, how long a device is trusted): read by
 * every signed-in person, changed only by someone who may manage the vault, each change
 * audited with its new value. Stored as text in the settings table (store-meta.ts); a change
 * names the revision it was made from (store-revisions.ts), and a stale one is CONFLICT (#13).
 * Must never hand back a stored value that is not a whole number 0 or more: the default then.
 */
import { CrewvaultError } from '../../shared/errors';
import { SETTING_LIMITS, type VaultSettings, type VaultSettingsView } from '../../shared/model';
import { whyNotManageVault, type Person } from '../../shared/policy';
import type { ReadDb } from './db';
import type { EntriesCore } from './entries-service';
import { requireBase } from './base-revision';
import { getSetting, setSetting } from './store-meta';
import { moveSettingsRevision, settingsRevision } from './store-revisions';

export const DEFAULT_SETTINGS: VaultSettings = { idleLockMinutes: 10, clipboardClearSeconds: 30, trustDeviceDays: 30 };
/** Where each setting is kept in the settings table (replica-vault-objects.ts writes a synced record's values there too). */
export const SETTING_KEYS: Readonly<Record<keyof VaultSettings, string>> = {
  idleLockMinutes: 'idle_lock_minutes',
  clipboardClearSeconds: 'clipboard_clear_seconds',
  trustDeviceDays: 'trust_device_days',
};

/** What settings need of a signed-in session. */
export interface SettingsCore extends Pick<EntriesCore, 'read' | 'write' | 'audit' | 'require'> {
  /** LOCKED when the session is locked (nothing else checked: every person may read settings). */
  requireUnlocked(): void;
  /** This person as shared/policy's rules about people see them. */
  person(db: ReadDb): Person;
}

export class SettingsService {
  private readonly core: SettingsCore;

  constructor(core: SettingsCore) {
    this.core = core;
  }

  /** Vault-wide settings, defaults filled in. Readable by every signed-in person. */
  async read(): Promise<VaultSettingsView> {
    this.core.requireUnlocked();
    return this.core.read((r) => readSettings(r));
  }

  /**
   * Changes vault-wide settings (users.manage); each change is audited with its new value.
   * `baseRevision` is the revision the caller read (`read().revision`): another one is CONFLICT
   * and nothing is written, checked inside the write (#13).
   */
  async update(changes: Partial<VaultSettings>, baseRevision: number): Promise<VaultSettingsView> {
    const entries = Object.entries(changes).filter((e): e is [keyof VaultSettings, number] => e[0] in SETTING_KEYS && typeof e[1] === 'number');
    return this.core.write((w) => {
      this.core.require(w, 'users.manage');
      const why = whyNotManageVault(this.core.person(w));
      if (why) throw new CrewvaultError('FORBIDDEN', why);
      for (const [key, value] of entries) {
        if (!Number.isInteger(value) || value < 0) throw new CrewvaultError('INVALID_INPUT', 'Settings are whole numbers, 0 or more.');
        if (value > SETTING_LIMITS[key]) throw new CrewvaultError('INVALID_INPUT', `${key} is at most ${SETTING_LIMITS[key]}.`);
      }
      requireBase('settings', settingsRevision(w, 'settings'), baseRevision);
      moveSettingsRevision(w, 'settings');
      for (const [key, value] of entries) {
        setSetting(w, SETTING_KEYS[key], String(value));
        this.core.audit(w, { action: 'settings.update' }, `${key}: ${value}`);
      }
      return readSettings(w);
    });
  }
}

/** The settings as stored, defaults filled in where a value is missing or not a whole number 0 or more. */
export function readSettings(r: ReadDb): VaultSettingsView {
  const number = (key: string, fallback: number): number => {
    const value = Number(getSetting(r, key));
    return Number.isFinite(value) && value >= 0 ? value : fallback;
  };
  return {
    idleLockMinutes: number(SETTING_KEYS.idleLockMinutes, DEFAULT_SETTINGS.idleLockMinutes),
    clipboardClearSeconds: number(SETTING_KEYS.clipboardClearSeconds, DEFAULT_SETTINGS.clipboardClearSeconds),
    trustDeviceDays: number(SETTING_KEYS.trustDeviceDays, DEFAULT_SETTINGS.trustDeviceDays),
    revision: settingsRevision(r, 'settings'),
  };
}
