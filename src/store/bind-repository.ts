import { translateError } from '../errors/index.ts';

/** Repository functions of one kind of unit of work: `fn(tx, …args)`. */
// biome-ignore lint/suspicious/noExplicitAny: repository functions have arbitrary argument lists.
export type Repository<Tx> = Record<string, (tx: Tx, ...args: any[]) => Promise<unknown>>;

export type BoundRepository<Repository> = {
  [Name in keyof Repository]: Repository[Name] extends (tx: never, ...args: infer Args) => infer Result
    ? (...args: Args) => Result
    : never;
};

const boundByTx = new WeakMap<object, Map<object, unknown>>();
const repositoryViews = new WeakMap<object, object>();

/** Repositories bound to `tx` run on `view`, the same unit of work seen from the library (see Store). */
export function runRepositoriesOn<Tx extends object>(tx: Tx, view: Tx): void {
  repositoryViews.set(tx, view);
}

/**
 * Turns `fn(tx, …args)` repository functions into `tx.repo.fn(…args)` methods, and maps database
 * failures to domain errors (ConflictError, ValidationError…) at this one boundary.
 */
export function bindRepository<Tx extends object, Functions extends Repository<Tx>>(
  repository: Functions,
  tx: Tx,
): BoundRepository<Functions> {
  // Bound once per unit of work, not on every `tx.projects` access: loops call them many times.
  let ofTx = boundByTx.get(tx);
  if (!ofTx) {
    ofTx = new Map();
    boundByTx.set(tx, ofTx);
  }
  const cached = ofTx.get(repository);
  if (cached) return cached as BoundRepository<Functions>;
  const target = (repositoryViews.get(tx) ?? tx) as Tx;
  const bound: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const [name, fn] of Object.entries(repository)) {
    bound[name] = async (...args: unknown[]) => {
      try {
        return await fn(target, ...args);
      } catch (error) {
        throw translateError(error);
      }
    };
  }
  ofTx.set(repository, bound);
  return bound as BoundRepository<Functions>;
}
