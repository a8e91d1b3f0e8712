import { expect, it } from 'vitest';
import { ConflictError, DatabaseError, translateError, ValidationError } from '../../src/index.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';

// Scratch tables live only inside the owner's transaction, which rolls back with the failing statement.
const SCRATCH = `
  CREATE TABLE scratch_parent (id int PRIMARY KEY);
  CREATE TABLE scratch_child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES scratch_parent (id),
                              size int CHECK (size >= 0));
  INSERT INTO scratch_parent VALUES (1);
  INSERT INTO scratch_child VALUES (1, 1, 0);`;

/** Runs `statement` as the owner after creating the scratch tables and returns what translateError makes of its failure. */
async function translatedFailure(
  h: EngineHarness,
  statement: string,
  kind: DatabaseError['kind'] = 'foreign_key_violation',
): Promise<unknown> {
  const error = await h
    .asOwner(async (connection) => {
      await connection.exec(SCRATCH);
      await connection.query(statement);
    })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(DatabaseError);
  expect((error as DatabaseError).kind).toBe(kind);
  return translateError(error);
}

describeEachEngine('translateError on foreign-key violations', (h) => {
  it('maps a delete blocked by referencing rows to ConflictError', async () => {
    const translated = await translatedFailure(h, 'DELETE FROM scratch_parent WHERE id = 1');
    expect(translated).toBeInstanceOf(ConflictError);
    expect((translated as ConflictError).message).toMatch(/still referenced by other rows/);
  });

  it('maps a reference to a missing row to ValidationError', async () => {
    const translated = await translatedFailure(h, 'INSERT INTO scratch_child VALUES (2, 42, 0)');
    expect(translated).toBeInstanceOf(ValidationError);
    expect((translated as ValidationError).message).toMatch(/references a row that does not exist/);
  });
});

describeEachEngine('translateError on values the database refuses', (h) => {
  it('names the column as the issue when the database names it (NOT NULL)', async () => {
    const translated = await translatedFailure(
      h,
      'INSERT INTO scratch_child VALUES (2, NULL, 0)',
      'not_null_violation',
    );
    expect(translated).toBeInstanceOf(ValidationError);
    expect((translated as ValidationError).issues).toEqual([
      { path: 'parent_id', message: expect.stringContaining('parent_id') },
    ]);
  });

  it('lists no issue when it does not (a CHECK), and names the constraint in the message', async () => {
    const translated = await translatedFailure(
      h,
      'INSERT INTO scratch_child VALUES (2, 1, -1)',
      'check_violation',
    );
    expect(translated).toBeInstanceOf(ValidationError);
    expect((translated as ValidationError).issues).toEqual([]);
    expect((translated as ValidationError).message).toContain('(scratch_child_size_check)');
  });
});
