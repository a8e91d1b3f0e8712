import { z } from 'zod';
import { pageSchema, rowSchema } from '../http/openapi.ts';
import { idParams, type TenantRoute, tenantRoute } from '../http/route.ts';
import {
  type CreateLessonInput,
  createLessonSchema,
  type ListLessonsInput,
  lessonOutcomeSchema,
  listLessonsSchema,
  type SearchLessonsInput,
  searchLessonsSchema,
  type UpdateLessonInput,
  updateLessonSchema,
  type ValidateLessonInput,
  validateLessonSchema,
} from './lessons.contract.ts';
import { lessons } from './lessons.schema.ts';

const lesson = rowSchema(lessons, ['searchVector']);
const ranked = {
  ...lesson,
  properties: {
    ...(lesson.properties as object),
    rank: {
      type: 'number',
      description: 'ts_rank_cd of the query (title weighs most, then summary, details)',
    },
  },
  required: [...(lesson.required as string[]), 'rank'],
};
const byId = idParams('lessonId');
const tag = 'lessons';
const outcomeBody = z.strictObject({ outcome: lessonOutcomeSchema });

/** Lessons over HTTP: CRUD, ranked search, applications and outcomes, validation by a human member. */
export const lessonRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'POST',
    path: '/v1/lessons',
    operationId: 'lessons.create',
    covers: ['lessons.create'],
    tag,
    summary: 'Record a lesson (humanValidated only from a human member: 403 otherwise)',
    body: createLessonSchema,
    status: 201,
    response: lesson,
    handler: ({ tx, body }) => tx.lessons.create(body as CreateLessonInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/lessons',
    operationId: 'lessons.list',
    singleStatement: true,
    covers: ['lessons.list'],
    tag,
    summary:
      'List live lessons newest first, by category, tags (any / all), source agent type and validation',
    query: listLessonsSchema,
    response: pageSchema(lesson),
    handler: ({ tx, query }) => tx.lessons.list(query as ListLessonsInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/lessons/search',
    operationId: 'lessons.search',
    singleStatement: true,
    covers: ['lessons.search'],
    tag,
    summary: 'Ranked full-text search (websearch syntax) by category and tags; by rank, then confidence',
    query: searchLessonsSchema,
    response: pageSchema(ranked),
    handler: ({ tx, query }) => tx.lessons.search(query as SearchLessonsInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/lessons/:lessonId',
    operationId: 'lessons.get',
    singleStatement: true,
    covers: ['lessons.get'],
    tag,
    summary: 'Read a live lesson',
    params: byId,
    response: lesson,
    handler: ({ tx, params }) => tx.lessons.get(params.lessonId!),
  }),
  tenantRoute({
    method: 'PATCH',
    path: '/v1/lessons/:lessonId',
    operationId: 'lessons.update',
    covers: ['lessons.update'],
    tag,
    summary: 'Change a lesson’s content (category, title, summary, details, tags, confidence)',
    params: byId,
    body: updateLessonSchema,
    response: lesson,
    handler: ({ tx, params, body }) => tx.lessons.update(params.lessonId!, body as UpdateLessonInput),
  }),
  tenantRoute({
    method: 'DELETE',
    path: '/v1/lessons/:lessonId',
    operationId: 'lessons.delete',
    covers: ['lessons.delete'],
    tag,
    summary: 'Delete a lesson softly: gone to readers and search',
    params: byId,
    status: 204,
    handler: ({ tx, params }) => tx.lessons.delete(params.lessonId!),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/lessons/:lessonId/validation',
    operationId: 'lessons.validate',
    covers: ['lessons.validate'],
    tag,
    summary: 'Set or clear the human validation (a human member only: 403 for an agent)',
    params: byId,
    body: validateLessonSchema,
    response: lesson,
    handler: ({ tx, params, body }) => tx.lessons.validate(params.lessonId!, body as ValidateLessonInput),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/lessons/:lessonId/applications',
    operationId: 'lessons.applied',
    covers: ['lessons.applied'],
    tag,
    summary: 'Count one more application of the lesson',
    params: byId,
    response: lesson,
    handler: ({ tx, params }) => tx.lessons.applied(params.lessonId!),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/lessons/:lessonId/outcomes',
    operationId: 'lessons.recordOutcome',
    covers: ['lessons.recordOutcome'],
    tag,
    summary: 'Record an outcome (true / false or a score 0–1): success rate = 0.8 × rate + 0.2 × outcome',
    params: byId,
    body: outcomeBody,
    response: lesson,
    handler: ({ tx, params, body }) =>
      tx.lessons.recordOutcome(params.lessonId!, (body as z.output<typeof outcomeBody>).outcome),
  }),
];
