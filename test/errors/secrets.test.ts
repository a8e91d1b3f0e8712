import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { ConflictError, DatabaseError, toDatabaseError, ValidationError } from '../../src/index.ts';
import { REDACTED, Secret } from '../../src/shared/secret.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, uniqueSlug } from '../harness/fixtures.ts';

const PASSWORD = 'correct horse battery staple';

/** The error and each cause below it. */
function chain(error: unknown): unknown[] {
  const links: unknown[] = [];
  for (let link = error; link !== undefined && link !== null; link = (link as { cause?: unknown }).cause)
    links.push(link);
  return links;
}

/** Everything an error shows when logged: inspect with hidden properties, and JSON of every own property of every link. */
function printed(error: unknown): string {
  const json = chain(error).map((link) =>
    JSON.stringify(
      Object.fromEntries(
        Object.getOwnPropertyNames(link).map((key) => [key, (link as Record<string, unknown>)[key]]),
      ),
    ),
  );
  return [inspect(error, { depth: 10, showHidden: true }), ...json, String(error)].join('\n');
}

describeEachEngine('secrets stay out of errors', (h) => {
  it('a duplicate-email signup shows neither the password hash nor the password, down to the driver error', async () => {
    const email = `${uniqueSlug('dup')}@example.test`;
    const signUp = () =>
      h.store.asService({ actor: 'signup' }, (svc) =>
        svc.users.create({ email, name: 'Ada', password: PASSWORD }),
      );
    await signUp();
    const error = await caught(signUp());
    expect(error).toBeInstanceOf(ConflictError);
    const dbError = (error as ConflictError).cause as DatabaseError;
    expect(dbError).toBeInstanceOf(DatabaseError);
    // The parameters are still there for debugging, the hash in them redacted.
    expect(dbError.params).toContain(REDACTED);
    expect(dbError.params).toContain(email);
    const text = printed(error);
    expect(text).toContain('users_email_live_key');
    expect(text).not.toContain('scrypt$');
    expect(text).not.toContain(PASSWORD);
    // The driver's error keeps the statement's parameters (postgres.js: `parameters`, `args`; PGlite: `params`).
    const driverError = dbError.cause as Record<string, unknown>;
    const driverParams = [driverError.parameters, driverError.args, driverError.params].filter(Array.isArray);
    expect(driverParams.length).toBeGreaterThan(0);
    for (const params of driverParams) expect(params).toContain(REDACTED);
  });

  it('a password refused by validation is not in the error', async () => {
    const error = await caught(
      h.store.asService({ actor: 'signup' }, (svc) =>
        svc.users.create({ email: 'not an email', name: 'Ada', password: PASSWORD }),
      ),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(printed(error)).not.toContain(PASSWORD);
  });

  it('still stores the hash and checks the password against it', async () => {
    const email = `${uniqueSlug('login')}@example.test`;
    await h.store.asService({ actor: 'signup' }, (svc) =>
      svc.users.create({ email, name: 'Ada', password: PASSWORD }),
    );
    const [row] = await h.asOwner((c) =>
      c.query<{ hash: string }>('SELECT password_hash AS hash FROM users WHERE email = $1', [email]),
    );
    expect(row?.hash).toMatch(/^scrypt\$/);
    await h.store.asService({ actor: 'login' }, async (svc) => {
      expect(await svc.users.verifyPassword(email, PASSWORD)).toMatchObject({ email });
      expect(await svc.users.verifyPassword(email, 'wrong password')).toBeNull();
    });
  });
});

describe('redaction of a driver error', () => {
  it('replaces a secret in read-only properties with a scrubbed copy keeping the SQLSTATE', () => {
    const hash = 'scrypt$32768$8$1$c2FsdA==$a2V5';
    // postgres.js defines `stack`, `query` and `parameters` read-only on its errors.
    const driverError = Object.assign(new Error(`invalid input syntax for type integer: "${hash}"`), {
      code: '22P02',
      detail: `value ${hash}`,
    });
    Object.defineProperty(driverError, 'stack', { value: `error: ${driverError.message}`, writable: false });
    Object.defineProperty(driverError, 'parameters', { value: [hash, 'x'], writable: false });
    const error = toDatabaseError(driverError, 'UPDATE t SET n = $1 WHERE k = $2', [new Secret(hash), 'x']);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as DatabaseError).kind).toBe('invalid_text_representation');
    expect((error as DatabaseError).params).toEqual([REDACTED, 'x']);
    expect(((error as DatabaseError).cause as { code: string }).code).toBe('22P02');
    expect(printed(error)).not.toContain(hash);
  });

  it('shows a Secret as [redacted] in inspect and JSON, and its text only to a driver converting it', () => {
    const secret = new Secret('s3cret');
    expect(inspect({ secret }, { showHidden: true })).not.toContain('s3cret');
    expect(JSON.stringify({ secret })).toBe(`{"secret":"${REDACTED}"}`);
    expect(`${secret}`).toBe('s3cret');
    expect(secret.reveal()).toBe('s3cret');
  });
});

describe('a malformed DATABASE_URL through the command line', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  async function agentflow(...args: string[]): Promise<{ code: number; err: string }> {
    let err = '';
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      err += String(chunk);
      return true;
    });
    try {
      return { code: await main(['node', 'agentflow', ...args]), err };
    } finally {
      stderr.mockRestore();
    }
  }

  it('is a ConfigurationError with the password redacted, exit code 2 (a # in the password)', async () => {
    vi.stubEnv('DATABASE_URL', 'postgres://app:pa#ss@db.example/app');
    const run = await agentflow('db', 'status');
    expect(run.code).toBe(2);
    expect(run.err).toMatch(
      /^agentflow: DATABASE_URL postgres:\/\/app:\*\*\*@db\.example\/app is not a valid URL.*\[invalid_configuration\]\n$/,
    );
    expect(run.err).not.toContain('pa#ss');
    expect(run.err).not.toContain('#ss');
  });

  it('says the same for --url, and for a malformed percent-encoding', async () => {
    const run = await agentflow('--url', 'postgres://app:p%zz@db.example/app', 'db', 'status');
    expect(run.code).toBe(2);
    expect(run.err).toContain('[invalid_configuration]');
    expect(run.err).not.toContain('p%zz');
  });
});
