// The artifacts and approvals domain: what an HTTP API or the CLI may import (input contracts, row types).
export * from './approvals.contract.ts';
export {
  APPROVAL_DECISIONS,
  APPROVAL_ON_APPROVE,
  APPROVAL_STATUSES,
  APPROVER_ROLES,
  type Approval,
  type ApprovalDecision,
  type ApprovalOnApprove,
  type ApprovalStatus,
} from './approvals.schema.ts';
export * from './artifacts.contract.ts';
export {
  ARTIFACT_APPROVAL_STATUSES,
  ARTIFACT_CONTENT_MAX_BYTES,
  ARTIFACT_TYPES,
  type Artifact,
  type ArtifactApprovalStatus,
  type ArtifactType,
} from './artifacts.schema.ts';
