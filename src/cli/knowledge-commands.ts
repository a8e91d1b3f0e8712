import type { Command } from 'commander';
import { type RankedLesson, searchLessonsSchema } from '../knowledge/index.ts';
import { MAX_PAGE_LIMIT } from '../shared/pagination.ts';
import { parseInput, slugSchema } from '../shared/validation.ts';
import type { TenantTx } from '../store/unit-of-work.ts';
import { searchWikiSchema, wikiSlugSchema } from '../wiki/index.ts';
import { everyPage, print, printable } from './output.ts';
import { asOwnerOf, projectIdOf, type TaskCommandContext } from './task-commands.ts';

/** A number option as given: the repositories' contracts say what a valid limit is. */
const asNumber = (value: string) => Number(value);

/** Each project's slug by its id, to name an entry's scope. */
async function projectSlugs(tx: TenantTx): Promise<Map<string, string>> {
  const rows = await tx.query<{ id: string; slug: string }>('SELECT id, slug FROM projects');
  return new Map(rows.map((row) => [row.id, row.slug]));
}

const scopeOf = (projectId: string | null, slugs: Map<string, string>) =>
  projectId === null ? 'tenant' : `project ${slugs.get(projectId) ?? projectId}`;

function lessonLine(lesson: RankedLesson): string {
  const success =
    lesson.successRate === null ? 'no outcome yet' : `success ${Math.round(lesson.successRate * 100)}%`;
  const validated = lesson.humanValidated ? '  validated' : '';
  return [
    `${lesson.rank.toFixed(3)}  ${printable(lesson.category, 20).padEnd(14)}  ${printable(lesson.title)}`,
    `       confidence ${lesson.confidence.toFixed(2)}, ${success}, applied ${lesson.applicationCount}x, tags ${printable(lesson.tags.join(', '))}${validated}`,
  ].join('\n');
}

/**
 * `agentflow wiki search|show` and `agentflow lessons search`: a tenant's knowledge, read as its
 * owner. Nothing is written: `wiki show` reads the entry without counting a view (an operator's
 * look is not a reader's visit).
 */
export function addKnowledgeCommands(program: Command, context: TaskCommandContext): void {
  const wiki = program.command('wiki').description("a tenant's wiki (read as its owner)");
  wiki
    .command('search')
    .description('ranked full-text search over approved current entries (web-search syntax)')
    .argument('<words>', 'what to look for: words, "an exact phrase", or, -excluded')
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--project <slug>', "only the tenant-wide entries and this project's")
    .option('--limit <n>', 'at most this many (1-100, default 20)', asNumber)
    .action(
      async (
        words: string,
        options: { tenant: string; project?: string; limit?: number },
        command: Command,
      ) => {
        // The repository's own contract, checked before a database is opened.
        const query = parseInput(searchWikiSchema, { query: words, limit: options.limit }, 'wiki search');
        const project =
          options.project === undefined ? undefined : parseInput(slugSchema, options.project, 'project slug');
        await context.withStore(command, (store) =>
          asOwnerOf(
            store,
            options.tenant,
            async (tx) => {
              const projectId = project === undefined ? undefined : await projectIdOf(tx, project);
              const { items: hits } = await tx.wiki.search({ ...query, ...(projectId ? { projectId } : {}) });
              if (context.json(command)) {
                print(JSON.stringify(hits));
                return;
              }
              const slugs = await projectSlugs(tx);
              if (hits.length === 0) print('no approved wiki entry matches');
              // agentflow.search_wiki returns no snippet: the title, slug and scope say where to look.
              for (const hit of hits)
                print(
                  `${hit.rank.toFixed(3)}  ${printable(hit.title, 60)}  (${hit.slug}, ${scopeOf(hit.projectId, slugs)}, v${hit.version})`,
                );
            },
            'cli:wiki search',
          ),
        );
      },
    );
  wiki
    .command('show')
    .description("show an entry's current approved version and its version history (counts no view)")
    .argument('<slug>', "the entry's slug")
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--project <slug>', 'the project the entry belongs to (default: a tenant-wide entry)')
    .action(async (slug: string, options: { tenant: string; project?: string }, command: Command) => {
      const entrySlug = parseInput(wikiSlugSchema, slug, 'wiki slug');
      const project =
        options.project === undefined ? undefined : parseInput(slugSchema, options.project, 'project slug');
      await context.withStore(command, (store) =>
        asOwnerOf(
          store,
          options.tenant,
          async (tx, codes) => {
            const projectId = project === undefined ? undefined : await projectIdOf(tx, project);
            const entry = await tx.wiki.getBySlug({ slug: entrySlug, ...(projectId ? { projectId } : {}) });
            const history = await everyPage((cursor) =>
              tx.wiki.history(entry.entryId, { limit: MAX_PAGE_LIMIT, ...(cursor ? { cursor } : {}) }),
            );
            if (context.json(command)) {
              print(JSON.stringify({ entry, history }));
              return;
            }
            const slugs = await projectSlugs(tx);
            print(`${printable(entry.title)}  (${entry.slug}, ${scopeOf(entry.projectId, slugs)})`);
            print(
              `  version ${entry.version} approved ${entry.decidedAt?.toISOString() ?? '-'}, proposed by ${codes.get(entry.proposedByAgentId) ?? entry.proposedByAgentId}, ${entry.viewCount} view(s)`,
            );
            print(`  tags ${printable(entry.tags.join(', ')) || '-'}`);
            print('');
            for (const line of entry.content.trimEnd().split('\n')) print(`  ${printable(line, 200)}`);
            print('history:');
            for (const version of history) {
              const reason = version.rejectionReason ? `: ${printable(version.rejectionReason, 60)}` : '';
              print(
                `  v${version.version}  ${version.status.padEnd(16)}  ${version.createdAt.toISOString()}  by ${codes.get(version.proposedByAgentId) ?? version.proposedByAgentId}${reason}`,
              );
            }
          },
          'cli:wiki show',
        ),
      );
    });

  const lessons = program.command('lessons').description("a tenant's lessons learned (read as its owner)");
  lessons
    .command('search')
    .description('ranked full-text search over title, summary and details; best first, then most confident')
    .argument('<words>', 'what to look for: words, "an exact phrase", or, -excluded')
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--category <category>', 'only this category')
    .option('--tag <tag...>', 'only lessons with any of these tags (repeatable)')
    .option('--all-tags', 'only lessons with every --tag')
    .option('--limit <n>', 'at most this many (1-1000, default 20)', asNumber, 20)
    .action(
      async (
        words: string,
        options: { tenant: string; category?: string; tag?: string[]; allTags?: boolean; limit: number },
        command: Command,
      ) => {
        // The repository's own contract, checked before a database is opened.
        const query = parseInput(
          searchLessonsSchema,
          {
            query: words,
            category: options.category,
            tags: options.tag,
            tagMatch: options.allTags ? 'all' : 'any',
            limit: options.limit,
          },
          'lesson search',
        );
        await context.withStore(command, (store) =>
          asOwnerOf(
            store,
            options.tenant,
            async (tx) => {
              const { items } = await tx.lessons.search(query);
              if (context.json(command)) print(JSON.stringify(items));
              else if (items.length === 0) print('no lesson matches');
              else for (const lesson of items) print(lessonLine(lesson));
            },
            'cli:lessons search',
          ),
        );
      },
    );
}
