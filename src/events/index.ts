// The events domain: what an HTTP API or the CLI may import (input contracts, row types).
export * from './events.contract.ts';
export { EVENT_TYPES, type Event, type EventType, SYSTEM_EVENT_TYPES } from './events.schema.ts';
