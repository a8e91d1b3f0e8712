import { describe, expect, it } from 'vitest';
import { escapeGlob, globToRegExp } from '../../src/coordination/glob.ts';

describe('Redis glob patterns (memory adapter matching, SCAN prefix escaping)', () => {
  it.each([
    ['user:*', 'user:1', true],
    ['user:*', 'user:', true],
    ['user:*', 'org:1', false],
    ['user:?', 'user:12', false],
    ['h?llo', 'hallo', true],
    ['h[ae]llo', 'hello', true],
    ['h[ae]llo', 'hillo', false],
    ['h[^e]llo', 'hallo', true],
    ['h[^e]llo', 'hello', false],
    ['h[a-c]llo', 'hbllo', true],
    ['h[a-c]llo', 'hdllo', false],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['a.b(c)+', 'a.b(c)+', true],
    ['a.b', 'axb', false],
    ['multi\nline*', 'multi\nline\nend', true],
  ])('%j matches %j: %s', (glob, text, expected) => {
    expect(globToRegExp(glob).test(text)).toBe(expected);
  });

  it('escapeGlob makes any literal match only itself', () => {
    const literal = 'pre*fix?[x]\\:';
    const pattern = globToRegExp(`${escapeGlob(literal)}*`);
    expect(pattern.test(`${literal}anything`)).toBe(true);
    expect(pattern.test('preXfix?[x]\\:anything')).toBe(false);
  });
});
