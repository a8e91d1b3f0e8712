import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Connection } from '../../src/engine/engine.ts';
import type { Member, Page, Project, ServiceScope, Tenant, TenantScope, User } from '../../src/index.ts';
import { ServiceTx, TenantTx } from '../../src/index.ts';
import { projectsRepository } from '../../src/projects/projects.repository.ts';
import { registry } from '../../src/store/registry.ts';

// A connection that is never used: the getters only bind, they send nothing.
const connection = {} as Connection;
const actor = { type: 'user', id: '00000000-0000-4000-8000-000000000001' } as const;

describe('the repository registry', () => {
  it('gives tx.<name> for each tenant repository and svc.<name> for each service one', () => {
    const tx = new TenantTx(connection, '00000000-0000-4000-8000-000000000002', actor);
    const svc = new ServiceTx(connection, 'test');
    const tenantNames = Object.entries(registry).flatMap(([name, entry]) =>
      'tenant' in entry ? [name] : [],
    );
    const serviceNames = Object.entries(registry).flatMap(([name, entry]) =>
      'service' in entry ? [name] : [],
    );
    expect(tenantNames).toEqual([
      'tenants',
      'users',
      'memberships',
      'projects',
      'projectFiles',
      'agentStates',
      'auditLogs',
      'agents',
      'agentCredentials',
      'kpis',
      'events',
      'workSessions',
      'taskExecutions',
      'wiki',
      'evidence',
      'idempotencyKeys',
      'tasks',
      'activityFeed',
      'taskDependencies',
      'taskQueue',
      'artifacts',
      'approvals',
      'taskComments',
      'taskAttachments',
      'taskCheckpoints',
      'lessons',
      'selfReviews',
      'patterns',
    ]);
    expect(serviceNames).toEqual([
      'tenants',
      'users',
      'memberships',
      'projects',
      'agents',
      'agentCredentials',
      'retention',
      'events',
      'idempotencyKeys',
      'tasks',
    ]);
    for (const name of tenantNames) {
      const bound = (tx as unknown as Record<string, Record<string, unknown>>)[name]!;
      const entry = registry[name as keyof typeof registry] as { tenant: object };
      expect(Object.keys(bound), name).toEqual(Object.keys(entry.tenant));
      // Bound once per unit of work.
      expect((tx as unknown as Record<string, unknown>)[name]).toBe(bound);
    }
    for (const name of serviceNames)
      expect(Object.keys((svc as unknown as Record<string, object>)[name]!)).toEqual(
        Object.keys((registry[name as keyof typeof registry] as { service: object }).service),
      );
    expect('projectFiles' in svc).toBe(false);
    expect(tx.kind).toBe('tenant');
    expect(svc.kind).toBe('service');
  });

  it('keeps tx.<name> and the plain repository functions fully typed', () => {
    // The bound method drops the unit of work and keeps the rest of the signature.
    expectTypeOf<TenantTx['projects']['get']>().toEqualTypeOf<(id: string) => Promise<Project>>();
    expectTypeOf<TenantTx['projects']['list']>().returns.resolves.toEqualTypeOf<Page<Project>>();
    expectTypeOf<TenantTx['memberships']['list']>().returns.resolves.toEqualTypeOf<Page<Member>>();
    expectTypeOf<TenantTx['tenants']['current']>().toEqualTypeOf<() => Promise<Tenant>>();
    expectTypeOf<ServiceTx['users']['get']>().toEqualTypeOf<(id: string) => Promise<User>>();
    expectTypeOf<ServiceTx['tenants']['list']>().returns.resolves.toEqualTypeOf<Page<Tenant>>();
    // The plain function takes the narrow scope first.
    expectTypeOf(projectsRepository.get).parameters.toEqualTypeOf<[tx: TenantScope, id: string]>();
    expectTypeOf<TenantTx>().toExtend<TenantScope>();
    expectTypeOf<ServiceTx>().toExtend<ServiceScope>();
    // One name per table on both sides; no repository of the other side leaks in.
    expectTypeOf<TenantTx>().not.toHaveProperty('tenant');
    expectTypeOf<ServiceTx>().not.toHaveProperty('projectFiles');
    expectTypeOf<TenantTx['tenants']>().not.toHaveProperty('create');
    const typeOnly = (tx: TenantTx, svc: ServiceTx) => {
      // @ts-expect-error an id is a string
      void tx.projects.get(42);
      // @ts-expect-error a service repository is not reachable from tenant work
      void tx.tenants.setPlan(tx.tenantId, 'free');
      // @ts-expect-error the unit of work is bound already
      void svc.users.get(svc, 'id');
    };
    expect(typeOnly).toBeTypeOf('function');
  });
});
