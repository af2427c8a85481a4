/**
 * What a team sync round did, as the Team server screen says it (TeamServerScreen): counts, and
 * the groups this person was removed from by name, and the one line told when the server's history
 * changed under this desktop (restored from a backup). Apart from the screen so it is read (and
 * tested) without its styles. Must never: name what an entry holds.
 */
import type { TeamSyncOutcome } from '../../shared/api/team-contract';

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** What a round did, as a sentence. */
export function describeSync(outcome: TeamSyncOutcome): string {
  const at = new Date(outcome.at).toLocaleTimeString();
  if (!outcome.ok) return `Last sync at ${at} failed: ${outcome.message}`;
  const parts = [
    outcome.moved ? `${count(outcome.sent, 'record', 'records')} sent to move the vault` : `${count(outcome.taken, 'change', 'changes')} taken in, ${count(outcome.sent, 'record', 'records')} sent`,
    outcome.conflictCopies > 0 ? `${count(outcome.conflictCopies, 'entry', 'entries')} changed here and there kept as "(conflict copy)"` : 'no conflict copies',
    outcome.setAside > 0 ? `${count(outcome.setAside, 'record', 'records')} set aside, not taken in yet (tried again each sync)` : 'nothing set aside',
  ];
  for (const group of outcome.accessRemoved ?? []) parts.push(`your access to the group "${group}" was removed (its entries are no longer on this computer)`);
  const sentence = `${outcome.moved ? 'Moved' : 'Synced'} at ${at}: ${parts.join('; ')}.`;
  // The server's history changed under this desktop (restored, or the vault replaced): its own line after the counts.
  return outcome.historyChanged === undefined ? sentence : `${sentence} ${outcome.historyChanged}`;
}
