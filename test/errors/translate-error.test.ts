import { expect, it } from 'vitest';
import { ConflictError, DatabaseError, translateError, ValidationError } from '../../src/index.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';

// Scratch tables live only inside the owner's transaction, which rolls back with the failing statement.
const SCRATCH = `
  CREATE TABLE scratch_parent (id int PRIMARY KEY);
  CREATE TABLE scratch_child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES scratch_parent (id));
  INSERT INTO scratch_parent VALUES (1);
  INSERT INTO scratch_child VALUES (1, 1);`;

/** Runs `statement` as the owner after creating the scratch tables and returns what translateError makes of its failure. */
async function translatedFailure(h: EngineHarness, statement: string): Promise<unknown> {
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
  expect((error as DatabaseError).kind).toBe('foreign_key_violation');
  return translateError(error);
}

describeEachEngine('translateError on foreign-key violations', (h) => {
  it('maps a delete blocked by referencing rows to ConflictError', async () => {
    const translated = await translatedFailure(h, 'DELETE FROM scratch_parent WHERE id = 1');
    expect(translated).toBeInstanceOf(ConflictError);
    expect((translated as ConflictError).message).toMatch(/still referenced by other rows/);
  });

  it('maps a reference to a missing row to ValidationError', async () => {
    const translated = await translatedFailure(h, 'INSERT INTO scratch_child VALUES (2, 42)');
    expect(translated).toBeInstanceOf(ValidationError);
    expect((translated as ValidationError).message).toMatch(/references a row that does not exist/);
  });
});
