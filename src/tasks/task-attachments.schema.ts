import { sql } from 'drizzle-orm';
import { bigint, check, foreignKey, index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { agents } from '../agents/agents.schema.ts';
import { evidence } from '../knowledge/evidence.schema.ts';
import {
  deletedAtColumn,
  scopedIdColumn,
  tenantIdColumn,
  tenantKeys,
  timestampColumns,
} from '../shared/columns.ts';
import { users } from '../tenancy/users.schema.ts';
import { tasks } from './tasks.schema.ts';

/** Largest attachment accepted: 10 GiB. */
export const TASK_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024 * 1024;

/**
 * Files attached to a task: where they are in object storage, their size, type and checksum, who
 * uploaded them (the actor, set by the database), and the evidence the file supports, if any.
 */
export const taskAttachments = pgTable(
  'task_attachments',
  {
    tenantId: tenantIdColumn(),
    id: scopedIdColumn(),
    taskId: uuid('task_id').notNull(),
    storagePath: text('storage_path').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    contentType: text('content_type').notNull(),
    checksumSha256: text('checksum_sha256'),
    uploadedByAgentId: uuid('uploaded_by_agent_id'),
    uploadedByUserId: uuid('uploaded_by_user_id'),
    evidenceId: uuid('evidence_id'),
    ...timestampColumns(),
    deletedAt: deletedAtColumn(),
  },
  (table) => [
    ...tenantKeys(table, { task: [table.taskId, tasks], agent: [table.uploadedByAgentId, agents] }),
    foreignKey({
      name: 'task_attachments_user_fk',
      columns: [table.uploadedByUserId],
      foreignColumns: [users.id],
    }),
    // Not cascading (migration 20): evidence a file backs is not deleted from under it.
    foreignKey({
      name: 'task_attachments_evidence_fk',
      columns: [table.tenantId, table.evidenceId],
      foreignColumns: [evidence.tenantId, evidence.id],
    }),
    index('task_attachments_task_idx').on(table.tenantId, table.taskId, table.createdAt, table.id),
    index('task_attachments_evidence_idx')
      .on(table.tenantId, table.evidenceId)
      .where(sql`evidence_id IS NOT NULL`),
    index('task_attachments_agent_idx')
      .on(table.tenantId, table.uploadedByAgentId)
      .where(sql`uploaded_by_agent_id IS NOT NULL`),
    index('task_attachments_member_idx')
      .on(table.tenantId, table.uploadedByUserId)
      .where(sql`uploaded_by_user_id IS NOT NULL`),
    check(
      'task_attachments_storage_path_check',
      sql`char_length(${table.storagePath}) BETWEEN 1 AND 2048 AND ${table.storagePath} !~ '[[:cntrl:]]'`,
    ),
    check('task_attachments_size_bytes_check', sql`${table.sizeBytes} BETWEEN 0 AND 10737418240`),
    check(
      'task_attachments_content_type_check',
      sql`char_length(${table.contentType}) <= 255 AND ${table.contentType} !~ '[[:cntrl:]]' AND ${table.contentType} ~ '^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*( *;.*)?$'`,
    ),
    check('task_attachments_checksum_sha256_check', sql`${table.checksumSha256} ~ '^[0-9a-f]{64}$'`),
    check(
      'task_attachments_one_uploader',
      sql`num_nonnulls(${table.uploadedByAgentId}, ${table.uploadedByUserId}) = 1`,
    ),
  ],
);

export type TaskAttachment = typeof taskAttachments.$inferSelect;
