// The projects domain: what an HTTP API or the CLI may import (input contracts, row types).
export * from './project-files.contract.ts';
export type { ProjectFile, ProjectFileSummary } from './project-files.schema.ts';
export * from './projects.contract.ts';
export type { Project, ProjectStatus } from './projects.schema.ts';
