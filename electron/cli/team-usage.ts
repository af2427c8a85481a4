/**
 * What `crewvault --help` and `<command> --help` say of `join`, `sync` and `team`, apart from
 * their modules: those reach the sync record schemas and the account keys (zod), which only they
 * need, so the CLI loads them when they run (main.ts; as import-usage.ts and serve-usage.ts) and
 * `crewvault otp` starts without them (#13 perf). Text only: must never import a module that
 * builds a schema.
 */
import { HISTORY_USAGE } from './history-option';

export const JOIN_SUMMARY = 'get a team vault on this computer from its team server (after crewvault login --invite)';
export const JOIN_USAGE = 'crewvault join URL --user NAME --team-vault VAULT-ID [--trust-owner KEY-ID:PUBLIC-KEY] [--vault FILE] [--trust FINGERPRINT] [--code CODE|-]\n'
  + '  URL            the team server you registered on (crewvault login --invite)\n'
  + '  --team-vault   the vault\'s id and --trust-owner the owner\'s key, as the owner handed them over\n'
  + '                 with your invite (crewvault sync --move printed both); asked for when not given\n'
  + '  --vault        the new vault file (default: this computer\'s usual one); it must not exist yet\n'
  + '  Reads your server password, then a NEW password for the vault file on this computer (twice on\n'
  + '  a terminal): the file is kept under its own password, never the server\'s.\n'
  + HISTORY_USAGE;

export const SYNC_SUMMARY = 'sync this vault with its team server (crewvault login first)';
export const SYNC_USAGE = 'crewvault sync [URL] [--move] [--watch] [--vault FILE] [--user NAME] [--code CODE|-] [--json]\n'
  + '  URL      the team server (default: the one you last signed in to with crewvault login)\n'
  + '  --move   push the whole vault to the server first (its owner, once, to make it a team vault)\n'
  + '  --watch  stay: sync again as soon as the server says others changed something, and every\n'
  + '           30 s for this computer\'s own changes, until Ctrl+C (one line per round)'
  + `\n${HISTORY_USAGE}`;

export const TEAM_SUMMARY = 'a team server\'s admin acts: automation tokens, MFA (list, reset, policy, grants), devices, account keys';
export const TEAM_USAGE = 'crewvault team token|mfa|devices|forget|key … [--server URL] [--json]\n'
  + '  crewvault team token create --name NAME --scope SCOPES --days N [--for-vault ID]…\n'
  + '  crewvault team token list\n'
  + '  crewvault team token revoke TOKEN-ID\n'
  + '  crewvault team mfa list                    who has which second steps, and who may reset them\n'
  + '  crewvault team mfa reset USER [--code -]\n'
  + '  crewvault team mfa grant USER [--code -]   let an admin reset others\' MFA (owners only)\n'
  + '  crewvault team mfa ungrant USER [--code -] take that back\n'
  + '  crewvault team mfa policy [LEVEL] [--scope SCOPE] [--idle MINUTES]\n'
  + '  crewvault team devices [USER]              your devices, or USER\'s (owners and admins)\n'
  + '  crewvault team forget DEVICE-ID [--user USER]\n'
  + '  crewvault team key USER                    USER\'s account key fingerprint, to compare with the one\n'
  + '                                             their screen showed at crewvault login --invite\n'
  + '  --scope (token)  sync.pull, sync.push, codes: one or more, comma-separated\n'
  + '  --for-vault      limit the token to a vault (its id; repeat for several); default: all its maker reaches\n'
  + '  --days           the token\'s life, 1 to 365: every token has an expiry\n'
  + '  --scope (policy) global (default), owner, admin, member or external; LEVEL: off, optional, required,\n'
  + '                   or none (a role\'s or external users\' own level taken away)\n'
  + '  --code -         a code from your authenticator, read like a password, for acts that need a\n'
  + '                   second step from the last 5 minutes (or sign in again)\n'
  + '  These act with your session from "crewvault login" (--server picks one of several). A new\n'
  + '  token is printed once on stdout: it skips the second step, so keep it like a password.\n'
  + '  USER is a name on the server, or its user id.';
