import { randomUUID } from 'node:crypto';
import { and, desc, eq, getTableColumns, isNull, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { NotFoundError, ValidationError } from '../errors/index.ts';
import { cursorTimestamp, decodeCursor, exactTimestamp, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput, uuidSchema } from '../shared/validation.ts';
import type { TenantScope } from '../store/scope.ts';
import { diffLines, type WikiDiff } from './wiki-diff.ts';
import {
  type EditWikiEntryInput,
  editWikiEntrySchema,
  type ListWikiVersionsInput,
  listWikiVersionsSchema,
  type ProposeWikiEntryInput,
  proposeWikiEntrySchema,
  type RejectWikiVersionInput,
  type ReviseWikiDraftInput,
  rejectWikiVersionSchema,
  reviseWikiDraftSchema,
  type SearchWikiInput,
  searchWikiSchema,
  type WikiDiffInput,
  type WikiHistoryInput,
  type WikiSlugLookupInput,
  wikiDiffSchema,
  wikiHistorySchema,
  wikiSlugLookupSchema,
} from './wiki-entries.contract.ts';
import { type WikiEntry, wikiEntries, wikiPages } from './wiki-entries.schema.ts';

const { search: _search, ...versionColumns } = getTableColumns(wikiEntries);

/** An entry as readers see it: its current (latest approved) version and its view counter. */
export type CurrentWikiEntry = WikiEntry & { viewCount: number; lastViewedAt: Date | null };

/** A search hit: a current version and its rank (ts_rank_cd, higher is better). */
export type WikiSearchHit = WikiEntry & { rank: number };

// Newest first: (created_at, id) descending; versions written in one transaction share created_at.
const versionsKey = z.tuple([cursorTimestamp, uuidSchema]);
const historyKey = z.tuple([z.number().int().min(1)]);
// Best first: (rank, id) descending.
const searchKey = z.tuple([z.number(), uuidSchema]);

const currentColumns = {
  ...versionColumns,
  viewCount: wikiPages.viewCount,
  lastViewedAt: wikiPages.lastViewedAt,
};

async function versionById(tx: TenantScope, id: string): Promise<WikiEntry> {
  const [row] = await tx.db
    .select(versionColumns)
    .from(wikiEntries)
    .where(and(eq(wikiEntries.tenantId, tx.tenantId), eq(wikiEntries.id, id)));
  if (!row) throw new NotFoundError('wiki version', id);
  return row;
}

/** Changes a version's status (the database checks who may, and stamps a decision); NotFound when not visible. */
async function setStatus(
  tx: TenantScope,
  id: string,
  status: WikiEntry['status'],
  rejectionReason: string | null = null,
): Promise<WikiEntry> {
  const versionId = parseId(id, 'wiki version');
  const [row] = await tx.db
    .update(wikiEntries)
    .set({ status, rejectionReason })
    .where(and(eq(wikiEntries.tenantId, tx.tenantId), eq(wikiEntries.id, versionId)))
    .returning(versionColumns);
  if (!row) throw new NotFoundError('wiki version', versionId);
  return row;
}

/**
 * The wiki (migration 19). Organization agents propose entries and edits (new versions); a human
 * member who may approve (owner, admin, manager) approves or rejects them. Who may do what and who
 * sees which version is the database's: a guard trigger and row-level security policies, which raw
 * SQL meets too. Every proposal and decision writes a wiki_contribution event in the same transaction.
 * An approver deletes an entry softly (`delete`); the service role purges deleted entries.
 */
export const wikiRepository = {
  /** Proposes a new entry: its first version, a draft of the acting organization agent (submitted when `submit`). */
  async propose(tx: TenantScope, input: ProposeWikiEntryInput): Promise<WikiEntry> {
    const { submit, ...values } = parseInput(proposeWikiEntrySchema, input, 'wiki entry');
    const id = randomUUID();
    const [row] = await tx.db
      .insert(wikiEntries)
      .values({
        tenantId: tx.tenantId,
        id,
        entryId: id,
        version: 1,
        projectId: values.projectId ?? null,
        // The database makes it the acting agent, and refuses any other actor.
        proposedByAgentId: tx.actor.id,
        title: values.title,
        slug: values.slug,
        content: values.content,
        tags: values.tags ?? [],
        metadata: values.metadata ?? {},
      })
      .returning(versionColumns);
    return submit ? setStatus(tx, row!.id, 'pending_approval') : row!;
  },

  /**
   * Proposes an edit of an entry: a new draft version continuing from its current approved version
   * (else its latest), with the fields not given copied from the version the caller sees. One open
   * proposal per entry (ConflictError `proposal_open`).
   */
  async edit(tx: TenantScope, entryId: string, input: EditWikiEntryInput): Promise<WikiEntry> {
    const entry = parseId(entryId, 'wiki entry');
    const { submit, ...changes } = parseInput(editWikiEntrySchema, input, 'wiki edit');
    const [base] = await tx.db
      .select(versionColumns)
      .from(wikiEntries)
      .leftJoin(
        wikiPages,
        and(eq(wikiPages.tenantId, wikiEntries.tenantId), eq(wikiPages.currentVersionId, wikiEntries.id)),
      )
      .where(and(eq(wikiEntries.tenantId, tx.tenantId), eq(wikiEntries.entryId, entry)))
      .orderBy(sql`${wikiPages.id} IS NULL`, desc(wikiEntries.version))
      .limit(1);
    if (!base) throw new NotFoundError('wiki entry', entry);
    const [row] = await tx.db
      .insert(wikiEntries)
      .values({
        tenantId: tx.tenantId,
        entryId: entry,
        // Number, parent and scope are the database's (agentflow.wiki_lineage).
        version: base.version + 1,
        projectId: base.projectId,
        proposedByAgentId: tx.actor.id,
        title: changes.title ?? base.title,
        slug: changes.slug ?? base.slug,
        content: changes.content ?? base.content,
        tags: changes.tags ?? base.tags,
        metadata: changes.metadata ?? base.metadata,
      })
      .returning(versionColumns);
    return submit ? setStatus(tx, row!.id, 'pending_approval') : row!;
  },

  /** Revises a draft in place (its proposer only; a submitted version is frozen). */
  async revise(tx: TenantScope, versionId: string, input: ReviseWikiDraftInput): Promise<WikiEntry> {
    const id = parseId(versionId, 'wiki version');
    const changes = parseInput(reviseWikiDraftSchema, input, 'wiki revision');
    const [row] = await tx.db
      .update(wikiEntries)
      .set(changes)
      .where(and(eq(wikiEntries.tenantId, tx.tenantId), eq(wikiEntries.id, id)))
      .returning(versionColumns);
    if (!row) throw new NotFoundError('wiki version', id);
    return row;
  },

  /** Submits a draft for approval (its proposer only). */
  submit(tx: TenantScope, versionId: string): Promise<WikiEntry> {
    return setStatus(tx, versionId, 'pending_approval');
  },

  /** Approves a pending version (a human who may approve): it becomes its entry's current version. */
  approve(tx: TenantScope, versionId: string): Promise<WikiEntry> {
    return setStatus(tx, versionId, 'approved');
  },

  /** Rejects a pending version with a reason (a human who may approve). */
  reject(tx: TenantScope, versionId: string, input: RejectWikiVersionInput): Promise<WikiEntry> {
    const { reason } = parseInput(rejectWikiVersionSchema, input, 'wiki rejection');
    return setStatus(tx, versionId, 'rejected', reason);
  },

  /** One version, if the caller may see it (a deleted entry's: only a human who may approve). */
  async getVersion(tx: TenantScope, versionId: string): Promise<WikiEntry> {
    return versionById(tx, parseId(versionId, 'wiki version'));
  },

  /** An entry's current version with its view count (NotFound until a version is approved). */
  async get(tx: TenantScope, entryId: string): Promise<CurrentWikiEntry> {
    const entry = parseId(entryId, 'wiki entry');
    const [row] = await tx.db
      .select(currentColumns)
      .from(wikiPages)
      .innerJoin(
        wikiEntries,
        and(eq(wikiEntries.tenantId, wikiPages.tenantId), eq(wikiEntries.id, wikiPages.currentVersionId)),
      )
      .where(and(eq(wikiPages.tenantId, tx.tenantId), eq(wikiPages.id, entry)));
    if (!row) throw new NotFoundError('wiki entry', entry);
    return row;
  },

  /** The current entry with this slug in a scope: the tenant's when no project is given. */
  async getBySlug(tx: TenantScope, input: WikiSlugLookupInput): Promise<CurrentWikiEntry> {
    const { slug, projectId } = parseInput(wikiSlugLookupSchema, input, 'wiki slug lookup');
    const [row] = await tx.db
      .select(currentColumns)
      .from(wikiPages)
      .innerJoin(
        wikiEntries,
        and(eq(wikiEntries.tenantId, wikiPages.tenantId), eq(wikiEntries.id, wikiPages.currentVersionId)),
      )
      .where(
        and(
          eq(wikiPages.tenantId, tx.tenantId),
          eq(wikiPages.slug, slug),
          projectId ? eq(wikiPages.projectId, projectId) : isNull(wikiPages.projectId),
        ),
      );
    if (!row) throw new NotFoundError('wiki entry', slug);
    return row;
  },

  /** Reads an entry's current version and counts the view (one atomic UPDATE of its counter). */
  async view(tx: TenantScope, entryId: string): Promise<CurrentWikiEntry> {
    const entry = parseId(entryId, 'wiki entry');
    const [page] = await tx.db
      .update(wikiPages)
      .set({ viewCount: sql`${wikiPages.viewCount} + 1`, lastViewedAt: sql`now()` })
      .where(and(eq(wikiPages.tenantId, tx.tenantId), eq(wikiPages.id, entry)))
      .returning({
        currentVersionId: wikiPages.currentVersionId,
        viewCount: wikiPages.viewCount,
        lastViewedAt: wikiPages.lastViewedAt,
      });
    if (!page) throw new NotFoundError('wiki entry', entry);
    const version = await versionById(tx, page.currentVersionId);
    return { ...version, viewCount: page.viewCount, lastViewedAt: page.lastViewedAt };
  },

  /** An entry's versions the caller may see, newest version first (a deleted entry's: approvers only). */
  async history(tx: TenantScope, entryId: string, input: WikiHistoryInput = {}): Promise<Page<WikiEntry>> {
    const entry = parseId(entryId, 'wiki entry');
    const query = parseInput(wikiHistorySchema, input, 'wiki history');
    const conditions: SQL[] = [eq(wikiEntries.tenantId, tx.tenantId), eq(wikiEntries.entryId, entry)];
    if (query.cursor) {
      const [version] = decodeCursor('wiki history', query.cursor, historyKey);
      conditions.push(sql`${wikiEntries.version} < ${version}`);
    }
    const rows = await tx.db
      .select(versionColumns)
      .from(wikiEntries)
      .where(and(...conditions))
      .orderBy(desc(wikiEntries.version))
      .limit(query.limit + 1);
    if (rows.length === 0 && !query.cursor) throw new NotFoundError('wiki entry', entry);
    return toPage(rows, query.limit, 'wiki history', (row) => [row.version]);
  },

  /** What changed between two versions of one entry: title, slug, tags, and the content line by line. */
  async diff(tx: TenantScope, input: WikiDiffInput): Promise<WikiDiff> {
    const ids = parseInput(wikiDiffSchema, input, 'wiki diff');
    const from = await versionById(tx, ids.from);
    const to = await versionById(tx, ids.to);
    if (from.entryId !== to.entryId)
      throw new ValidationError('the two versions belong to different wiki entries', [
        { path: 'to', message: `version ${to.id} is not of entry ${from.entryId}` },
      ]);
    const lines = diffLines(from.content, to.content);
    return {
      entryId: from.entryId,
      from: { id: from.id, version: from.version, status: from.status },
      to: { id: to.id, version: to.version, status: to.status },
      title: from.title === to.title ? null : { from: from.title, to: to.title },
      slug: from.slug === to.slug ? null : { from: from.slug, to: to.slug },
      tags: {
        added: to.tags.filter((tag) => !from.tags.includes(tag)),
        removed: from.tags.filter((tag) => !to.tags.includes(tag)),
      },
      lines,
      added: lines.filter((line) => line.op === 'add').length,
      removed: lines.filter((line) => line.op === 'remove').length,
    };
  },

  /**
   * Versions of live entries the caller may see, newest first (pending ones, to review:
   * `{ status: 'pending_approval' }`). A deleted entry's versions are read through its history.
   */
  async list(tx: TenantScope, input: ListWikiVersionsInput = {}): Promise<Page<WikiEntry>> {
    const query = parseInput(listWikiVersionsSchema, input, 'wiki version list');
    const conditions: SQL[] = [eq(wikiEntries.tenantId, tx.tenantId), isNull(wikiEntries.deletedAt)];
    if (query.status) conditions.push(eq(wikiEntries.status, query.status));
    if (query.proposedByAgentId) conditions.push(eq(wikiEntries.proposedByAgentId, query.proposedByAgentId));
    if (query.projectId) conditions.push(eq(wikiEntries.projectId, query.projectId));
    if (query.cursor) {
      const [at, id] = decodeCursor('wiki versions', query.cursor, versionsKey);
      const exact = exactTimestamp(wikiEntries.createdAt, wikiEntries.id, at, id);
      conditions.push(sql`(${wikiEntries.createdAt}, ${wikiEntries.id}) < (${exact}, ${id})`);
    }
    const rows = await tx.db
      .select(versionColumns)
      .from(wikiEntries)
      .where(and(...conditions))
      .orderBy(desc(wikiEntries.createdAt), desc(wikiEntries.id))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'wiki versions', (row) => [row.createdAt.toISOString(), row.id]);
  },

  /**
   * Deletes an entry softly, every version of it at once (a human who may approve; ForbiddenError
   * otherwise). It is gone from search, reading and listings, its slug and title are free again,
   * and nothing is proposed or decided on it any more; its versions stay as history for approvers.
   * NotFoundError when the caller sees no live version of it.
   */
  async delete(tx: TenantScope, entryId: string): Promise<void> {
    const entry = parseId(entryId, 'wiki entry');
    const rows = await tx.db
      .update(wikiEntries)
      .set({ deletedAt: sql`now()` })
      .where(
        and(
          eq(wikiEntries.tenantId, tx.tenantId),
          eq(wikiEntries.entryId, entry),
          isNull(wikiEntries.deletedAt),
        ),
      )
      .returning({ id: wikiEntries.id });
    if (rows.length === 0) throw new NotFoundError('wiki entry', entry);
  },

  /**
   * Ranked full-text search over current versions the caller may see (websearch_to_tsquery,
   * ts_rank_cd; title weighs more than content), best first. Through agentflow.search_wiki, so the
   * GIN index serves under row-level security (migration 19 says why); the rows are then read under
   * the caller's own policies. Paged by cursor, by rank then id.
   */
  async search(tx: TenantScope, input: SearchWikiInput): Promise<Page<WikiSearchHit>> {
    const query = parseInput(searchWikiSchema, input, 'wiki search');
    const [afterRank, afterId] = query.cursor
      ? decodeCursor('wiki search', query.cursor, searchKey)
      : [null, null];
    const tags = query.tags ? sql.param(query.tags, wikiEntries.tags) : sql`NULL::text[]`;
    const scope = query.projectId ? 'visible_in_project' : null;
    const hits = sql`agentflow.search_wiki(${query.query}, ${scope}::text, ${query.projectId ?? null}::uuid, ${tags},
      ${afterRank}::float8, ${afterId}::uuid, ${query.limit + 1}::integer)`;
    const rows = await tx.db
      .select({ ...versionColumns, rank: sql<number>`hit.rank`.mapWith(Number) })
      .from(sql`${hits} AS hit`)
      .innerJoin(
        wikiEntries,
        and(eq(wikiEntries.tenantId, tx.tenantId), sql`${wikiEntries.id} = hit.version_id`),
      )
      .orderBy(sql`hit.rank DESC`, desc(wikiEntries.id));
    return toPage(rows, query.limit, 'wiki search', (row) => [row.rank, row.id]);
  },
};
