import { randomBytes } from 'node:crypto';
import type { Store } from '../store/store.ts';

export const DEMO_TENANTS = [
  {
    slug: 'acme-robotics',
    name: 'Acme Robotics',
    plan: 'professional' as const,
    owner: { email: 'ceo@acme-robotics.example', name: 'Ada Lovelace' },
    members: [{ email: 'cto@acme-robotics.example', name: 'Grace Hopper', role: 'admin' as const }],
    projects: [
      {
        slug: 'warehouse-bot',
        name: 'Warehouse Bot',
        description: 'Fleet control for warehouse robots',
        repoUrl: 'https://github.com/acme-robotics/warehouse-bot',
        techStack: ['typescript', 'postgresql', 'redis'],
        files: {
          'README.md': '# Warehouse Bot\n\nFleet control for warehouse robots.\n',
          'src/index.ts': 'export const fleet = [];\n',
        },
        state: { phase: 'orchestrating', openTasks: 3 },
      },
      {
        slug: 'customer-portal',
        name: 'Customer Portal',
        description: 'Self-service portal for customers',
        repoUrl: 'https://github.com/acme-robotics/customer-portal',
        techStack: ['react', 'typescript'],
        files: { 'README.md': '# Customer Portal\n' },
        state: { phase: 'analyzing', openTasks: 1 },
      },
    ],
  },
  {
    slug: 'globex',
    name: 'Globex Corporation',
    plan: 'starter' as const,
    owner: { email: 'ceo@globex.example', name: 'Hank Scorpio' },
    members: [],
    projects: [
      {
        slug: 'doomsday-device',
        name: 'Doomsday Device',
        description: 'Strictly confidential',
        repoUrl: null,
        techStack: ['python'],
        files: { 'PLAN.md': 'Confidential: tenant isolation keeps this from Acme.\n' },
        state: { phase: 'agent_working', openTasks: 7 },
      },
    ],
  },
];

export interface DemoSeedResult {
  created: boolean;
  tenants: string[];
  /** Demo login passwords, printed once; only their hashes are stored. */
  credentials: Array<{ email: string; password: string }>;
}

/**
 * Creates two demo companies with owners, members, projects, files and agent state. Does nothing
 * (created: false) when the first demo tenant already exists, so it is safe to run twice.
 */
export async function seedDemo(store: Store): Promise<DemoSeedResult> {
  const existing = await store.asService({ actor: 'cli:db seed --demo' }, (svc) =>
    svc.query<{ id: string }>('SELECT id FROM tenants WHERE slug = $1 AND deleted_at IS NULL', [
      DEMO_TENANTS[0]?.slug,
    ]),
  );
  if (existing.length > 0) return { created: false, tenants: [], credentials: [] };

  const credentials: DemoSeedResult['credentials'] = [];
  const tenantIds: string[] = [];
  for (const demo of DEMO_TENANTS) {
    const { tenantId, ownerId } = await store.asService({ actor: 'cli:db seed --demo' }, async (svc) => {
      const tenant = await svc.tenants.create({
        slug: demo.slug,
        name: demo.name,
        plan: demo.plan,
        status: 'active',
      });
      const password = randomBytes(9).toString('base64url');
      const owner = await svc.users.create({ ...demo.owner, password });
      credentials.push({ email: owner.email, password });
      await svc.memberships.create(tenant.id, { userId: owner.id, role: 'owner' });
      for (const member of demo.members) {
        const user = await svc.users.create({ email: member.email, name: member.name });
        await svc.memberships.create(tenant.id, { userId: user.id, role: member.role });
      }
      return { tenantId: tenant.id, ownerId: owner.id };
    });
    tenantIds.push(tenantId);
    // The owner (the human CEO) sets up the projects, so the audit trail names a real actor.
    await store.withTenant({ tenantId, actor: { type: 'user', id: ownerId } }, async (tx) => {
      for (const spec of demo.projects) {
        const project = await tx.projects.create({
          slug: spec.slug,
          name: spec.name,
          description: spec.description,
          repoUrl: spec.repoUrl,
          techStack: spec.techStack,
        });
        for (const [path, content] of Object.entries(spec.files)) {
          await tx.projectFiles.upsert({ projectId: project.id, path, content });
        }
        await tx.agentStates.save({ projectId: project.id, state: spec.state, expectedVersion: null });
      }
    });
  }
  return { created: true, tenants: DEMO_TENANTS.map((t) => t.slug), credentials };
}
