import { expect, it } from 'vitest';
import { ConflictError, UsageError } from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, createTenant, ownerCount } from '../harness/fixtures.ts';

describeEachEngine('a unit of work whose statement failed', (h) => {
  it('does not report success when the work caught the failure and resolved: nothing was committed', async () => {
    const f = await createTenant(h.store);
    await h.store.withTenant(f.context, (tx) => tx.projects.create({ slug: 'taken', name: 'Taken' }));
    const error = await caught(
      h.store.withTenant(f.context, async (tx) => {
        await tx.projects.create({ slug: 'kept', name: 'Kept?' });
        // The duplicate aborts the transaction; the work swallows the error and carries on.
        await tx.projects.create({ slug: 'taken', name: 'Again' }).catch(() => {});
        return 'done';
      }),
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/aborted.*nothing was committed/);
    expect(await ownerCount(h, 'projects WHERE tenant_id = $1 AND slug = $2', [f.tenant.id, 'kept'])).toBe(0);
  });

  it('commits when the work recovered with a savepoint', async () => {
    const f = await createTenant(h.store);
    await h.store.withTenant(f.context, (tx) => tx.projects.create({ slug: 'taken', name: 'Taken' }));
    await h.store.withTenant(f.context, async (tx) => {
      await tx.projects.create({ slug: 'kept', name: 'Kept' });
      await tx.query('SAVEPOINT attempt');
      const duplicate = await caught(tx.projects.create({ slug: 'taken', name: 'Again' }));
      expect(duplicate).toBeInstanceOf(ConflictError);
      await tx.query('ROLLBACK TO SAVEPOINT attempt');
    });
    expect(await ownerCount(h, 'projects WHERE tenant_id = $1 AND slug = $2', [f.tenant.id, 'kept'])).toBe(1);
  });
});
