import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEntryPoint } from '../../src/cli/main.ts';

describe('the CLI entry-point check', () => {
  let dir: string;
  let script: string;

  beforeAll(async () => {
    // A folder name with a space and a non-ASCII letter, which file URLs percent-encode.
    dir = await mkdtemp(join(tmpdir(), 'agentflow cli é-'));
    script = join(dir, 'main.ts');
    await writeFile(script, '');
    await symlink(script, join(dir, 'linked.ts'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('recognises its own script under a folder whose URL is percent-encoded', () => {
    const url = pathToFileURL(script).href;
    expect(url).toContain('%20');
    expect(isEntryPoint(url, script)).toBe(true);
  });

  it('recognises it when started through a symbolic link', () => {
    expect(isEntryPoint(pathToFileURL(script).href, join(dir, 'linked.ts'))).toBe(true);
  });

  it('is false for another script, a missing path, or none', () => {
    expect(isEntryPoint(pathToFileURL(script).href, join(dir, 'other.ts'))).toBe(false);
    expect(isEntryPoint(pathToFileURL(script).href, undefined)).toBe(false);
  });
});
