import { describe, expect, it } from 'vitest';
import { ConflictError, DatabaseError } from '../../src/index.ts';
import { bindRepository } from '../../src/store/bind-repository.ts';

describe('bindRepository', () => {
  const tx = { name: 'tx' };
  const repository = {
    async echo(received: typeof tx, value: number) {
      return { received, value };
    },
    async duplicate(_tx: typeof tx) {
      throw Object.assign(new Error('duplicate key value violates unique constraint "x_key"'), {
        code: '23505',
        constraint_name: 'x_key',
      });
    },
    async bug(_tx: typeof tx) {
      throw new TypeError('a bug in the caller');
    },
  };

  it('passes the unit of work first and binds once per unit of work', async () => {
    const bound = bindRepository(repository, tx);
    expect(await bound.echo(7)).toEqual({ received: tx, value: 7 });
    expect(bindRepository(repository, tx)).toBe(bound);
    expect(bindRepository(repository, { name: 'another tx' })).not.toBe(bound);
  });

  it('maps driver errors to domain errors, keeping the database error as cause', async () => {
    const error = await bindRepository(repository, tx)
      .duplicate()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).cause).toBeInstanceOf(DatabaseError);
    expect(((error as ConflictError).cause as DatabaseError).constraint).toBe('x_key');
  });

  it('lets errors that did not come from the database through untouched', async () => {
    await expect(bindRepository(repository, tx).bug()).rejects.toBeInstanceOf(TypeError);
  });
});
