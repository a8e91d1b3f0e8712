// The wiki domain: what an HTTP API or the CLI may import (input contracts, row types).
export * from './wiki-diff.ts';
export * from './wiki-entries.contract.ts';
export type { CurrentWikiEntry, WikiSearchHit } from './wiki-entries.repository.ts';
export {
  WIKI_APPROVER_ROLES,
  WIKI_STATUSES,
  type WikiEntry,
  type WikiPage,
  type WikiStatus,
} from './wiki-entries.schema.ts';
