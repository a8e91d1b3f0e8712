-- The wiki: versioned entries scoped to the tenant or to one project, proposed by organization
-- agents and decided by a human who may approve (owner, admin, manager).
--
-- wiki_entries holds one row per VERSION. The versions of one entry share entry_id (the id of its
-- first version); each later version names its parent (the entry's current approved version when
-- there is one, else its latest version). A version is a draft, then pending_approval, then approved
-- or rejected, and an approved or rejected version never changes again (a trigger refuses it to
-- every role, the owner included). An entry's CURRENT version is its latest approved version;
-- wiki_pages holds it, one row per entry with an approved version, with the view counter (which
-- therefore never touches a frozen version row) and the slug and title that are unique per scope.
--
-- DESIGN.md's soft deletes: a human who may approve deletes an ENTRY (never one version):
-- deleted_at is set on every version of it and on its page in one statement. A deleted entry is gone
-- from search, reading, the page lookups and listings, and its slug and title are free again (the
-- unique indexes are partial on live pages); no version, proposal or decision is made on it again
-- (AF116, to every role). Its versions are kept as history, readable to the humans who may approve
-- only. The service role purges deleted entries (DELETE); no domain restores, so neither does this.

CREATE TABLE wiki_entries (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id(),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  entry_id uuid NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  parent_version_id uuid,
  -- NULL: a tenant-wide entry; else an entry of that project. Shared by every version of an entry.
  project_id uuid,
  proposed_by_agent_id uuid NOT NULL,
  status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'pending_approval', 'approved', 'rejected')),
  title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 500),
  slug text NOT NULL CHECK (char_length(slug) <= 200 AND slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  content text NOT NULL CHECK (char_length(content) BETWEEN 1 AND 100000),
  tags text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 50),
  -- The human who decided (a user id: users is a global table and the version is frozen once
  -- decided, so no foreign key that a user's removal would have to rewrite), and when.
  decided_by uuid,
  decided_at timestamptz,
  rejection_reason text CHECK (char_length(rejection_reason) BETWEEN 1 AND 2000),
  metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
  -- The entry's soft delete, the same on every version of it.
  deleted_at timestamptz,
  -- Ranked full-text search: the title weighs more than the body. regconfig named explicitly, so
  -- the expression is immutable and the same on both engines.
  search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, title), 'A') || setweight(to_tsvector('english'::regconfig, content), 'B')
  ) STORED,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT wiki_entries_version_key UNIQUE (tenant_id, entry_id, version),
  CONSTRAINT wiki_entries_lineage CHECK ((version = 1) = (parent_version_id IS NULL) AND (version = 1) = (entry_id = id)),
  CONSTRAINT wiki_entries_decision CHECK ((status IN ('approved', 'rejected')) = (decided_at IS NOT NULL)
    AND (status = 'rejected') = (rejection_reason IS NOT NULL)),
  CONSTRAINT wiki_entries_entry_fk FOREIGN KEY (tenant_id, entry_id)
    REFERENCES wiki_entries (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT wiki_entries_parent_version_fk FOREIGN KEY (tenant_id, parent_version_id)
    REFERENCES wiki_entries (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT wiki_entries_project_fk FOREIGN KEY (tenant_id, project_id)
    REFERENCES projects (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT wiki_entries_proposed_by_agent_fk FOREIGN KEY (tenant_id, proposed_by_agent_id)
    REFERENCES agents (tenant_id, id) ON DELETE CASCADE
);
-- At most one open proposal (draft or pending) per entry: two agents editing one entry at once get
-- a conflict instead of two competing versions.
CREATE UNIQUE INDEX wiki_entries_open_key ON wiki_entries (tenant_id, entry_id)
  WHERE status IN ('draft', 'pending_approval');
CREATE INDEX wiki_entries_parent_idx ON wiki_entries (tenant_id, parent_version_id) WHERE parent_version_id IS NOT NULL;
CREATE INDEX wiki_entries_project_idx ON wiki_entries (tenant_id, project_id) WHERE project_id IS NOT NULL;
CREATE INDEX wiki_entries_proposer_idx ON wiki_entries (tenant_id, proposed_by_agent_id, created_at);
CREATE INDEX wiki_entries_status_idx ON wiki_entries (tenant_id, status, created_at, id);
-- GIN cannot lead with a uuid without btree_gin (not loaded by the embedded engine); db verify
-- accepts GIN indexes that do not lead with tenant_id. Only approved versions are ever searched.
-- With the tenant as one more lexeme (agentflow.tenant_lexeme, migration 18 says why).
CREATE INDEX wiki_entries_search_idx ON wiki_entries USING gin ((search || agentflow.tenant_lexeme(tenant_id)))
  WHERE status = 'approved';
CREATE TRIGGER wiki_entries_live_project BEFORE INSERT OR UPDATE OF project_id ON wiki_entries
  FOR EACH ROW EXECUTE FUNCTION agentflow.require_live_project();
SELECT agentflow.isolate_by_tenant('wiki_entries');
SELECT agentflow.track_changes('wiki_entries', 'tenant_id');
-- No DELETE for tenant work: versions are history. They go with their tenant, project or agent (a
-- cascade, run as the table's owner, which the guard below lets through), or when the service role
-- purges a deleted entry.
GRANT SELECT, INSERT, UPDATE ON wiki_entries TO agentflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON wiki_entries TO agentflow_service;

-- One row per entry that has an approved version: its current version, the slug and title unique
-- per scope, and the view counter. Written by the database only (agentflow.publish_wiki_version);
-- the application may only count views.
CREATE TABLE wiki_pages (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id(),
  -- The entry's id (= its first version's id).
  id uuid NOT NULL,
  project_id uuid,
  current_version_id uuid NOT NULL,
  slug text NOT NULL,
  title text NOT NULL,
  view_count bigint NOT NULL DEFAULT 0 CHECK (view_count >= 0),
  last_viewed_at timestamptz,
  -- Its entry's soft delete (set with the versions' by agentflow.delete_wiki_entry).
  deleted_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT wiki_pages_entry_fk FOREIGN KEY (tenant_id, id)
    REFERENCES wiki_entries (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT wiki_pages_current_version_fk FOREIGN KEY (tenant_id, current_version_id)
    REFERENCES wiki_entries (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT wiki_pages_project_fk FOREIGN KEY (tenant_id, project_id)
    REFERENCES projects (tenant_id, id) ON DELETE CASCADE
);
-- Slug and title unique per scope among current versions of live entries: the tenant's own scope,
-- and each project's.
CREATE UNIQUE INDEX wiki_pages_tenant_slug_key ON wiki_pages (tenant_id, slug)
  WHERE project_id IS NULL AND deleted_at IS NULL;
CREATE UNIQUE INDEX wiki_pages_project_slug_key ON wiki_pages (tenant_id, project_id, slug)
  WHERE project_id IS NOT NULL AND deleted_at IS NULL;
CREATE UNIQUE INDEX wiki_pages_tenant_title_key ON wiki_pages (tenant_id, title)
  WHERE project_id IS NULL AND deleted_at IS NULL;
CREATE UNIQUE INDEX wiki_pages_project_title_key ON wiki_pages (tenant_id, project_id, title)
  WHERE project_id IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX wiki_pages_current_version_idx ON wiki_pages (tenant_id, current_version_id);
SELECT agentflow.isolate_by_tenant('wiki_pages');
GRANT SELECT, UPDATE (view_count, last_viewed_at) ON wiki_pages TO agentflow_app;
GRANT SELECT ON wiki_pages TO agentflow_service;
GRANT SELECT, INSERT, UPDATE ON wiki_pages TO agentflow_definer;
GRANT SELECT, UPDATE (deleted_at) ON wiki_entries TO agentflow_definer;

-- Who the unit's actor is, for the visibility policies. Read through sub-selects in the policies,
-- so each runs once per statement. Not SECURITY DEFINER: they read memberships and agents as the
-- caller, within its tenant.
CREATE FUNCTION agentflow.wiki_may_decide() RETURNS boolean
  LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp
  AS $$
  SELECT coalesce(current_setting('agentflow.actor_type', true) = 'user', false) AND EXISTS (
    SELECT 1 FROM memberships m
     WHERE m.tenant_id = agentflow.current_tenant_id()
       AND m.user_id = nullif(current_setting('agentflow.actor_id', true), '')::uuid
       AND m.role IN ('owner', 'admin', 'manager'))
$$;
CREATE FUNCTION agentflow.wiki_actor_agent() RETURNS uuid
  LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp
  AS $$
  SELECT CASE WHEN current_setting('agentflow.actor_type', true) = 'agent'
              THEN nullif(current_setting('agentflow.actor_id', true), '')::uuid END
$$;
-- The project of the acting agent when it is a project agent; NULL for an organization agent and
-- for a human (both see approved entries of every scope).
CREATE FUNCTION agentflow.wiki_actor_project() RETURNS uuid
  LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp
  AS $$
  SELECT a.project_id FROM agents a
   WHERE a.tenant_id = agentflow.current_tenant_id() AND a.id = agentflow.wiki_actor_agent()
$$;
REVOKE ALL ON FUNCTION agentflow.wiki_may_decide(), agentflow.wiki_actor_agent(), agentflow.wiki_actor_project() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentflow.wiki_may_decide(), agentflow.wiki_actor_agent(), agentflow.wiki_actor_project()
  TO agentflow_app, agentflow_service, agentflow_definer;

-- Visibility (RESTRICTIVE: ANDed with the tenant policies, it only narrows them). A human who may
-- approve sees every version; an agent sees its own proposals whatever their status; everyone else
-- sees approved versions only, and a project agent only those of the tenant scope and of its own
-- project. A plain member (or an agent) never sees another's draft, pending or rejected version.
-- A deleted entry's versions stay visible to the humans who may approve (its history, the audit's
-- companion) and to no one else; its page to no one.
CREATE POLICY wiki_entries_visible ON wiki_entries AS RESTRICTIVE FOR ALL TO agentflow_app
  USING ((SELECT agentflow.wiki_may_decide())
         OR (deleted_at IS NULL
             AND (proposed_by_agent_id = (SELECT agentflow.wiki_actor_agent())
                  OR (status = 'approved' AND (project_id IS NULL
                                               OR (SELECT agentflow.wiki_actor_project()) IS NULL
                                               OR project_id = (SELECT agentflow.wiki_actor_project()))))));
CREATE POLICY wiki_pages_visible ON wiki_pages AS RESTRICTIVE FOR ALL TO agentflow_app
  USING (deleted_at IS NULL
         AND (project_id IS NULL
              OR (SELECT agentflow.wiki_actor_project()) IS NULL
              OR project_id = (SELECT agentflow.wiki_actor_project())));

-- What a new version of an entry continues from, read past the caller's visibility (another
-- agent's rejected proposal still takes a version number): the next version number, the parent
-- (the current approved version, else the latest) and the entry's scope. Confined to the unit's
-- tenant; it returns no content. SECURITY DEFINER, owned by agentflow_definer.
CREATE FUNCTION agentflow.wiki_lineage(entry uuid)
  RETURNS TABLE (next_version integer, parent_version_id uuid, project_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
  SELECT max(v.version) + 1,
         coalesce((array_agg(v.id ORDER BY v.version DESC) FILTER (WHERE v.status = 'approved'))[1],
                  (array_agg(v.id ORDER BY v.version DESC))[1]),
         (array_agg(v.project_id))[1]
    FROM wiki_entries v
   WHERE v.tenant_id = agentflow.current_tenant_id() AND v.entry_id = entry
  HAVING count(*) > 0
$$;
REVOKE ALL ON FUNCTION agentflow.wiki_lineage(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentflow.wiki_lineage(uuid) TO agentflow_app, agentflow_service;

-- The rules of a version, checked before each write, for every role:
-- - insert: the proposer is an organization agent (a project agent never proposes); for the
--   application roles the actor must be that agent (it defaults to it), the version starts as a
--   draft, and its number, parent and scope are the database's. The owner may load history.
-- - update: an approved or rejected version never changes (AF110), nor does a pending one's
--   content; the entry, number, parent, scope and proposer never change. A draft's content is
--   revised, and it is submitted, by its proposer only; a pending version is approved or rejected
--   only by a human member whose role may approve (owner, admin, manager), the decision stamped
--   by the database; a rejection needs a reason (AF115). Any other status change is AF111.
-- - soft delete (deleted_at set, nothing else changed, AF110 otherwise): only a human member who
--   may approve (AF113), like a decision; an organization agent proposes, it does not remove what
--   a human approved. Setting it on one version deletes the whole entry (delete_wiki_entry below).
--   The time is the database's. A deleted entry's versions never change again (AF116), for every
--   role; an edit of a deleted entry finds no entry (AF114).
-- - delete: the owner (a cascade from a purged tenant, project or agent) and the service role, of
--   a deleted entry only (its purge).
-- Not SECURITY DEFINER: it reads agents, memberships and wiki_pages as the caller.
CREATE FUNCTION agentflow.guard_wiki_entry() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  app boolean := current_user IN ('agentflow_app', 'agentflow_service');
  actor_type text := current_setting('agentflow.actor_type', true);
  actor uuid := CASE WHEN current_setting('agentflow.actor_type', true) IN ('agent', 'user')
                     THEN nullif(current_setting('agentflow.actor_id', true), '')::uuid END;
  proposer record;
  lineage record;
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID)
       OR (current_user = 'agentflow_service' AND OLD.deleted_at IS NOT NULL) THEN
      RETURN OLD;
    END IF;
    RAISE EXCEPTION 'wiki versions are never deleted, but purged once their entry is deleted'
      USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME;
  END IF;

  IF TG_OP = 'INSERT' THEN
    IF app THEN
      -- Another tenant's row (or none set): what the tenant policy would refuse after this trigger,
      -- refused first, as row-level security refuses it.
      IF NEW.tenant_id IS DISTINCT FROM agentflow.current_tenant_id() THEN
        RAISE EXCEPTION 'new row violates row-level security policy for table "%"', TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME;
      END IF;
      IF actor_type IS DISTINCT FROM 'agent' THEN
        RAISE EXCEPTION 'only organization agents propose wiki entries'
          USING ERRCODE = 'AF112', TABLE = TG_TABLE_NAME, COLUMN = 'proposed_by_agent_id';
      END IF;
      NEW.proposed_by_agent_id := coalesce(NEW.proposed_by_agent_id, actor);
      IF NEW.proposed_by_agent_id IS DISTINCT FROM actor THEN
        RAISE EXCEPTION 'an agent proposes wiki entries only as itself'
          USING ERRCODE = 'AF112', TABLE = TG_TABLE_NAME, COLUMN = 'proposed_by_agent_id';
      END IF;
      NEW.status := 'draft';
      NEW.decided_by := NULL;
      NEW.decided_at := NULL;
      NEW.rejection_reason := NULL;
      NEW.deleted_at := NULL;
      NEW.created_at := now();
    END IF;
    SELECT a.level INTO proposer FROM agents a
     WHERE a.tenant_id = NEW.tenant_id AND a.id = NEW.proposed_by_agent_id;
    -- Not found: the foreign key refuses it.
    IF FOUND AND proposer.level <> 'organization' THEN
      RAISE EXCEPTION 'agent % is a project agent: only organization agents propose wiki entries', NEW.proposed_by_agent_id
        USING ERRCODE = 'AF112', TABLE = TG_TABLE_NAME, COLUMN = 'proposed_by_agent_id';
    END IF;
    IF NEW.entry_id IS NULL OR NEW.entry_id = NEW.id THEN
      NEW.entry_id := NEW.id;
      NEW.version := 1;
      NEW.parent_version_id := NULL;
    ELSIF app THEN
      -- An edit of a live entry the caller can see (its RLS applies to this query).
      IF NOT EXISTS (SELECT 1 FROM wiki_entries v
                      WHERE v.tenant_id = NEW.tenant_id AND v.entry_id = NEW.entry_id AND v.deleted_at IS NULL) THEN
        RAISE EXCEPTION 'wiki entry % not found', NEW.entry_id
          USING ERRCODE = 'AF114', TABLE = TG_TABLE_NAME, COLUMN = 'entry_id';
      END IF;
      SELECT * INTO lineage FROM agentflow.wiki_lineage(NEW.entry_id);
      NEW.version := lineage.next_version;
      NEW.parent_version_id := lineage.parent_version_id;
      NEW.project_id := lineage.project_id;
    END IF;
  ELSE
    IF OLD.deleted_at IS NOT NULL THEN
      RAISE EXCEPTION 'wiki entry % is deleted', OLD.entry_id
        USING ERRCODE = 'AF116', TABLE = TG_TABLE_NAME;
    END IF;
    IF NEW.deleted_at IS NOT NULL THEN
      -- The soft delete: the one change an approved or rejected version takes. (search is generated,
      -- not yet computed in a BEFORE trigger; updated_at is the database's.)
      IF to_jsonb(NEW) - 'deleted_at' - 'updated_at' - 'search'
         IS DISTINCT FROM to_jsonb(OLD) - 'deleted_at' - 'updated_at' - 'search' THEN
        RAISE EXCEPTION 'a wiki entry''s deletion changes nothing else of version %', OLD.id
          USING ERRCODE = 'AF110', TABLE = TG_TABLE_NAME;
      END IF;
      IF app THEN
        IF NOT agentflow.wiki_may_decide() THEN
          RAISE EXCEPTION 'only a human member who may approve (owner, admin, manager) deletes wiki entry %', OLD.entry_id
            USING ERRCODE = 'AF113', TABLE = TG_TABLE_NAME, COLUMN = 'deleted_at';
        END IF;
        NEW.deleted_at := now();
      END IF;
      RETURN NEW;
    END IF;
    IF OLD.status IN ('approved', 'rejected') THEN
      RAISE EXCEPTION 'wiki version % is % and never changes', OLD.id, OLD.status
        USING ERRCODE = 'AF110', TABLE = TG_TABLE_NAME;
    END IF;
    IF (NEW.tenant_id, NEW.id, NEW.entry_id, NEW.version, NEW.parent_version_id, NEW.project_id,
        NEW.proposed_by_agent_id, NEW.created_at)
       IS DISTINCT FROM (OLD.tenant_id, OLD.id, OLD.entry_id, OLD.version, OLD.parent_version_id, OLD.project_id,
        OLD.proposed_by_agent_id, OLD.created_at) THEN
      RAISE EXCEPTION 'a wiki version''s entry, number, parent, scope and proposer never change'
        USING ERRCODE = 'AF110', TABLE = TG_TABLE_NAME;
    END IF;
    IF (NEW.title, NEW.slug, NEW.content, NEW.tags, NEW.metadata)
       IS DISTINCT FROM (OLD.title, OLD.slug, OLD.content, OLD.tags, OLD.metadata)
       AND NOT (OLD.status = 'draft' AND NEW.status = 'draft') THEN
      RAISE EXCEPTION 'wiki version % is %: only a draft''s content is revised', OLD.id, OLD.status
        USING ERRCODE = 'AF110', TABLE = TG_TABLE_NAME;
    END IF;
    IF NEW.status = OLD.status OR (OLD.status = 'draft' AND NEW.status = 'pending_approval') THEN
      -- A revision or a submission: the proposer's.
      IF app AND (actor_type IS DISTINCT FROM 'agent' OR actor IS DISTINCT FROM OLD.proposed_by_agent_id) THEN
        RAISE EXCEPTION 'only the proposing agent revises or submits wiki version %', OLD.id
          USING ERRCODE = 'AF112', TABLE = TG_TABLE_NAME;
      END IF;
      IF app THEN
        NEW.decided_by := NULL;
        NEW.decided_at := NULL;
        NEW.rejection_reason := NULL;
      END IF;
    ELSIF OLD.status = 'pending_approval' AND NEW.status IN ('approved', 'rejected') THEN
      IF app THEN
        IF NOT agentflow.wiki_may_decide() THEN
          RAISE EXCEPTION 'only a human member who may approve (owner, admin, manager) decides wiki version %', OLD.id
            USING ERRCODE = 'AF113', TABLE = TG_TABLE_NAME;
        END IF;
        NEW.decided_by := actor;
        NEW.decided_at := now();
      ELSE
        NEW.decided_at := coalesce(NEW.decided_at, now());
      END IF;
      IF NEW.status = 'rejected' AND coalesce(btrim(NEW.rejection_reason), '') = '' THEN
        RAISE EXCEPTION 'a rejection needs a reason'
          USING ERRCODE = 'AF115', TABLE = TG_TABLE_NAME, COLUMN = 'rejection_reason';
      END IF;
      IF NEW.status = 'approved' THEN
        NEW.rejection_reason := NULL;
      END IF;
    ELSE
      RAISE EXCEPTION 'wiki version % cannot go from % to %', OLD.id, OLD.status, NEW.status
        USING ERRCODE = 'AF111', TABLE = TG_TABLE_NAME, COLUMN = 'status';
    END IF;
  END IF;

  -- Slug and title are unique per scope among current versions: a proposal that would collide with
  -- another entry's current version is refused at once, not only when it is approved.
  IF NEW.status = 'draft' AND EXISTS (
       SELECT 1 FROM wiki_pages p
        WHERE p.tenant_id = NEW.tenant_id AND p.id <> NEW.entry_id AND p.deleted_at IS NULL
          AND p.project_id IS NOT DISTINCT FROM NEW.project_id AND p.slug = NEW.slug) THEN
    RAISE EXCEPTION 'a current wiki entry of this scope already has the slug %', NEW.slug
      USING ERRCODE = 'unique_violation', TABLE = 'wiki_pages',
            CONSTRAINT = CASE WHEN NEW.project_id IS NULL THEN 'wiki_pages_tenant_slug_key' ELSE 'wiki_pages_project_slug_key' END;
  END IF;
  IF NEW.status = 'draft' AND EXISTS (
       SELECT 1 FROM wiki_pages p
        WHERE p.tenant_id = NEW.tenant_id AND p.id <> NEW.entry_id AND p.deleted_at IS NULL
          AND p.project_id IS NOT DISTINCT FROM NEW.project_id AND p.title = NEW.title) THEN
    RAISE EXCEPTION 'a current wiki entry of this scope already has the title %', NEW.title
      USING ERRCODE = 'unique_violation', TABLE = 'wiki_pages',
            CONSTRAINT = CASE WHEN NEW.project_id IS NULL THEN 'wiki_pages_tenant_title_key' ELSE 'wiki_pages_project_title_key' END;
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.guard_wiki_entry() FROM PUBLIC;
CREATE TRIGGER wiki_entries_guard BEFORE INSERT OR UPDATE OR DELETE ON wiki_entries
  FOR EACH ROW EXECUTE FUNCTION agentflow.guard_wiki_entry();

-- An approved version becomes its entry's current version: wiki_pages gets or moves its row, and
-- the unique indexes there refuse a slug or title another current entry of the scope holds.
-- SECURITY DEFINER (agentflow_definer): no application role writes wiki_pages.
CREATE FUNCTION agentflow.publish_wiki_version() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  INSERT INTO wiki_pages AS p (tenant_id, id, project_id, current_version_id, slug, title)
  VALUES (NEW.tenant_id, NEW.entry_id, NEW.project_id, NEW.id, NEW.slug, NEW.title)
  ON CONFLICT (tenant_id, id) DO UPDATE
    SET current_version_id = EXCLUDED.current_version_id, slug = EXCLUDED.slug, title = EXCLUDED.title,
        updated_at = now()
  -- An older version approved late (an owner's import) does not displace a newer current one.
  WHERE (SELECT c.version FROM wiki_entries c WHERE c.tenant_id = p.tenant_id AND c.id = p.current_version_id)
        < NEW.version;
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.publish_wiki_version() FROM PUBLIC;
CREATE TRIGGER wiki_entries_publish AFTER INSERT OR UPDATE OF status ON wiki_entries
  FOR EACH ROW WHEN (NEW.status = 'approved') EXECUTE FUNCTION agentflow.publish_wiki_version();

-- A deletion reaches the whole entry: every other version of it and its page, in the same
-- statement, whichever version the caller named (the guard has checked who deletes). SECURITY
-- DEFINER (agentflow_definer): the application writes no page.
CREATE FUNCTION agentflow.delete_wiki_entry() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  UPDATE wiki_entries v SET deleted_at = NEW.deleted_at
   WHERE v.tenant_id = NEW.tenant_id AND v.entry_id = NEW.entry_id AND v.deleted_at IS NULL;
  UPDATE wiki_pages p SET deleted_at = NEW.deleted_at, updated_at = now()
   WHERE p.tenant_id = NEW.tenant_id AND p.id = NEW.entry_id AND p.deleted_at IS NULL;
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.delete_wiki_entry() FROM PUBLIC;
CREATE TRIGGER wiki_entries_delete_entry AFTER UPDATE OF deleted_at ON wiki_entries
  FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL)
  EXECUTE FUNCTION agentflow.delete_wiki_entry();

-- Every proposal and decision is on the timeline: a wiki_contribution event authored by the
-- proposing agent, in the same transaction, when a version is proposed and each time its status
-- changes (submitted, approved, rejected). A deletion is no contribution: it is a human's (an event
-- is an agent's), and the audit log records it, one row per version.
CREATE FUNCTION agentflow.record_wiki_contribution() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.status = NEW.status THEN
    RETURN NULL;
  END IF;
  INSERT INTO events (tenant_id, type, project_id, author_id, payload)
  VALUES (NEW.tenant_id, 'wiki_contribution', NEW.project_id, NEW.proposed_by_agent_id,
    jsonb_strip_nulls(jsonb_build_object(
      'entryId', NEW.entry_id, 'versionId', NEW.id, 'version', NEW.version, 'title', NEW.title,
      'content', NEW.content, 'status', NEW.status, 'decidedBy', NEW.decided_by,
      'reason', NEW.rejection_reason)));
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.record_wiki_contribution() FROM PUBLIC;
CREATE TRIGGER wiki_entries_contribution AFTER INSERT OR UPDATE OF status ON wiki_entries
  FOR EACH ROW EXECUTE FUNCTION agentflow.record_wiki_contribution();

-- The view counter only counts up for the application roles (one statement, atomic).
CREATE FUNCTION agentflow.guard_wiki_page() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  IF current_user IN ('agentflow_app', 'agentflow_service') AND NEW.view_count < OLD.view_count THEN
    RAISE EXCEPTION 'a wiki page''s view count only goes up'
      USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME, COLUMN = 'view_count';
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.guard_wiki_page() FROM PUBLIC;
CREATE TRIGGER wiki_pages_guard BEFORE UPDATE OF view_count ON wiki_pages
  FOR EACH ROW EXECUTE FUNCTION agentflow.guard_wiki_page();

-- Ranked search over the current (approved) versions. Under the app role's policies PostgreSQL may
-- not use wiki_entries_search_idx: @@ is not LEAKPROOF, so it may only filter rows after the
-- policies, i.e. every version of the tenant. This function runs as agentflow_definer (the service
-- policy, which lets the index serve), confined to the unit's tenant by current_tenant_id() and to
-- the rows the caller may see: current versions are approved, and a project agent sees those of the
-- tenant scope and of its own project only (as wiki_pages_visible says). It returns ids and ranks;
-- the caller reads the rows themselves under its own policies.
CREATE FUNCTION agentflow.search_wiki(words text, scope text, in_project uuid, wanted_tags text[],
    after_rank double precision, after_id uuid, max_rows integer)
  RETURNS TABLE (version_id uuid, rank double precision)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp ROWS 20
  AS $$
DECLARE
  tenant uuid := agentflow.current_tenant_id();
  wanted tsquery := websearch_to_tsquery('english'::regconfig, words);
  viewer_project uuid;
BEGIN
  -- Stop words only: an empty query, which ANDed with the tenant would match all of its versions.
  IF numnode(wanted) = 0 THEN
    RETURN;
  END IF;
  IF current_setting('agentflow.actor_type', true) = 'agent' THEN
    SELECT a.project_id INTO viewer_project FROM agents a
     WHERE a.tenant_id = tenant AND a.id = nullif(current_setting('agentflow.actor_id', true), '')::uuid;
  END IF;
  RETURN QUERY
  SELECT m.id, m.rank
    FROM (SELECT v.id, ts_rank_cd(v.search, wanted)::double precision AS rank
            FROM wiki_entries v
            JOIN wiki_pages p ON p.tenant_id = v.tenant_id AND p.current_version_id = v.id
           WHERE v.tenant_id = tenant AND v.status = 'approved' AND p.deleted_at IS NULL
             AND (v.search || agentflow.tenant_lexeme(v.tenant_id)) @@ (wanted && agentflow.tenant_query(tenant))
             AND (viewer_project IS NULL OR v.project_id IS NULL OR v.project_id = viewer_project)
             AND (scope IS NULL
                  OR (scope = 'tenant' AND v.project_id IS NULL)
                  OR (scope = 'project' AND v.project_id = in_project)
                  OR (scope = 'visible_in_project' AND (v.project_id IS NULL OR v.project_id = in_project)))
             AND (wanted_tags IS NULL OR v.tags && wanted_tags)) AS m
   WHERE after_id IS NULL OR (m.rank, m.id) < (after_rank, after_id)
   ORDER BY m.rank DESC, m.id DESC
   LIMIT max_rows;
END $$;
REVOKE ALL ON FUNCTION agentflow.search_wiki(text, text, uuid, text[], double precision, uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentflow.search_wiki(text, text, uuid, text[], double precision, uuid, integer) TO agentflow_app, agentflow_service;

GRANT CREATE ON SCHEMA agentflow TO agentflow_definer;
ALTER FUNCTION agentflow.wiki_lineage(uuid) OWNER TO agentflow_definer;
ALTER FUNCTION agentflow.publish_wiki_version() OWNER TO agentflow_definer;
ALTER FUNCTION agentflow.delete_wiki_entry() OWNER TO agentflow_definer;
ALTER FUNCTION agentflow.search_wiki(text, text, uuid, text[], double precision, uuid, integer) OWNER TO agentflow_definer;
REVOKE CREATE ON SCHEMA agentflow FROM agentflow_definer;
