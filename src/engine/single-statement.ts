import { UsageError } from '../errors/index.ts';

/**
 * Wraps a driver client for a single-statement unit of work: the first call of one of `methods`
 * runs and then `afterFirst` (which sends COMMIT behind it); any later one is refused with a
 * UsageError before it reaches the server, where it would run after the COMMIT, outside the unit.
 */
export function singleStatementClient<Client extends object>(
  client: Client,
  methods: readonly string[],
  afterFirst: (result: unknown) => void,
): Client {
  let issued = false;
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof property !== 'string' || !methods.includes(property) || typeof value !== 'function')
        return value;
      return (...args: unknown[]) => {
        if (issued)
          throw new UsageError(
            'a single-statement unit of work ran a second statement: drop { singleStatement: true } for this work',
          );
        issued = true;
        const result: unknown = value.apply(target, args);
        afterFirst(result);
        return result;
      };
    },
  });
}
