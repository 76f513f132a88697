/**
 * Offline verification of an export bundle (`gatehouse audit verify DIR`): no server, only the
 * bundle and, optionally, a trusted verifier key. The key must parse; every checkpoint must verify
 * with it; the entries must form an unbroken hash chain of canonical JSON objects; the Merkle tree
 * rebuilt from them must have, at each checkpoint's size, exactly its root (with an RFC 9162
 * consistency proof between successive checkpoints); and every entry must be covered by one.
 *
 * On failure the report names the first bad entry: chain and index fields pinpoint edits, drops,
 * swaps and insertions; when only a root differs (a consistent rewrite), the first entry past the
 * last checkpoint that still matches. Bad data never throws.
 */
import { readBundle, type Bundle, type BundleProblemCode } from './bundle.js';
import {
  checkCheckpoints,
  chooseKey,
  hex8,
  type CheckpointCheckCode,
  type CheckpointCheckProblem,
} from './verify-checkpoints.js';
import {
  MAX_ENTRY_PROBLEMS,
  checkEntries,
  type EntriesReport,
  type EntryAnomaly,
  type EntryProblemCode,
} from './verify-entries.js';

export type VerifyProblemCode =
  | BundleProblemCode
  | CheckpointCheckCode
  | EntryProblemCode
  | 'truncated'
  | 'not_covered'
  | 'root_mismatch'
  | 'inconsistent'
  | 'more_problems';

/** One finding: `index` is an entry (0-based), `checkpoint` a file relative to the bundle. */
export interface VerifyProblem {
  readonly code: VerifyProblemCode;
  readonly index?: number;
  readonly checkpoint?: string;
  readonly message: string;
}

export type VerifyReport =
  | {
      readonly ok: true;
      readonly entries: number;
      /** Checkpoint files verified (checkpoints/*). */
      readonly checkpoints: number;
      /** Tree size of the latest checkpoint (= entries). */
      readonly size: number;
      /** Its root hash, base64 as in the checkpoint. */
      readonly rootHash: string;
      readonly keyName: string;
      /** The key ID, 8 lowercase hex digits. */
      readonly keyId: string;
      /** True when only log.vkey vouched for the key (no trusted key was given). */
      readonly keyFromBundle: boolean;
    }
  | {
      readonly ok: false;
      readonly problems: readonly VerifyProblem[];
      /** The first entry that is not as signed, when the problems point at one. */
      readonly firstBadIndex?: number;
    };

export interface VerifyOptions {
  /** A trusted verifier key string; when given, log.vkey must be this key. */
  readonly key?: string;
  /** Worker threads for the entries; default: one per core (up to 4) when entries.jsonl is large. */
  readonly threads?: number;
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
/** "Entry 3" or "Entries 3 to 7", to start a sentence. */
const entriesFromTo = (from: number, to: number): string =>
  from === to ? `Entry ${from}` : `Entries ${from} to ${to}`;

/**
 * Which entry the chain points at, from the first anomaly. A one-byte edit of entry i (not its prev)
 * leaves i well formed but breaks the prev of i + 1; an edited prev breaks both i and i + 1; a
 * dropped, swapped or inserted entry breaks the index (and the chain right there).
 */
function chainBlame(
  entries: EntriesReport,
): { index: number; problem?: VerifyProblem } | undefined {
  const [first, second] = entries.anomalies;
  if (!first) return undefined;
  const a = first.index;
  if (first.lineBad || a === 0) return { index: a };
  if (first.claimedIndex !== undefined) {
    // Another entry's index with a broken link before it: something was inserted from there on.
    const inserted = first.prevBad && first.claimedIndex < a;
    return { index: inserted ? first.claimedIndex : a };
  }
  // Only the prev of entry a is off: entry a - 1 was edited, or the prev field of a itself. An
  // edited entry a also breaks the link to a + 1; past the last line only a checkpoint can tell.
  let own: boolean;
  if (second?.index === a + 1) own = second.prevBad;
  else if (a + 1 < entries.count) own = false;
  else own = entries.matchedPrefix >= a;
  if (own) return { index: a };
  const message = `Entry ${a - 1} (line ${a}) was altered: its hash no longer matches the "prev" recorded in entry ${a}.`;
  return { index: a - 1, problem: { code: 'chain_broken', index: a - 1, message } };
}

function entryProblems(
  anomalies: readonly EntryAnomaly[],
  blamed?: VerifyProblem,
): VerifyProblem[] {
  const problems: VerifyProblem[] = blamed ? [blamed] : [];
  for (const [n, x] of anomalies.entries()) {
    // The first chain break is restated as the entry it blames, when that is another one.
    if (n === 0 && blamed) continue;
    problems.push({ code: x.code, index: x.index, message: x.message });
  }
  return problems;
}

/** Problems and first bad index from the entries stream and the verified checkpoint sizes. */
function judgeEntries(
  entries: EntriesReport,
  signed: readonly { size: number; file: string }[],
  checkpointsFailed: boolean,
): { problems: VerifyProblem[]; firstBadIndex?: number } {
  const blame = chainBlame(entries);
  const problems = entryProblems(entries.anomalies, blame?.problem);
  let bad = blame?.index;
  const mismatch = entries.firstMismatch;
  if (mismatch) {
    const { size, file } = mismatch.checkpoint;
    const from = entries.matchedPrefix;
    const verb = from === size - 1 ? 'differs' : 'differ';
    const message = `${entriesFromTo(from, size - 1)} ${verb} from what ${file} signed: the tree has root ${b64(mismatch.root)}, the checkpoint ${b64(mismatch.checkpoint.rootHash)}.`;
    problems.push({ code: 'root_mismatch', index: from, checkpoint: file, message });
    if (bad === undefined || bad >= size) bad = from;
  }
  for (const cp of entries.inconsistent) {
    const message = `The consistency proof that ${cp.file} extends the previous checkpoint does not verify.`;
    problems.push({ code: 'inconsistent', checkpoint: cp.file, message });
  }
  const largest = signed[signed.length - 1];
  const count = entries.count;
  if (!entries.stopped && entries.readError === undefined && largest) {
    if (count < largest.size) {
      const missing =
        count === largest.size - 1
          ? `entry ${count} is`
          : `entries ${count} to ${largest.size - 1} are`;
      const message = `entries.jsonl holds ${count} complete entries but ${largest.file} signs ${largest.size}: ${missing} missing.`;
      problems.push({ code: 'truncated', index: count, checkpoint: largest.file, message });
      bad = Math.min(bad ?? count, count);
    }
  }
  const covered = largest?.size ?? 0;
  if (!entries.stopped && count > covered) {
    const by = largest
      ? `the largest valid checkpoint, ${largest.file}, signs ${covered}`
      : 'no checkpoint verifies';
    const [verb, them] = covered === count - 1 ? ['is', 'it'] : ['are', 'them'];
    const message = `${entriesFromTo(covered, count - 1)} ${verb} not covered by a signed checkpoint (${by}): no signature vouches for ${them}.`;
    problems.push({ code: 'not_covered', index: covered, message });
    // A bad checkpoint file may be why they are not covered: then the entries are not to blame.
    if (!checkpointsFailed) bad = Math.min(bad ?? covered, covered);
  }
  if (entries.moreAnomalies > 0) {
    const message = `${entries.moreAnomalies} more entry problems follow; only the first ${MAX_ENTRY_PROBLEMS} are listed.`;
    problems.push({ code: 'more_problems', message });
  }
  if (entries.readError !== undefined) {
    problems.push({ code: 'unreadable', message: entries.readError });
  }
  return bad === undefined ? { problems } : { problems, firstBadIndex: bad };
}

/**
 * Verifies a bundle (read with `readBundle`, or given as its folder) without any server. Never
 * throws on bad data: the report lists every problem, each with one sentence for a person.
 * @example const r = await verifyBundle('export/', { key: trustedVkey }); if (!r.ok) r.firstBadIndex
 */
export async function verifyBundle(
  bundleOrDir: Bundle | string,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  let bundle: Bundle;
  if (typeof bundleOrDir === 'string') {
    const read = await readBundle(bundleOrDir);
    if (!read.ok) return { ok: false, problems: read.problems };
    bundle = read.bundle;
  } else bundle = bundleOrDir;

  const early: CheckpointCheckProblem[] = [];
  const key = chooseKey(bundle, options.key, early);
  if (!key) return { ok: false, problems: early };
  const signed = checkCheckpoints(bundle, key, early);
  const checkpointsFailed = early.length > 0;
  const threads = options.threads === undefined ? {} : { threads: options.threads };
  const entries = await checkEntries(bundle.entriesPath, signed, threads);
  const judged = judgeEntries(entries, signed, checkpointsFailed);
  const problems: VerifyProblem[] = [...early, ...judged.problems];
  const latest = signed[signed.length - 1];
  if (problems.length > 0 || !latest) {
    const firstBadIndex = judged.firstBadIndex;
    return firstBadIndex === undefined
      ? { ok: false, problems }
      : { ok: false, problems, firstBadIndex };
  }
  return {
    ok: true,
    entries: entries.count,
    checkpoints: signed.length,
    size: latest.size,
    rootHash: b64(latest.rootHash),
    keyName: key.name,
    keyId: hex8(key.keyId),
    keyFromBundle: options.key === undefined,
  };
}
