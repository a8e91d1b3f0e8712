import type { Connection } from '../../src/engine/engine.ts';

/**
 * What a migration can change in one database, read from pg_catalog, as sorted lines per section so
 * that two snapshots compare with `toEqual` and a difference reads as a list of objects.
 * Nothing here depends on OIDs, so snapshots of two databases of the same server compare too.
 */
export type CatalogSnapshot = Record<string, string[]>;

// Every schema a migration may touch: everything but the system's own.
const USER_SCHEMA = `nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp%'`;

/** An ACL as sorted `grantee:privilege[*]` items (`*` = with grant option; PUBLIC for grantee 0). */
const aclItems = (acl: string) => `(
  SELECT coalesce(string_agg(item, ' ' ORDER BY item), '-')
    FROM (SELECT coalesce((SELECT rolname FROM pg_roles WHERE oid = a.grantee), 'PUBLIC') || ':' || a.privilege_type
                 || CASE WHEN a.is_grantable THEN '*' ELSE '' END AS item
            FROM aclexplode(${acl}) AS a) AS items)`;

const SECTIONS: Record<string, string> = {
  // The database's own privileges (migration 5 takes TEMPORARY from PUBLIC); a NULL acl compared as the default's.
  database: `
    SELECT 'database owner=' || pg_get_userbyid(datdba) || ' acl=' || ${aclItems("coalesce(datacl, acldefault('d', datdba))")} AS line
      FROM pg_database WHERE datname = current_database()`,
  schemas: `
    SELECT nspname || ' owner=' || pg_get_userbyid(nspowner) || ' acl=' || ${aclItems('n.nspacl')} AS line
      FROM pg_namespace n WHERE ${USER_SCHEMA}`,
  extensions: `SELECT extname || ' ' || extversion AS line FROM pg_extension`,
  relations: `
    SELECT n.nspname || '.' || c.relname || ' kind=' || c.relkind::text || ' owner=' || pg_get_userbyid(c.relowner)
           || ' rls=' || c.relrowsecurity || ' force_rls=' || c.relforcerowsecurity
           || ' acl=' || ${aclItems('c.relacl')} AS line
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE ${USER_SCHEMA} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')`,
  columns: `
    -- The position among live columns, not attnum: a column dropped and added again (the history's
    -- down_checksum, on rollback and re-apply) takes a new attnum but the same place.
    SELECT n.nspname || '.' || c.relname || '.' || a.attname || ' #'
           || row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum)
           || ' ' || format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE ' NULL' END
           || coalesce(' default=' || CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END, '')
           || coalesce(' generated=' || CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END, '')
           || CASE WHEN a.attidentity <> '' THEN ' identity=' || a.attidentity::text ELSE '' END
           || CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                   THEN ' collate=' || (SELECT collname FROM pg_collation WHERE oid = a.attcollation) ELSE '' END
           || ' acl=' || ${aclItems('a.attacl')} AS line
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE ${USER_SCHEMA} AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped`,
  constraints: `
    SELECT n.nspname || '.' || c.relname || ' ' || k.conname || ': ' || pg_get_constraintdef(k.oid)
           || CASE WHEN k.condeferrable THEN ' deferrable' ELSE '' END AS line
      FROM pg_constraint k
      JOIN pg_class c ON c.oid = k.conrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE ${USER_SCHEMA}`,
  indexes: `
    SELECT schemaname || '.' || tablename || ' ' || indexname || ': ' || indexdef AS line
      FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
  policies: `
    SELECT schemaname || '.' || tablename || ' ' || policyname || ' ' || permissive || ' ' || cmd
           || ' to=' || array_to_string(roles, ',')
           || ' using=' || coalesce(qual, '-') || ' check=' || coalesce(with_check, '-') AS line
      FROM pg_policies`,
  triggers: `
    SELECT n.nspname || '.' || c.relname || ' ' || pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text AS line
      FROM pg_trigger t
      JOIN pg_class c ON c.oid = t.tgrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE NOT t.tgisinternal AND ${USER_SCHEMA}`,
  functions: `
    SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
           || ' owner=' || pg_get_userbyid(p.proowner)
           -- A NULL acl is the default (owner and PUBLIC may execute): compared as the privileges it grants,
           -- since a down step that grants them back cannot restore the NULL itself.
           || ' acl=' || ${aclItems("coalesce(p.proacl, acldefault('f', p.proowner))")}
           || ' definition=' || md5(pg_get_functiondef(p.oid)) AS line
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE ${USER_SCHEMA} AND p.prokind IN ('f', 'p')`,
  types: `
    SELECT n.nspname || '.' || t.typname || ' type=' || t.typtype::text
           || coalesce(' labels=' || (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                                         FROM pg_enum e WHERE e.enumtypid = t.oid), '')
           || CASE WHEN t.typtype = 'd' THEN ' base=' || format_type(t.typbasetype, t.typtypmod) ELSE '' END AS line
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE ${USER_SCHEMA} AND t.typtype IN ('e', 'd')`,
};

/** Reads the snapshot of the database `connection` is on (run it as the owner). */
export async function catalogSnapshot(connection: Connection): Promise<CatalogSnapshot> {
  const snapshot: CatalogSnapshot = {};
  for (const [section, query] of Object.entries(SECTIONS)) {
    const rows = await connection.query<{ line: string }>(query);
    snapshot[section] = rows.map((row) => row.line).sort();
  }
  return snapshot;
}

/** The snapshot without the migrator's own bookkeeping table, which a full rollback leaves behind. */
export function withoutHistory(snapshot: CatalogSnapshot): CatalogSnapshot {
  return Object.fromEntries(
    Object.entries(snapshot).map(([section, lines]) => [
      section,
      lines.filter((line) => !/\bschema_migrations\b/.test(line)),
    ]),
  );
}
