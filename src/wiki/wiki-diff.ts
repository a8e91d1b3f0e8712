import type { WikiEntry } from './wiki-entries.schema.ts';

/** One line of a diff: kept, added (in `to` only) or removed (in `from` only). */
export interface WikiDiffLine {
  op: 'equal' | 'add' | 'remove';
  text: string;
}

/** What changed between two versions of one entry. */
export interface WikiDiff {
  entryId: string;
  from: { id: string; version: number; status: WikiEntry['status'] };
  to: { id: string; version: number; status: WikiEntry['status'] };
  title: { from: string; to: string } | null;
  slug: { from: string; to: string } | null;
  tags: { added: string[]; removed: string[] };
  /** The content, line by line (a longest-common-subsequence diff of lines). */
  lines: WikiDiffLine[];
  added: number;
  removed: number;
}

/**
 * The line diff of two texts: common prefix and suffix trimmed, then a longest common subsequence
 * of the rest. Past 4,000,000 cells (2,000 × 2,000 changed lines) the middle is shown as removed
 * then added, which stays correct, only less minimal.
 */
export function diffLines(before: string, after: string): WikiDiffLine[] {
  const a = before.split('\n');
  const b = after.split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const out: WikiDiffLine[] = a.slice(0, start).map((text) => ({ op: 'equal', text }));
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const n = midA.length;
  const m = midB.length;
  if (n * m > 4_000_000) {
    for (const text of midA) out.push({ op: 'remove', text });
    for (const text of midB) out.push({ op: 'add', text });
  } else {
    // lcs[i][j]: the LCS length of midA[i..] and midB[j..], row-major in one array.
    const lcs = new Int32Array((n + 1) * (m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * (m + 1) + j] =
          midA[i] === midB[j]
            ? lcs[(i + 1) * (m + 1) + j + 1]! + 1
            : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (midA[i] === midB[j]) {
        out.push({ op: 'equal', text: midA[i]! });
        i++;
        j++;
      } else if (lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!) {
        out.push({ op: 'remove', text: midA[i++]! });
      } else {
        out.push({ op: 'add', text: midB[j++]! });
      }
    }
    while (i < n) out.push({ op: 'remove', text: midA[i++]! });
    while (j < m) out.push({ op: 'add', text: midB[j++]! });
  }
  for (const text of a.slice(endA)) out.push({ op: 'equal', text });
  return out;
}
