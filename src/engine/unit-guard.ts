import { UsageError } from '../errors/index.ts';

/**
 * Clears what SQL of the caller's choosing can leave on a connection past its transaction, in one
 * simple-protocol message (several statements, no parameters). Sent before COMMIT or ROLLBACK, inside
 * the transaction, so that through PgBouncer in transaction mode it reaches the same server
 * connection; after the transaction when that failed (an aborted transaction refuses it).
 * Session advisory locks, SQL-level PREPAREd statements (the driver's protocol-level ones are kept),
 * cursors WITH HOLD, LISTEN, sequence values (lastval), temporary objects, session settings
 * (set_config(…, false), SET inside DO), the session role and authorization.
 */
export const SESSION_RESET = `SELECT pg_catalog.pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; DISCARD SEQUENCES; DISCARD TEMP;
SET SESSION AUTHORIZATION DEFAULT; RESET ALL;
DO $$DECLARE name text; BEGIN FOR name IN SELECT p.name FROM pg_catalog.pg_prepared_statements p WHERE p.from_sql
LOOP EXECUTE pg_catalog.format('DEALLOCATE %I', name); END LOOP; END$$`;

const WORD = /[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*|"(?:[^"]|"")*"/y;
const SPACE = /[ \t\n\r\f\v]+/y;

/**
 * The first `count` words of a statement, lower-cased, past whitespace and comments (`--` and
 * nested `/* *\/`); stops at the first token that is not a word. A quoted identifier reads as `"`.
 */
function leadingWords(text: string, count: number): string[] {
  const words: string[] = [];
  let at = 0;
  while (words.length < count && at < text.length) {
    SPACE.lastIndex = at;
    if (SPACE.test(text)) {
      at = SPACE.lastIndex;
      continue;
    }
    if (text.startsWith('--', at)) {
      const end = text.indexOf('\n', at);
      at = end < 0 ? text.length : end + 1;
      continue;
    }
    if (text.startsWith('/*', at)) {
      let depth = 0;
      do {
        if (text.startsWith('/*', at)) {
          depth++;
          at += 2;
        } else if (text.startsWith('*/', at)) {
          depth--;
          at += 2;
        } else at++;
      } while (depth > 0 && at < text.length);
      continue;
    }
    WORD.lastIndex = at;
    const match = WORD.exec(text);
    if (!match) break;
    words.push(match[0].startsWith('"') ? '"' : match[0].toLowerCase());
    at = WORD.lastIndex;
  }
  return words;
}

/** The first word when the text starts with one (the usual case, read without regular expressions). */
function keywordAtStart(text: string): string | undefined {
  let end = 0;
  for (; end < text.length; end++) {
    const lower = text.charCodeAt(end) | 0x20;
    if (lower < 0x61 || lower > 0x7a) break;
  }
  if (end === 0 || /[\w$\u0080-\uffff]/.test(text[end] ?? '')) return undefined;
  return text.slice(0, end).toLowerCase();
}

const ENDS_UNIT =
  'the unit of work commits when its callback resolves and rolls back when it throws (savepoints are allowed)';
const OUTLIVES_UNIT = 'it would outlive the unit of work on its pooled connection';

/**
 * The work resolved, but a statement of it had failed and the work caught the error: the
 * transaction was aborted, so its COMMIT rolled back. Reported on every engine, never as success.
 */
export function abortedUnitError(): UsageError {
  return new UsageError(
    "the unit of work's transaction was aborted by a failed statement whose error the work caught; " +
      'nothing was committed. Let the error propagate, or roll back to a savepoint before going on',
  );
}

/**
 * Why a unit of work may not run `text`, or undefined. Refused: statements that end or open a
 * transaction behind the unit's back, and statements whose effect outlives the transaction
 * (session-level SET/RESET, PREPARE, DEALLOCATE, DISCARD, LISTEN, DECLARE … WITH HOLD).
 * SET LOCAL, SET TRANSACTION, SET CONSTRAINTS, SAVEPOINT, RELEASE and ROLLBACK TO stay allowed.
 */
export function refusalOf(text: string): string | undefined {
  const first = keywordAtStart(text) ?? leadingWords(text, 1)[0];
  switch (first) {
    case 'begin':
    case 'start':
    case 'commit':
    case 'end':
    case 'abort':
    case 'prepare':
      return `${first.toUpperCase()} cannot run inside a unit of work: ${ENDS_UNIT}${first === 'prepare' ? `, and a prepared statement ${OUTLIVES_UNIT}` : ''}`;
    case 'rollback': {
      const [, second, third] = leadingWords(text, 3);
      if (second === 'to' || ((second === 'work' || second === 'transaction') && third === 'to'))
        return undefined;
      return `ROLLBACK cannot run inside a unit of work (ROLLBACK TO SAVEPOINT can): ${ENDS_UNIT}`;
    }
    case 'set': {
      const [, second] = leadingWords(text, 2);
      if (second === 'local' || second === 'transaction' || second === 'constraints') return undefined;
      return `SET without LOCAL cannot run inside a unit of work: ${OUTLIVES_UNIT}; use SET LOCAL or set_config(…, true)`;
    }
    case 'reset':
      return `RESET cannot run inside a unit of work: ${OUTLIVES_UNIT}; use SET LOCAL … TO DEFAULT`;
    case 'deallocate':
    case 'discard':
    case 'listen':
      return `${first.toUpperCase()} cannot run inside a unit of work: ${OUTLIVES_UNIT}`;
    case 'declare': {
      // DECLARE name [BINARY] [ASENSITIVE | INSENSITIVE] [[NO] SCROLL] CURSOR [WITH | WITHOUT HOLD] FOR
      const words = leadingWords(text, 9);
      const hold = words.findIndex((word, i) => word === 'hold' && words[i - 1] === 'with');
      const body = words.indexOf('for');
      if (hold < 0 || (body >= 0 && body < hold)) return undefined;
      return `a cursor WITH HOLD cannot be declared inside a unit of work: ${OUTLIVES_UNIT}`;
    }
    default:
      return undefined;
  }
}

/**
 * Stands between one transaction's work and its driver client, on both engines. Every statement
 * the work sends passes `send`, which refuses, before anything reaches the server: any statement
 * once the work has settled (a `tx` kept past its unit would otherwise run on a pooled connection
 * that by then serves another unit), statements `refusalOf` names, and a second statement in a
 * single-statement unit. It also records whether the work ran SQL the library did not write, so
 * the engine knows to send SESSION_RESET.
 */
export class UnitGuard {
  private open = true;
  private sent = 0;
  private callerSql = false;

  /** `afterSingle`: given, the unit is single-statement, and it receives the first statement once sent. */
  constructor(private readonly afterSingle?: (statement: unknown) => void) {}

  /** Throws UsageError once the work has settled. */
  assertOpen(): void {
    if (!this.open)
      throw new UsageError(
        'this unit of work has ended: its tx cannot run statements any more (await every statement inside the callback)',
      );
  }

  /** Runs `sendIt`, which sends `text` to the server, once nothing above refuses it. */
  send<Result>(text: string, sendIt: () => Result): Result {
    this.assertOpen();
    const refusal = refusalOf(text);
    if (refusal) throw new UsageError(refusal);
    if (this.afterSingle && this.sent > 0)
      throw new UsageError(
        'a single-statement unit of work ran a second statement: drop { singleStatement: true } for this work',
      );
    this.sent++;
    const result = sendIt();
    this.afterSingle?.(result);
    return result;
  }

  /** Refuses a transaction inside the unit's own, where the driver would commit it apart from the unit. */
  refuseNestedTransaction(): never {
    throw new UsageError(
      'a unit of work is already one transaction: use SAVEPOINT / ROLLBACK TO SAVEPOINT through tx.query instead',
    );
  }

  markCallerSql(): void {
    this.callerSql = true;
  }

  get ranCallerSql(): boolean {
    return this.callerSql;
  }

  /** The work has settled: from now on every statement is refused. */
  close(): void {
    this.open = false;
  }
}
