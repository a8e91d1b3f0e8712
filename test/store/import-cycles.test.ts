import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Relative imports and re-exports of a module, type-only ones included: a circle of types is still a circle. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'(\.[^']+)'/gms))
    found.push(resolve(dirname(file), match[1]!));
  return found;
}

function modulesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(dir, name));
}

/** Every import cycle among the modules under `dir`, each as the list of files around it. */
function importCycles(dir: string): string[][] {
  const root = resolve(dir);
  const graph = new Map(modulesUnder(root).map((file) => [file, importsOf(file)]));
  const cycles: string[][] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (file: string): void => {
    const at = path.indexOf(file);
    if (at >= 0) {
      cycles.push([...path.slice(at), file].map((f) => relative(root, f)));
      return;
    }
    if (done.has(file) || !graph.has(file)) return;
    path.push(file);
    for (const next of graph.get(file) ?? []) visit(next);
    path.pop();
    done.add(file);
  };
  for (const file of graph.keys()) visit(file);
  return cycles;
}

describe('the import graph of src/', () => {
  it('has no cycle, type-only imports included', () => {
    const cycles = importCycles('src');
    expect(cycles.map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('finds a cycle of type-only imports, as the store and the repositories once had', () => {
    const dir = mkdtempSync(join(tmpdir(), 'import-cycles-'));
    try {
      writeFileSync(
        join(dir, 'store.ts'),
        "import type { repo } from './repo.ts';\nexport type Store = typeof repo;\n",
      );
      writeFileSync(
        join(dir, 'repo.ts'),
        "import type {\n  Store,\n} from './store.ts';\nexport const repo = (s: Store) => s;\n",
      );
      writeFileSync(join(dir, 'leaf.ts'), "export { repo } from './repo.ts';\n");
      expect(importCycles(dir)).toEqual([['repo.ts', 'store.ts', 'repo.ts']]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
