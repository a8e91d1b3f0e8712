// The knowledge domain (lessons, self-reviews, patterns): what an HTTP API or the CLI may import.

// The knowledge domain: what an HTTP API or the CLI may import (input contracts, row types).
export * from './evidence.contract.ts';
export { type Citation, EVIDENCE_LINKS_MAX, type EvidenceLinks } from './evidence.repository.ts';
export {
  EVIDENCE_LINK_KINDS,
  EVIDENCE_SOURCE_TYPES,
  type Evidence,
  type EvidenceLink,
  type EvidenceLinkKind,
  type EvidenceSourceType,
  type ExecutionEvidence,
} from './evidence.schema.ts';
export * from './lessons.contract.ts';
export type { RankedLesson } from './lessons.repository.ts';
export { type Lesson, SUCCESS_RATE_KEEP, SUCCESS_RATE_NEW } from './lessons.schema.ts';
export * from './patterns.contract.ts';
export type { Pattern } from './patterns.schema.ts';
export * from './self-reviews.contract.ts';
export type { ScoreTrendPoint } from './self-reviews.repository.ts';
export { SELF_REVIEW_DECISIONS, type SelfReview, type SelfReviewDecision } from './self-reviews.schema.ts';
