import { randomBytes } from 'node:crypto';
import type { AgentType, CreateAgentInput } from '../agents/index.ts';
import type { Store } from '../store/store.ts';
import type { TenantTx } from '../store/unit-of-work.ts';
import { seedKnowledge } from './demo-knowledge.ts';
import { seedWork } from './demo-work.ts';

interface DemoAgent {
  code: string;
  type: AgentType;
  name: string;
  roleTitle: string;
  /** The project's slug, or null for an organization agent. */
  project: string | null;
  capabilities: string[];
  status?: CreateAgentInput['status'];
}

function agent(
  code: string,
  type: AgentType,
  name: string,
  roleTitle: string,
  project: string | null,
  capabilities: string[],
): DemoAgent {
  return { code, type, name, roleTitle, project, capabilities };
}

/** Each agent's demo model: the orchestrators on the larger one. */
const modelOf = (spec: DemoAgent) =>
  spec.type === 'orchestrator'
    ? { modelProvider: 'anthropic', modelName: 'claude-opus-4' }
    : { modelProvider: 'openai', modelName: 'gpt-5-mini' };

export const DEMO_TENANTS = [
  {
    slug: 'acme-robotics',
    name: 'Acme Robotics',
    plan: 'professional' as const,
    owner: { email: 'ceo@acme-robotics.example', name: 'Ada Lovelace' },
    members: [{ email: 'cto@acme-robotics.example', name: 'Grace Hopper', role: 'admin' as const }],
    agents: [
      agent('orion', 'orchestrator', 'Orion', 'Chief Orchestrator', null, ['planning', 'delegation']),
      agent('atlas', 'architect', 'Atlas', 'Principal Architect', null, ['system-design', 'postgresql']),
      agent('piper', 'project_manager', 'Piper', 'Project Manager', 'warehouse-bot', ['planning', 'github']),
      agent('bolt', 'backend_dev', 'Bolt', 'Senior Backend Developer', 'warehouse-bot', [
        'typescript',
        'redis',
      ]),
      {
        ...agent('tess', 'tester', 'Tess', 'QA Engineer', 'warehouse-bot', ['testing', 'playwright']),
        status: 'probation' as const,
      },
      agent('fern', 'frontend_dev', 'Fern', 'Frontend Developer', 'customer-portal', ['react', 'css']),
      agent('rex', 'reviewer', 'Rex', 'Code Reviewer', 'customer-portal', ['code-review', 'security']),
    ],
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
    agents: [
      agent('cypress', 'orchestrator', 'Cypress', 'Chief Orchestrator', null, ['planning']),
      agent('mortimer', 'backend_dev', 'Mortimer', 'Python Developer', 'doomsday-device', ['python', 'sql']),
      agent('patch', 'bug_fixer', 'Patch', 'Bug Fixer', 'doomsday-device', ['python', 'debugging']),
      {
        ...agent('branch', 'git_agent', 'Branch', 'Release Engineer', 'doomsday-device', ['git']),
        status: 'inactive' as const,
      },
    ],
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
  /** API keys of the demo orchestrators, printed once; only hashes of their secrets are stored. */
  agentKeys: Array<{ tenant: string; agent: string; key: string }>;
}

/**
 * Creates two demo companies with owners, members, projects, files and agent state, and their AI
 * staff: agents with API keys, work sessions, a timeline and KPI history, and each project's work:
 * a backlog with dependencies, claimed and completed tasks, model runs with their cost, and an
 * approval waiting for a human; and its knowledge: lessons, self-reviews, patterns, a wiki with a
 * proposal waiting for approval, and evidence behind a task. Does nothing
 * (created: false) when the first demo tenant already exists, so it is safe to run twice.
 */
export async function seedDemo(store: Store): Promise<DemoSeedResult> {
  const existing = await store.asService({ actor: 'cli:db seed --demo' }, (svc) =>
    svc.query<{ id: string }>('SELECT id FROM tenants WHERE slug = $1 AND deleted_at IS NULL', [
      DEMO_TENANTS[0]?.slug,
    ]),
  );
  if (existing.length > 0) return { created: false, tenants: [], credentials: [], agentKeys: [] };

  const credentials: DemoSeedResult['credentials'] = [];
  const agentKeys: DemoSeedResult['agentKeys'] = [];
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
    const asOwner = { tenantId, actor: { type: 'user' as const, id: ownerId } };
    const projectIds = await store.withTenant(asOwner, async (tx) => {
      const ids = new Map<string, string>();
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
        ids.set(spec.slug, project.id);
      }
      return ids;
    });
    // The CEO hires the AI staff and hands each orchestrator its API key.
    const agentIds = await store.withTenant(asOwner, async (tx) => {
      const ids = new Map<string, string>();
      for (const spec of demo.agents) {
        const created = await tx.agents.create({
          code: spec.code,
          type: spec.type,
          name: spec.name,
          roleTitle: spec.roleTitle,
          projectId: spec.project === null ? null : projectIds.get(spec.project),
          capabilities: spec.capabilities,
          status: spec.status,
          ...modelOf(spec),
        });
        ids.set(spec.code, created.id);
        if (spec.type === 'orchestrator') {
          const { key } = await tx.agentCredentials.issue({ agentId: created.id });
          agentKeys.push({ tenant: demo.slug, agent: spec.code, key: key.reveal() });
        }
      }
      return ids;
    });
    await seedTimeline(store, tenantId, demo, projectIds, agentIds);
    await seedKpis(store, asOwner, demo.agents, agentIds);
    const runs = await seedWork(store, tenantId, ownerId, demo.projects, demo.agents, projectIds, agentIds);
    await seedKnowledge(store, tenantId, ownerId, demo.agents, projectIds, agentIds, runs);
  }
  return { created: true, tenants: DEMO_TENANTS.map((t) => t.slug), credentials, agentKeys };
}

type DemoTenant = (typeof DEMO_TENANTS)[number];

/**
 * A working day of each project's team, each agent acting as itself: a work session with its log,
 * a GitHub issue and pull request, a review, a question answered by an organization agent. The
 * first agent of each project leaves its session open, as an agent still at work would.
 */
async function seedTimeline(
  store: Store,
  tenantId: string,
  demo: DemoTenant,
  projectIds: Map<string, string>,
  agentIds: Map<string, string>,
): Promise<void> {
  const idOf = (code: string) => agentIds.get(code)!;
  const advisor = demo.agents.find((a) => a.project === null && a.type !== 'orchestrator') ?? demo.agents[0]!;
  const asAgent = <T>(code: string, work: (tx: TenantTx) => Promise<T>) =>
    store.withTenant({ tenantId, actor: { type: 'agent', id: idOf(code) } }, work);
  for (const project of demo.projects) {
    const projectId = projectIds.get(project.slug)!;
    const team = demo.agents.filter((a) => a.project === project.slug && a.status !== 'inactive');
    const repository = project.repoUrl?.replace('https://github.com/', '') ?? `${demo.slug}/${project.slug}`;
    for (const [index, member] of team.entries()) {
      const number = 40 + index;
      const question = await asAgent(member.code, async (tx) => {
        const { session } = await tx.workSessions.start({ agentId: idOf(member.code), projectId });
        await tx.events.append({
          type: 'github_issue_assigned',
          projectId,
          payload: {
            repository,
            number,
            title: `${project.name}: ${member.roleTitle.toLowerCase()} work item #${number}`,
            url: `https://github.com/${repository}/issues/${number}`,
            assignee: member.code,
          },
        });
        await tx.workSessions.log(session.id, {
          message: `Picked up issue #${number} in ${project.name}`,
          context: { progress: 10 },
        });
        const asked = await tx.events.append({
          type: 'question_asked',
          projectId,
          mentions: [idOf(advisor.code)],
          payload: { question: `Which conventions apply to #${number} in ${project.name}?` },
        });
        await tx.workSessions.log(session.id, {
          message: `Opened a pull request for #${number}`,
          context: { file: 'src/index.ts', progress: 80 },
        });
        await tx.events.append({
          type: 'github_pr_opened',
          projectId,
          sessionId: session.id,
          payload: {
            repository,
            number: number + 100,
            title: `Fix #${number}`,
            url: `https://github.com/${repository}/pull/${number + 100}`,
            branch: `${member.code}/issue-${number}`,
          },
        });
        if (index > 0) await tx.workSessions.stop(session.id);
        return asked.id;
      });
      await asAgent(advisor.code, (tx) =>
        tx.events.append({
          type: 'advice_given',
          projectId,
          mentions: [idOf(member.code)],
          payload: {
            message: 'Follow the project README and keep migrations reversible.',
            inReplyTo: question,
          },
        }),
      );
    }
  }
  const reporter = demo.agents.find((a) => a.project !== null && a.status !== 'inactive');
  if (reporter) {
    await asAgent(reporter.code, (tx) =>
      tx.events.append({
        type: 'problem_report',
        projectId: projectIds.get(reporter.project!)!,
        mentions: [idOf(demo.agents[0]!.code)],
        payload: { title: 'Flaky integration test on CI', severity: 'medium' },
      }),
    );
  }
}

/**
 * Four weeks of KPI history per agent, recorded by the CEO, then each trust score recomputed from
 * it (formula trust-v1): the database writes the kpi_updated and trust_score_changed events.
 */
async function seedKpis(
  store: Store,
  asOwner: { tenantId: string; actor: { type: 'user'; id: string } },
  agents: readonly DemoAgent[],
  agentIds: Map<string, string>,
): Promise<void> {
  const day = 86_400_000;
  const now = Date.now();
  await store.withTenant(asOwner, async (tx) => {
    for (const [index, spec] of agents.entries()) {
      const agentId = agentIds.get(spec.code)!;
      for (let week = 0; week < 4; week++) {
        // Steady progress, varied per agent; the agent on probation introduces more bugs.
        const bugs = spec.status === 'probation' ? 3 - (week % 2) : (index + week) % 3;
        await tx.kpis.record({
          agentId,
          recordedAt: new Date(now - (28 - 7 * week) * day),
          changeReason: week === 0 ? 'first review' : 'weekly review',
          metrics: {
            tasksCompleted: 3 + week + (index % 4),
            codeQualityScore: Math.min(100, 62 + 5 * week + 3 * (index % 5)),
            featureCompletionRate: Math.min(1, 0.55 + 0.1 * week),
            bugsIntroduced: bugs,
            deploymentFailures: week === 1 && index % 3 === 0 ? 1 : 0,
            averageTaskDuration: 180 - 15 * week,
          },
        });
      }
      await tx.kpis.recomputeTrustScore(agentId);
    }
  });
}
