import { z } from 'zod';
import { metadataSchema } from '../events/events.contract.ts';
import { pageFields } from '../shared/pagination.ts';
import { uuidSchema } from '../shared/validation.ts';
import { WIKI_STATUSES } from './wiki-entries.schema.ts';

/** A wiki slug: lowercase words joined by single hyphens, at most 200 characters. */
export const wikiSlugSchema = z
  .string()
  .max(200)
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lowercase letters and digits, words joined by single hyphens');

const titleSchema = z
  .string()
  .min(1)
  .max(500)
  .refine((title) => title.trim() === title && title.trim() !== '', 'no leading or trailing whitespace');
/** Markdown, at most 100,000 characters (a wiki_contribution event carries it whole). */
const contentSchema = z
  .string()
  .min(1)
  .max(100_000)
  .refine((content) => content.trim() !== '', 'must not be blank');
const tagSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'a lowercase tag of at most 63 characters');
const tagsSchema = z
  .array(tagSchema)
  .max(50)
  .refine((tags) => new Set(tags).size === tags.length, 'each tag once');

/** Input of `wiki.propose`: a new entry, its first version a draft of the acting organization agent. */
export const proposeWikiEntrySchema = z.strictObject({
  title: titleSchema,
  slug: wikiSlugSchema,
  content: contentSchema,
  tags: tagsSchema.optional(),
  /** The project the entry belongs to; absent or null for a tenant-wide entry. */
  projectId: uuidSchema.nullable().optional(),
  metadata: metadataSchema.optional(),
  /** Submit for approval at once (draft → pending_approval in the same unit). */
  submit: z.boolean().optional(),
});
export type ProposeWikiEntryInput = z.input<typeof proposeWikiEntrySchema>;

/**
 * Input of `wiki.edit`: a new version of an existing entry. Fields not given are copied from the
 * version it continues from (the current approved version, else the latest one the caller sees).
 */
export const editWikiEntrySchema = z.strictObject({
  title: titleSchema.optional(),
  slug: wikiSlugSchema.optional(),
  content: contentSchema.optional(),
  tags: tagsSchema.optional(),
  metadata: metadataSchema.optional(),
  submit: z.boolean().optional(),
});
export type EditWikiEntryInput = z.input<typeof editWikiEntrySchema>;

/** Input of `wiki.revise`: a draft's content changed in place by its proposer (at least one field). */
export const reviseWikiDraftSchema = z
  .strictObject({
    title: titleSchema.optional(),
    slug: wikiSlugSchema.optional(),
    content: contentSchema.optional(),
    tags: tagsSchema.optional(),
    metadata: metadataSchema.optional(),
  })
  .refine((value) => Object.values(value).some((field) => field !== undefined), 'nothing to revise');
export type ReviseWikiDraftInput = z.input<typeof reviseWikiDraftSchema>;

/** Input of `wiki.reject`: the reason is required. */
export const rejectWikiVersionSchema = z.strictObject({
  reason: z
    .string()
    .min(1)
    .max(2000)
    .refine((reason) => reason.trim() !== '', 'must not be blank'),
});
export type RejectWikiVersionInput = z.input<typeof rejectWikiVersionSchema>;

/** Input of `wiki.list`: versions newest first, narrowed by any of the filters (e.g. pending ones to review). */
export const listWikiVersionsSchema = z.strictObject({
  status: z.enum(WIKI_STATUSES).optional(),
  proposedByAgentId: uuidSchema.optional(),
  projectId: uuidSchema.optional(),
  ...pageFields,
});
export type ListWikiVersionsInput = z.input<typeof listWikiVersionsSchema>;

/** Input of `wiki.history`: an entry's versions the caller may see, newest version first. */
export const wikiHistorySchema = z.strictObject({ ...pageFields });
export type WikiHistoryInput = z.input<typeof wikiHistorySchema>;

/** Input of `wiki.getBySlug`: a current entry by its slug in a scope (the tenant's when no project). */
export const wikiSlugLookupSchema = z.strictObject({
  slug: wikiSlugSchema,
  projectId: uuidSchema.optional(),
});
export type WikiSlugLookupInput = z.input<typeof wikiSlugLookupSchema>;

/** Input of `wiki.diff`: two versions of one entry. */
export const wikiDiffSchema = z.strictObject({ from: uuidSchema, to: uuidSchema });
export type WikiDiffInput = z.input<typeof wikiDiffSchema>;

/** The most results one search returns. */
export const WIKI_SEARCH_MAX = 100;

/**
 * Input of `wiki.search`: ranked full-text search over current (approved) versions, with web-search
 * syntax (`"exact phrase"`, `or`, `-word`). `projectId` narrows to the tenant-wide entries and that
 * project's; `tags` to entries holding any of them.
 */
export const searchWikiSchema = z.strictObject({
  query: z
    .string()
    .min(1)
    .max(500)
    .refine((query) => query.trim() !== '', 'must not be blank'),
  projectId: uuidSchema.optional(),
  tags: tagsSchema.optional(),
  ...pageFields,
  limit: z.number().int().min(1).max(WIKI_SEARCH_MAX).default(20),
});
export type SearchWikiInput = z.input<typeof searchWikiSchema>;
