import { setTimeout as sleep } from 'node:timers/promises';
import { and, eq, inArray } from 'drizzle-orm';
import { agents } from '../agents/agents.schema.ts';
import type { Event } from '../events/events.schema.ts';
import type { Store } from '../store/store.ts';
import { printable } from './output.ts';

export interface TailOptions {
  tenant: string;
  project?: string;
  limit: number;
  /** Poll for new events until `stop` settles. */
  follow?: { intervalMs: number; stop: Promise<unknown> };
}

// Payload fields that say what an event is about, in order of preference.
const SUMMARY_FIELDS = ['message', 'question', 'title', 'reason', 'verdict', 'changeReason'] as const;

/** The agent a system event is about, if its payload names one. */
function subjectOf(event: Pick<Event, 'payload'>): string | undefined {
  const agentId = event.payload.agentId;
  return typeof agentId === 'string' ? agentId : undefined;
}

/** The agents an event names: its author and, for a system event, its subject. */
function agentsOf(event: Pick<Event, 'authorId' | 'payload'>): string[] {
  const subject = subjectOf(event);
  return [...(event.authorId ? [event.authorId] : []), ...(subject ? [subject] : [])];
}

/** A short, printable summary of an event's payload. */
export function summarize(event: Pick<Event, 'payload'>): string {
  const payload = event.payload;
  // A trust score change says what changed; its reason alone would not.
  if (typeof payload.previous === 'number' && typeof payload.new === 'number')
    return `trust ${payload.previous.toFixed(2)} → ${payload.new.toFixed(2)}${typeof payload.reason === 'string' ? ` (${payload.reason})` : ''}`;
  const field = SUMMARY_FIELDS.find((name) => typeof payload[name] === 'string');
  const text = field ? String(payload[field]) : JSON.stringify(payload);
  return printable(text);
}

/**
 * `agentflow events tail`: the newest events of a tenant (or one project), oldest of them first,
 * one line each: time, type, author code ('system' for the database's own), summary. With
 * `follow`, polls for newer events until stopped; events are told apart by id, and each poll looks
 * back a few seconds, so an event of a transaction that committed late is still printed once.
 */
export async function tailEvents(
  store: Store,
  options: TailOptions,
  print: (line: string) => void,
): Promise<void> {
  const codes = new Map<string, string>();
  /** Ids printed, with their time: forgotten once older than the look-back window. */
  const printed = new Map<number, number>();
  const actor = { actor: 'cli:events tail' };
  const { tenantId, projectId } = await store.asService(actor, async (svc) => {
    const tenant = await svc.tenants.getBySlug(options.tenant);
    if (options.project === undefined) return { tenantId: tenant.id, projectId: undefined };
    return { tenantId: tenant.id, projectId: (await svc.projects.getBySlug(tenant.id, options.project)).id };
  });
  let since: Date | undefined;
  /** The newest `limit` events (no `since`), or every event from a little before `since`. */
  const read = () =>
    store.asService(actor, async (svc) => {
      const filter = {
        ...(projectId ? { projectId } : {}),
        ...(since ? { from: new Date(since.getTime() - LOOK_BACK_MS) } : {}),
      };
      let page = await svc.events.list(tenantId, { ...filter, limit: since ? 1000 : options.limit });
      const items = [...page.items];
      while (since && page.nextCursor) {
        page = await svc.events.list(tenantId, { ...filter, limit: 1000, cursor: page.nextCursor });
        items.push(...page.items);
      }
      const unknown = [...new Set(items.flatMap(agentsOf))].filter((id) => !codes.has(id));
      if (unknown.length > 0) {
        const rows = await svc.db
          .select({ id: agents.id, code: agents.code })
          .from(agents)
          .where(and(eq(agents.tenantId, tenantId), inArray(agents.id, unknown)));
        for (const row of rows) codes.set(row.id, row.code);
      }
      return items.reverse();
    });
  const show = (found: Event[], printing: boolean) => {
    for (const event of found) {
      if (printed.has(event.id)) continue;
      printed.set(event.id, event.occurredAt.getTime());
      const author = event.authorId === null ? 'system' : (codes.get(event.authorId) ?? event.authorId);
      // A system event is about an agent (payload.agentId): named, as the author of others is.
      const subject = event.authorId === null ? subjectOf(event) : undefined;
      const summary = subject ? `${codes.get(subject) ?? subject}: ${summarize(event)}` : summarize(event);
      if (printing)
        print(
          `${event.occurredAt.toISOString()}  ${event.type.padEnd(21)}  ${author.padEnd(12)}  ${summary}`,
        );
      if (!since || event.occurredAt > since) since = event.occurredAt;
    }
    if (since) {
      const horizon = since.getTime() - 2 * LOOK_BACK_MS;
      for (const [id, at] of printed) if (at < horizon) printed.delete(id);
    }
  };
  show(await read(), true);
  if (!options.follow) return;
  // What the first read left out as older than its `limit` newest is not news: remember it unprinted.
  if (since) show(await read(), false);
  let stopped = false;
  void options.follow.stop.then(() => {
    stopped = true;
  });
  while (!stopped) {
    await Promise.race([sleep(options.follow.intervalMs), options.follow.stop]);
    if (!stopped) show(await read(), true);
  }
}

const LOOK_BACK_MS = 5000;
