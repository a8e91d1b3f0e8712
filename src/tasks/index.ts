// The task notes: comments, attachments and checkpoints (what an HTTP API or the CLI may import).
export * from './task-attachments.contract.ts';
export { TASK_ATTACHMENT_MAX_BYTES, type TaskAttachment } from './task-attachments.schema.ts';
export * from './task-checkpoints.contract.ts';
export type { TaskCheckpoint } from './task-checkpoints.schema.ts';
export * from './task-comments.contract.ts';
export { TASK_COMMENT_BODY_MAX, type TaskComment } from './task-comments.schema.ts';
