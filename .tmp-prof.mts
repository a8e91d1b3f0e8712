import { openStore } from '/work/main/src/index.ts';
const store = await openStore({ url: 'postgres://postgres@127.0.0.1:5432/prof_tl', migrate: true });
const { tenant, owner } = await store.asService({ actor: 'p' }, async (svc) => {
  const tenant = await svc.tenants.create({ slug: 'p', name: 'P', status: 'active' });
  const owner = await svc.users.create({ email: 'o@p.test', name: 'O' });
  await svc.memberships.create(tenant.id, { userId: owner.id, role: 'owner' });
  return { tenant, owner };
});
const ctx = { tenantId: tenant.id, actor: { type: 'user' as const, id: owner.id } };
const { projectId, agents } = await store.withTenant(ctx, async (tx) => {
  const p = await tx.projects.create({ slug: 'x', name: 'X' });
  const agents: string[] = [];
  for (let i = 0; i < 10; i++) agents.push((await tx.agents.create({ code: `a${i}`, name: `A${i}`, type: 'backend_dev', roleTitle: 'Dev', projectId: p.id })).id);
  return { projectId: p.id, agents };
});
const batch = () => Array.from({ length: 1000 }, (_, i) => ({ type: 'advice_given' as const, projectId, authorId: agents[0], payload: { message: `batch ${i}` }, mentions: i % 3 === 0 ? [agents[(i % 9) + 1]!] : [] }));
const times: number[] = [];
for (let r = 0; r < 15; r++) { const input = batch(); const t = performance.now(); await store.withTenant(ctx, (tx) => tx.events.appendBatch(input)); times.push(performance.now() - t); }
times.sort((a, b) => a - b); console.log('median ms', times[7]!.toFixed(1));
console.log(tenant.id, projectId, agents[0]);
await store.close();
