/**
 * `--if-revision N` for the CLI's changes to shared objects (review round eleven hole 5): the base
 * revision the change names (base-revision.ts), given by the person who read it (`… list --json`
 * shows each revision) rather than read by the command right before it writes. Without the option
 * a command reads the revision itself and prints it, so what it was based on is on screen. Must
 * never make a base up: anything but a whole number 0 or more is a usage error.
 */
import { UsageError } from './io';

export const IF_REVISION_OPTION = { 'if-revision': { type: 'string' } } as const;

/** The `--if-revision` value as a revision, or undefined when it was not given. */
export function ifRevision(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value.trim())) throw new UsageError('--if-revision takes the revision the change is based on: a whole number, 0 or more ("… list --json" shows each)');
  return Number(value.trim());
}
