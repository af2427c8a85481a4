/**
 * The lines a sync round tells beside its counts, one each, worded once for both doors: the CLI
 * (`crewvault sync`, each after "crewvault: ") and the app's Team server screen (desk.ts hands
 * them on in team.status). People crossed (what was kept of each side, one a person), this
 * desktop's old device id, unsent changes dropped with a group deleted elsewhere (C7), entries that left this person's reach,
 * unsent changes of entries changed elsewhere too dropped as no copy could go (the role may not add entries), entries the server said left it
 * that stay here (nothing signed vouching for it), events left out of the push,
 * changes of entries this person's role may not make now, kept here unsent (task 15), customers held
 * back, changes in a group whose deletion waits here (the server refused them), audit events
 * taken redacted that the server may have withheld (an earlier-rule tag match, audit-event-texts.ts),
 * changes of groups made here that this person may no longer send (they no longer manage the group: dropped, told once),
 * revokes given way that this person may no longer make again (team.ts rotateAgain: an owner or admin must),
 * key changes owed in groups this person manages (a revoke stored whose rotation never came: sync.ts keyChangesOwedLine).
 * Must never: name what an entry holds (the lines carry names, counts and ids only).
 */
import type { SyncOutcome } from './sync';

/** What the round told beyond its counts, in the order `crewvault sync` prints it. */
export function syncToldLines(outcome: SyncOutcome): string[] {
  const lines = outcome.crossed.map((crossed) => `${crossed.detail.replace(/\.$/, '')}.`);
  for (const line of [outcome.oldDevice, outcome.groupDeleted, outcome.leftReach, outcome.copiesNotAdded, outcome.leftUnverified, outcome.eventsNotSent, outcome.setAside, outcome.customerHeldBack, outcome.customerWentOver, outcome.deletionWaiting, outcome.mayBeWithheld, outcome.groupChangesUnmade, outcome.revokesUnmade, outcome.revokesWaiting, outcome.keyChangesOwed]) if (line !== undefined) lines.push(line);
  return lines;
}
