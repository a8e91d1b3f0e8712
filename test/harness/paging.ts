import { expect } from 'vitest';
import type { Page } from '../../src/index.ts';

/**
 * Follows a list from its first page to its last, each page asked for with the cursor of the one
 * before, and returns the pages. Every page but the last is full; the last one says so itself
 * (nextCursor null), without an empty page after it.
 */
export async function allPages<Item>(
  limit: number,
  fetchPage: (input: { limit: number; cursor?: string }) => Promise<Page<Item>>,
): Promise<Item[][]> {
  const pages: Item[][] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(cursor === undefined ? { limit } : { limit, cursor });
    pages.push(page.items);
    if (page.nextCursor === null) {
      expect(page.items.length).toBeLessThanOrEqual(limit);
      return pages;
    }
    expect(page.items).toHaveLength(limit);
    expect(page.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    cursor = page.nextCursor;
  }
}
