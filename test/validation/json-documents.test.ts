import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type TenantTx, ValidationError } from '../../src/index.ts';
import {
  JSON_DOCUMENT_MAX_BYTES,
  JSON_DOCUMENT_MAX_DEPTH,
  jsonObjectSchema,
  parseInput,
} from '../../src/shared/validation.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, createTenant, type TenantFixture, uniqueSlug } from '../harness/fixtures.ts';

// Values JSON cannot hold are the point of this suite; this lets them through the compiler.
const anyValue = <T>(value: unknown) => value as T;

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

function selfReferencing(): Record<string, unknown> {
  const document: Record<string, unknown> = { a: 1 };
  document.self = document;
  return document;
}

function cycleThroughArray(): Record<string, unknown> {
  const document: Record<string, unknown> = { list: [] };
  (document.list as unknown[]).push({ back: document });
  return document;
}

/** Objects nested `depth` deep, the root included. */
function nested(depth: number): Record<string, unknown> {
  let document: Record<string, unknown> = { leaf: true };
  for (let level = 1; level < depth; level++) document = { next: document };
  return document;
}

const bytesOf = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

/**
 * A document of exactly `bytes` bytes as JSON: a padding string plus values whose escaping and
 * UTF-8 widths the size check must count as JSON.stringify writes them.
 */
function documentOfBytes(bytes: number): Record<string, unknown> {
  const document = {
    mixed: ['quote " backslash \\ tab \t nul-free \u0001', 'é中😀', 1.5e-7, true, null, {}],
    pad: '',
  };
  document.pad = 'x'.repeat(bytes - bytesOf(document));
  return document;
}

/** Each refused value, where it sits, and words the error must use. */
const refused: Array<[name: string, document: unknown, path: string, says: string]> = [
  ['a BigInt', { a: 1n }, 'a', 'BigInt'],
  ['a nested BigInt', { outer: { list: [1, 2n] } }, 'outer.list.1', 'BigInt'],
  ['a self-referencing object', selfReferencing(), 'self', 'cycle'],
  ['a cycle through an array', cycleThroughArray(), 'list.0.back', 'cycle'],
  ['a function', { f: () => 1 }, 'f', 'function'],
  ['an undefined value', { u: undefined, kept: 1 }, 'u', 'undefined'],
  ['a hole in an array', { list: new Array<number>(2) }, 'list.0', 'undefined'],
  ['NaN', { n: Number.NaN }, 'n', 'NaN'],
  ['Infinity', { n: Number.POSITIVE_INFINITY }, 'n', 'Infinity'],
  ['-Infinity', { n: Number.NEGATIVE_INFINITY }, 'n', 'Infinity'],
  ['a Date', { at: new Date(0) }, 'at', 'Date'],
  ['a Map', { m: new Map([['k', 1]]) }, 'm', 'Map'],
  ['a Set', { s: new Set([1]) }, 's', 'Set'],
  ['a class instance', { p: new Point(1, 2) }, 'p', 'Point'],
  ['a typed array', { bytes: new Uint8Array([1]) }, 'bytes', 'Uint8Array'],
  ['a symbol value', { s: Symbol('s') }, 's', 'symbol'],
  ['a symbol key', { [Symbol('k')]: 1, kept: 1 }, '', 'symbol'],
  ['an unpaired surrogate in a value', { s: 'a\ud800b' }, 's', 'surrogate'],
  ['an unpaired surrogate in a key', { '\udc00': 1 }, '\udc00', 'surrogate'],
  [
    'an object without a prototype',
    { o: Object.assign(Object.create(null), { a: 1 }) },
    'o',
    'without a prototype',
  ],
  ['a Date as the document', new Date(0), '', 'JSON object'],
  ['an array as the document', [1], '', 'JSON object'],
  [
    `nesting ${JSON_DOCUMENT_MAX_DEPTH + 1} deep`,
    nested(JSON_DOCUMENT_MAX_DEPTH + 1),
    `${'next.'.repeat(JSON_DOCUMENT_MAX_DEPTH - 1)}next`,
    `${JSON_DOCUMENT_MAX_DEPTH} deep`,
  ],
  [
    'a document 1 byte over the cap',
    documentOfBytes(JSON_DOCUMENT_MAX_BYTES + 1),
    '',
    `${JSON_DOCUMENT_MAX_BYTES} bytes (1 MiB)`,
  ],
];

/** Plain JSON that must be stored and read back exactly. */
const accepted: Array<[name: string, document: Record<string, unknown>]> = [
  [
    'a nested document of every JSON type',
    {
      text: 'héllo "world" \\ \n 中文 😀',
      numbers: [0, -1, 3.25, 1e21, 0.1 + 0.2, Number.MAX_SAFE_INTEGER, -1.5e-300],
      flags: { yes: true, no: false, nothing: null },
      empty: { object: {}, array: [], string: '' },
      matrix: [
        [1, 2],
        [3, [4, { deep: ['x'] }]],
      ],
    },
  ],
  ['a __proto__ key (kept as data, not dropped)', JSON.parse('{"__proto__": {"polluted": true}, "a": 1}')],
  [
    'the same object twice (shared, not a cycle)',
    (() => {
      const shared = { v: 1 };
      return { a: shared, b: [shared, shared] };
    })(),
  ],
  [`nesting ${JSON_DOCUMENT_MAX_DEPTH} deep`, nested(JSON_DOCUMENT_MAX_DEPTH)],
  ['a document of exactly the cap', documentOfBytes(JSON_DOCUMENT_MAX_BYTES)],
];

describe('jsonObjectSchema', () => {
  it('sizes documents exactly as JSON.stringify writes them', () => {
    expect(bytesOf(documentOfBytes(JSON_DOCUMENT_MAX_BYTES))).toBe(JSON_DOCUMENT_MAX_BYTES);
    expect(jsonObjectSchema.safeParse(documentOfBytes(JSON_DOCUMENT_MAX_BYTES)).success).toBe(true);
    expect(jsonObjectSchema.safeParse(documentOfBytes(JSON_DOCUMENT_MAX_BYTES + 1)).success).toBe(false);
  });

  it('returns the document itself, unchanged', () => {
    const document = JSON.parse('{"__proto__": {"x": 1}}');
    expect(parseInput(jsonObjectSchema, document, 'document')).toBe(document);
  });

  it('refuses a far deeper document without overflowing the stack', () => {
    const error = caughtSync(() => parseInput(jsonObjectSchema, nested(100_000), 'document'));
    expect(error).toBeInstanceOf(ValidationError);
  });
});

describe('parseInput', () => {
  it('reports a cycle in a field no schema bounds as a ValidationError, not a stack overflow', () => {
    const error = caughtSync(() =>
      parseInput(z.object({ anything: z.unknown() }), { anything: selfReferencing() }, 'input'),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { path: 'anything.self', message: expect.stringContaining('cycle') },
    ]);
  });
});

function caughtSync(run: () => unknown): unknown {
  try {
    run();
    return undefined;
  } catch (error) {
    return error;
  }
}

describeEachEngine('JSON documents', (h) => {
  let f: TenantFixture;
  let projectId: string;
  const t = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);

  /** What a refused write must leave as it was. */
  async function snapshot(): Promise<unknown> {
    return h.asOwner((c) =>
      c.query(
        `SELECT (SELECT count(*)::int FROM projects) AS projects,
                (SELECT count(*)::int FROM agent_states) AS agent_states,
                (SELECT count(*)::int FROM audit_logs) AS audit_logs,
                (SELECT json_agg(config ORDER BY id)::text FROM projects) AS configs,
                (SELECT json_agg(quality_metrics ORDER BY id)::text FROM projects) AS metrics,
                (SELECT json_agg(state ORDER BY project_id)::text FROM agent_states) AS states,
                (SELECT json_agg(settings ORDER BY id)::text FROM tenants) AS settings`,
      ),
    );
  }

  beforeAll(async () => {
    f = await createTenant(h.store);
    projectId = await t(async (tx) => {
      const project = await tx.projects.create({ slug: 'target', name: 'Target', config: { kept: 1 } });
      await tx.agentStates.save({ projectId: project.id, state: { step: 1 }, expectedVersion: null });
      return project.id;
    });
  });

  const writes: Array<[name: string, field: string, write: (document: unknown) => Promise<unknown>]> = [
    [
      'project config (create)',
      'config',
      (document) =>
        t((tx) => tx.projects.create({ slug: uniqueSlug('p'), name: 'P', config: anyValue(document) })),
    ],
    [
      'project qualityMetrics (update)',
      'qualityMetrics',
      (document) => t((tx) => tx.projects.update(projectId, { qualityMetrics: anyValue(document) })),
    ],
    [
      'agent state (save)',
      'state',
      (document) =>
        t((tx) => tx.agentStates.save({ projectId, state: anyValue(document), expectedVersion: 1 })),
    ],
    ['tenant settings (update)', '', (document) => t((tx) => tx.tenants.updateSettings(anyValue(document)))],
  ];

  for (const [where, field, write] of writes) {
    describe(`refused in ${where}`, () => {
      for (const [name, document, path, says] of refused) {
        it(`refuses ${name}`, async () => {
          const before = await snapshot();
          const error = await caught(write(document));
          expect(error, 'should have been rejected').toBeInstanceOf(ValidationError);
          const expectedPath = [field, path].filter(Boolean).join('.') || '(input)';
          const { issues, message } = error as ValidationError;
          expect(issues).toEqual([{ path: expectedPath, message: expect.stringContaining(says) }]);
          expect(message).toContain(`${expectedPath}: `);
          expect(await snapshot()).toEqual(before);
        });
      }
    });
  }

  describe('stored and read back exactly', () => {
    for (const [name, document] of accepted) {
      it(`project config: ${name}`, async () => {
        const expected = JSON.parse(JSON.stringify(document));
        const created = await t((tx) =>
          tx.projects.create({ slug: uniqueSlug('ok'), name: 'Ok', config: document }),
        );
        expect(created.config).toEqual(expected);
        const read = await t((tx) => tx.projects.get(created.id));
        expect(read.config).toEqual(expected);
        expect(JSON.stringify(sortKeys(read.config))).toBe(JSON.stringify(sortKeys(expected)));
      });
    }

    it('agent state: a nested document', async () => {
      const state = {
        plan: {
          steps: [
            { id: 1, done: true },
            { id: 2, done: false, notes: null },
          ],
        },
        ratio: 0.75,
      };
      const saved = await t((tx) => tx.agentStates.save({ projectId, state, expectedVersion: 1 }));
      expect(saved.state).toEqual(state);
      expect((await t((tx) => tx.agentStates.get(projectId))).state).toEqual(state);
    });
  });
});

/** jsonb orders keys its own way; compare documents with keys sorted. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}
