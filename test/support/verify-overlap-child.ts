/**
 * A process that has nothing but the worker threads' signature checks holding it open, as a CLI
 * sync waiting for a page's checks is (its last page in, no connection left): a small check and a
 * large one asked together, so the same workers answer the small one while the large one is still
 * theirs. Prints how many of each verified, once both are in; a process that ended before that
 * (the workers let go of it while still working) prints nothing and exits 13 (an unsettled
 * top-level await). With 'end', one worker is ended under the checks: the rest still verify and the
 * process still ends (a worker gone must neither hang a check nor hold the process). Spawned by
 * test/unit/replica-verify-exit.test.ts, bundled there.
 */
import { newSigningKeyPair, signBytes } from '../../electron/vault/signing';
import { signatureWorkers, verifyAhead, type SignedTriple } from '../../electron/vault/replica-verify';

const pair = newSigningKeyPair();
const triples = (count: number, tag: string): SignedTriple[] => Array.from({ length: count }, (_, i) => {
  const bytes = Buffer.from(`${tag} ${i}`, 'utf8');
  return { publicKey: pair.publicKey, bytes, signature: signBytes(pair.privateKey, bytes) };
});
const small = triples(64, 'small');
const large = triples(Number(process.argv[2] ?? 4000), 'large');
const first = verifyAhead(small);
const second = verifyAhead(large);
// 'end': a worker ends under the checks (its share is verified here instead); the process must still end, not hang.
if (process.argv[3] === 'end') await signatureWorkers()[0]?.terminate();
const [a, b] = [await first, await second];
process.stdout.write(`${JSON.stringify({ small: small.filter((t) => a.holds(t)).length, large: large.filter((t) => b.holds(t)).length })}\n`);
