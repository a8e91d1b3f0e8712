import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repository = join(import.meta.dirname, '..', '..');
const git = (...args: string[]) => run('git', args, { cwd: repository, maxBuffer: 16 * 1024 * 1024 });
const isCheckout = await git('rev-parse', '--git-dir').then(
  () => true,
  () => false,
);

describe('line endings', () => {
  // Migration checksums cover the bytes: a CRLF checkout (core.autocrlf=true) must not change them.
  it.skipIf(!isCheckout)(
    'checks every tracked text file out with LF, whatever core.autocrlf says',
    async () => {
      const files = (await git('ls-files', '-z')).stdout.split('\0').filter(Boolean);
      const { stdout } = await git('check-attr', 'eol', '--', ...files);
      const notLf = stdout.split('\n').filter((line) => line && !line.endsWith(': eol: lf'));
      expect(files.some((file) => file.endsWith('.sql'))).toBe(true);
      expect(notLf).toEqual([]);
    },
  );
});
