-- What hangs off a task besides its work: comments (by a user or an agent, GitHub-synced), file
-- attachments, and checkpoints of its state with their history (issue 12, items 4 and 7).
--
-- The author of a comment and the uploader of an attachment are the unit of work's actor, set by the
-- database (agentflow.actor_type / agentflow.actor_id): an agent writes only as itself, a user only
-- as itself. Without a user or agent actor (the service role, the owner: an import, the demo seed) the
-- author is as given, and a row has exactly one.

CREATE TABLE task_comments (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id(),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  task_id uuid NOT NULL,
  author_agent_id uuid,
  author_user_id uuid,
  body text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 65536),
  -- Private comments stay off the public activity feed (record_activity copies the flag).
  is_public boolean NOT NULL DEFAULT true,
  is_ai_generated boolean NOT NULL DEFAULT false,
  -- How an AI comment was made (model, prompt id, confidence…), seed 004.
  ai_metadata jsonb CHECK (jsonb_typeof(ai_metadata) = 'object'),
  github_comment_id bigint CHECK (github_comment_id > 0),
  edited_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT task_comments_task_fk FOREIGN KEY (tenant_id, task_id)
    REFERENCES tasks (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT task_comments_agent_fk FOREIGN KEY (tenant_id, author_agent_id)
    REFERENCES agents (tenant_id, id) ON DELETE CASCADE,
  -- The user, not the membership: a member who leaves the tenant leaves their comments behind (the
  -- trigger checks membership when the comment is written).
  CONSTRAINT task_comments_user_fk FOREIGN KEY (author_user_id) REFERENCES users (id),
  CONSTRAINT task_comments_one_author CHECK (num_nonnulls(author_agent_id, author_user_id) = 1),
  CONSTRAINT task_comments_ai_metadata CHECK (is_ai_generated OR ai_metadata IS NULL)
);
-- A task's comments in order, deleted ones included (the list filters them).
CREATE INDEX task_comments_task_idx ON task_comments (tenant_id, task_id, created_at, id);
-- One live comment per GitHub comment in a tenant: the sync's upsert key.
CREATE UNIQUE INDEX task_comments_github_comment_live_key ON task_comments (tenant_id, github_comment_id)
  WHERE github_comment_id IS NOT NULL AND deleted_at IS NULL;
-- For the foreign keys' checks when an agent or a user goes.
CREATE INDEX task_comments_agent_idx ON task_comments (tenant_id, author_agent_id) WHERE author_agent_id IS NOT NULL;
CREATE INDEX task_comments_member_idx ON task_comments (tenant_id, author_user_id) WHERE author_user_id IS NOT NULL;
SELECT agentflow.isolate_by_tenant('task_comments');
SELECT agentflow.track_changes('task_comments', 'tenant_id');
-- Deleted softly by tenant work; removed with their task (its purge) or tenant.
GRANT SELECT, INSERT, UPDATE ON task_comments TO agentflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON task_comments TO agentflow_service;

-- What a comment and an attachment share when written: the author is the unit's actor (an agent
-- only as itself, a user only as itself and a member of the tenant; without a user or agent actor,
-- as given), and the task is live. Returns the author's (agent, user) pair for the row.
CREATE FUNCTION agentflow.note_author(tenant uuid, task uuid, claimed_agent uuid, claimed_user uuid,
    note text, user_key text, OUT agent_id uuid, OUT user_id uuid)
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  actor_type text := current_setting('agentflow.actor_type', true);
  actor uuid := CASE WHEN current_setting('agentflow.actor_type', true) IN ('user', 'agent')
                     THEN nullif(current_setting('agentflow.actor_id', true), '')::uuid END;
  note_table text := regexp_replace(user_key, '_user_fk$', '');
BEGIN
  agent_id := claimed_agent;
  user_id := claimed_user;
  IF actor_type = 'agent' THEN
    IF claimed_user IS NOT NULL OR claimed_agent <> actor THEN
      RAISE EXCEPTION 'an agent writes % only as itself', note
        USING ERRCODE = 'insufficient_privilege', TABLE = note_table;
    END IF;
    agent_id := actor;
  ELSIF actor_type = 'user' THEN
    IF claimed_agent IS NOT NULL OR claimed_user <> actor THEN
      RAISE EXCEPTION 'a user writes % only as itself', note
        USING ERRCODE = 'insufficient_privilege', TABLE = note_table;
    END IF;
    user_id := actor;
  END IF;
  IF user_id IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM memberships m WHERE m.tenant_id = tenant AND m.user_id = note_author.user_id) THEN
    RAISE EXCEPTION 'user % is not a member of the tenant', user_id
      USING ERRCODE = 'foreign_key_violation', TABLE = note_table, CONSTRAINT = user_key;
  END IF;
  -- Not found (unknown, or another tenant's): row-level security or the foreign key refuses it.
  IF EXISTS (SELECT 1 FROM tasks t WHERE t.tenant_id = tenant AND t.id = task AND t.deleted_at IS NOT NULL) THEN
    RAISE EXCEPTION 'task % is deleted', task USING ERRCODE = 'AF051', TABLE = 'tasks';
  END IF;
END $$;

-- Whether the unit's actor may delete a note by this author: its author, an owner or an admin of
-- the tenant, or no user or agent actor at all (the service role, the owner).
CREATE FUNCTION agentflow.may_delete_note(tenant uuid, author_agent uuid, author_user uuid) RETURNS boolean
  LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp
  AS $$
  SELECT CASE current_setting('agentflow.actor_type', true)
           WHEN 'agent' THEN nullif(current_setting('agentflow.actor_id', true), '')::uuid IS NOT DISTINCT FROM author_agent
           WHEN 'user' THEN nullif(current_setting('agentflow.actor_id', true), '')::uuid IS NOT DISTINCT FROM author_user
             OR EXISTS (SELECT 1 FROM memberships m
                         WHERE m.tenant_id = tenant AND m.role IN ('owner', 'admin')
                           AND m.user_id = nullif(current_setting('agentflow.actor_id', true), '')::uuid)
           ELSE true
         END
$$;
REVOKE EXECUTE ON FUNCTION agentflow.note_author(uuid, uuid, uuid, uuid, text, text),
  agentflow.may_delete_note(uuid, uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentflow.note_author(uuid, uuid, uuid, uuid, text, text),
  agentflow.may_delete_note(uuid, uuid, uuid) TO agentflow_app, agentflow_service;

-- The rules of a comment, for every writer (raw SQL included):
-- - insert: the author is the actor (insufficient_privilege when another is named, as
--   for events); the task is live; not edited,
--   not deleted;
-- - update: a deleted comment is frozen (AF092); task, authors, visibility, AI flag and metadata and
--   creation time never change; a GitHub comment id is set once; the body is edited by its author
--   only (AF091), and the database stamps edited_at; a comment is deleted (softly) by its author or
--   by a user who is an owner or admin of the tenant (AF091 otherwise), at the database's time.
-- Not SECURITY DEFINER: it reads tasks and memberships as the writer, under its policies.
CREATE FUNCTION agentflow.guard_task_comment() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  actor_type text := current_setting('agentflow.actor_type', true);
  actor uuid := CASE WHEN current_setting('agentflow.actor_type', true) IN ('user', 'agent')
                     THEN nullif(current_setting('agentflow.actor_id', true), '')::uuid END;
  is_author boolean;
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT a.agent_id, a.user_id INTO NEW.author_agent_id, NEW.author_user_id
      FROM agentflow.note_author(NEW.tenant_id, NEW.task_id, NEW.author_agent_id, NEW.author_user_id,
                                 'comments', 'task_comments_user_fk') AS a;
    NEW.edited_at := NULL;
    NEW.deleted_at := NULL;
    RETURN NEW;
  END IF;

  IF OLD.deleted_at IS NOT NULL THEN
    RAISE EXCEPTION 'task comment % is deleted', OLD.id USING ERRCODE = 'AF092', TABLE = TG_TABLE_NAME;
  END IF;
  IF (NEW.tenant_id, NEW.id, NEW.task_id, NEW.author_agent_id, NEW.author_user_id, NEW.is_public,
      NEW.is_ai_generated, NEW.ai_metadata, NEW.created_at)
     IS DISTINCT FROM (OLD.tenant_id, OLD.id, OLD.task_id, OLD.author_agent_id, OLD.author_user_id, OLD.is_public,
      OLD.is_ai_generated, OLD.ai_metadata, OLD.created_at) THEN
    RAISE EXCEPTION 'a comment''s task, author, visibility, AI flag and metadata never change'
      USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME;
  END IF;
  IF OLD.github_comment_id IS NOT NULL AND NEW.github_comment_id IS DISTINCT FROM OLD.github_comment_id THEN
    RAISE EXCEPTION 'task comment % is linked to GitHub comment % already', OLD.id, OLD.github_comment_id
      USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME, COLUMN = 'github_comment_id';
  END IF;
  is_author := coalesce(actor_type NOT IN ('user', 'agent'), true)
    OR coalesce(actor_type = 'agent' AND actor = OLD.author_agent_id, false)
    OR coalesce(actor_type = 'user' AND actor = OLD.author_user_id, false);
  IF NEW.body IS DISTINCT FROM OLD.body THEN
    IF NOT is_author THEN
      RAISE EXCEPTION 'only its author edits task comment %', OLD.id
        USING ERRCODE = 'AF091', TABLE = TG_TABLE_NAME, COLUMN = 'body';
    END IF;
    NEW.edited_at := now();
  ELSE
    NEW.edited_at := OLD.edited_at;
  END IF;
  IF NEW.deleted_at IS NOT NULL THEN
    IF NOT agentflow.may_delete_note(OLD.tenant_id, OLD.author_agent_id, OLD.author_user_id) THEN
      RAISE EXCEPTION 'only its author, an owner or an admin deletes task comment %', OLD.id
        USING ERRCODE = 'AF091', TABLE = TG_TABLE_NAME, COLUMN = 'deleted_at';
    END IF;
    NEW.deleted_at := now();
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.guard_task_comment() FROM PUBLIC;
CREATE TRIGGER task_comments_guard BEFORE INSERT OR UPDATE ON task_comments
  FOR EACH ROW EXECUTE FUNCTION agentflow.guard_task_comment();
CREATE TRIGGER task_comments_activity AFTER INSERT ON task_comments
  FOR EACH ROW EXECUTE FUNCTION agentflow.record_activity('comment_added', 'body', 'is_ai_generated',
    'author_agent_id', 'author_user_id');

CREATE TABLE task_attachments (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id(),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  task_id uuid NOT NULL,
  -- Where the file is in object storage (a key or URL); the bytes are not in the database.
  storage_path text NOT NULL CHECK (char_length(storage_path) BETWEEN 1 AND 2048 AND storage_path !~ '[[:cntrl:]]'),
  -- At most 10 GiB.
  size_bytes bigint NOT NULL CHECK (size_bytes BETWEEN 0 AND 10737418240),
  content_type text NOT NULL CHECK (char_length(content_type) <= 255 AND content_type !~ '[[:cntrl:]]'
    AND content_type ~ '^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*( *;.*)?$'),
  checksum_sha256 text CHECK (checksum_sha256 ~ '^[0-9a-f]{64}$'),
  uploaded_by_agent_id uuid,
  uploaded_by_user_id uuid,
  -- The evidence this file supports. Its foreign key arrives with the evidence table (the knowledge
  -- issue): CONSTRAINT task_attachments_evidence_fk FOREIGN KEY (tenant_id, evidence_id)
  --   REFERENCES evidence (tenant_id, id)
  evidence_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT task_attachments_task_fk FOREIGN KEY (tenant_id, task_id)
    REFERENCES tasks (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT task_attachments_agent_fk FOREIGN KEY (tenant_id, uploaded_by_agent_id)
    REFERENCES agents (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT task_attachments_user_fk FOREIGN KEY (uploaded_by_user_id) REFERENCES users (id),
  CONSTRAINT task_attachments_one_uploader CHECK (num_nonnulls(uploaded_by_agent_id, uploaded_by_user_id) = 1)
);
CREATE INDEX task_attachments_task_idx ON task_attachments (tenant_id, task_id, created_at, id);
CREATE INDEX task_attachments_evidence_idx ON task_attachments (tenant_id, evidence_id) WHERE evidence_id IS NOT NULL;
CREATE INDEX task_attachments_agent_idx ON task_attachments (tenant_id, uploaded_by_agent_id)
  WHERE uploaded_by_agent_id IS NOT NULL;
CREATE INDEX task_attachments_member_idx ON task_attachments (tenant_id, uploaded_by_user_id)
  WHERE uploaded_by_user_id IS NOT NULL;
SELECT agentflow.isolate_by_tenant('task_attachments');
SELECT agentflow.track_changes('task_attachments', 'tenant_id');
GRANT SELECT, INSERT, UPDATE ON task_attachments TO agentflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON task_attachments TO agentflow_service;

-- The rules of an attachment: the uploader is the actor (insufficient_privilege); the task is live;
-- a deleted attachment is frozen (AF092); nothing changes but the link to evidence (set once) and
-- the soft delete, by its uploader or an owner or admin (AF091), at the database's time.
CREATE FUNCTION agentflow.guard_task_attachment() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT a.agent_id, a.user_id INTO NEW.uploaded_by_agent_id, NEW.uploaded_by_user_id
      FROM agentflow.note_author(NEW.tenant_id, NEW.task_id, NEW.uploaded_by_agent_id, NEW.uploaded_by_user_id,
                                 'attachments', 'task_attachments_user_fk') AS a;
    NEW.deleted_at := NULL;
    RETURN NEW;
  END IF;

  IF OLD.deleted_at IS NOT NULL THEN
    RAISE EXCEPTION 'task attachment % is deleted', OLD.id USING ERRCODE = 'AF092', TABLE = TG_TABLE_NAME;
  END IF;
  IF (NEW.tenant_id, NEW.id, NEW.task_id, NEW.storage_path, NEW.size_bytes, NEW.content_type, NEW.checksum_sha256,
      NEW.uploaded_by_agent_id, NEW.uploaded_by_user_id, NEW.created_at)
     IS DISTINCT FROM (OLD.tenant_id, OLD.id, OLD.task_id, OLD.storage_path, OLD.size_bytes, OLD.content_type,
      OLD.checksum_sha256, OLD.uploaded_by_agent_id, OLD.uploaded_by_user_id, OLD.created_at)
     OR (OLD.evidence_id IS NOT NULL AND NEW.evidence_id IS DISTINCT FROM OLD.evidence_id) THEN
    RAISE EXCEPTION 'an attachment never changes (but for its link to evidence, set once, and its deletion)'
      USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME;
  END IF;
  IF NEW.deleted_at IS NOT NULL THEN
    IF NOT agentflow.may_delete_note(OLD.tenant_id, OLD.uploaded_by_agent_id, OLD.uploaded_by_user_id) THEN
      RAISE EXCEPTION 'only its uploader, an owner or an admin deletes task attachment %', OLD.id
        USING ERRCODE = 'AF091', TABLE = TG_TABLE_NAME, COLUMN = 'deleted_at';
    END IF;
    NEW.deleted_at := now();
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.guard_task_attachment() FROM PUBLIC;
CREATE TRIGGER task_attachments_guard BEFORE INSERT OR UPDATE ON task_attachments
  FOR EACH ROW EXECUTE FUNCTION agentflow.guard_task_attachment();
CREATE TRIGGER task_attachments_activity AFTER INSERT ON task_attachments
  FOR EACH ROW EXECUTE FUNCTION agentflow.record_activity('attachment_added', 'storage_path', 'content_type',
    'size_bytes', 'uploaded_by_agent_id', 'uploaded_by_user_id');

-- A task's state checkpoints: an append-only chain. Each has the next number of its task (gapless:
-- the task row is locked while it is numbered) and follows the task's previous head (parent_id). A
-- restore is a new checkpoint with the restored one's state (restored_from_id): history is never
-- rewritten. Both links stay within the task (the foreign keys carry task_id).
CREATE TABLE task_checkpoints (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id(),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  task_id uuid NOT NULL,
  sequence integer NOT NULL CHECK (sequence > 0),
  label text CHECK (char_length(label) BETWEEN 1 AND 200),
  state jsonb NOT NULL CHECK (jsonb_typeof(state) = 'object'),
  parent_id uuid,
  restored_from_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT task_checkpoints_sequence_key UNIQUE (tenant_id, task_id, sequence),
  -- What the links below reference: a checkpoint of the same task.
  CONSTRAINT task_checkpoints_task_key UNIQUE (tenant_id, task_id, id),
  CONSTRAINT task_checkpoints_task_fk FOREIGN KEY (tenant_id, task_id)
    REFERENCES tasks (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT task_checkpoints_parent_fk FOREIGN KEY (tenant_id, task_id, parent_id)
    REFERENCES task_checkpoints (tenant_id, task_id, id),
  CONSTRAINT task_checkpoints_restored_from_fk FOREIGN KEY (tenant_id, task_id, restored_from_id)
    REFERENCES task_checkpoints (tenant_id, task_id, id),
  CONSTRAINT task_checkpoints_chain CHECK ((sequence = 1) = (parent_id IS NULL))
);
-- The removal of a task (its purge, by cascade as the owner) removes its checkpoints; nothing else may.
SELECT agentflow.keep_append_only('task_checkpoints');
SELECT agentflow.isolate_by_tenant('task_checkpoints');
-- Who made a checkpoint is in the audit trail.
CREATE TRIGGER task_checkpoints_audit AFTER INSERT OR DELETE ON task_checkpoints
  FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id');
GRANT SELECT, INSERT ON task_checkpoints TO agentflow_app, agentflow_service;

-- Numbers a new checkpoint and links it, for every writer: the task row is locked (FOR NO KEY
-- UPDATE, which a foreign key check does not wait for), so concurrent checkpoints of one task are
-- numbered one after the other, 1, 2, 3… with no gap; the parent is the head before it; a restore
-- takes the restored checkpoint's state, which must be of the same task. The time is the database's.
CREATE FUNCTION agentflow.prepare_task_checkpoint() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  task_deleted timestamptz;
  head_id uuid;
  head_sequence integer;
  restored jsonb;
BEGIN
  SELECT t.deleted_at INTO task_deleted FROM tasks t
   WHERE t.tenant_id = NEW.tenant_id AND t.id = NEW.task_id FOR NO KEY UPDATE;
  -- Not found (unknown, or another tenant's): row-level security or the foreign key refuses it (a
  -- first checkpoint meanwhile, so that no CHECK speaks first).
  IF NOT FOUND THEN
    NEW.sequence := 1;
    NEW.parent_id := NULL;
    RETURN NEW;
  END IF;
  IF task_deleted IS NOT NULL THEN
    RAISE EXCEPTION 'task % is deleted', NEW.task_id USING ERRCODE = 'AF051', TABLE = 'tasks';
  END IF;
  SELECT c.id, c.sequence INTO head_id, head_sequence FROM task_checkpoints c
   WHERE c.tenant_id = NEW.tenant_id AND c.task_id = NEW.task_id
   ORDER BY c.sequence DESC LIMIT 1;
  NEW.sequence := coalesce(head_sequence, 0) + 1;
  NEW.parent_id := head_id;
  IF NEW.restored_from_id IS NOT NULL THEN
    SELECT c.state INTO restored FROM task_checkpoints c
     WHERE c.tenant_id = NEW.tenant_id AND c.task_id = NEW.task_id AND c.id = NEW.restored_from_id;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'task checkpoint % not found in task %', NEW.restored_from_id, NEW.task_id
        USING ERRCODE = 'AF093', TABLE = TG_TABLE_NAME, COLUMN = 'restored_from_id';
    END IF;
    NEW.state := restored;
  END IF;
  NEW.created_at := now();
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.prepare_task_checkpoint() FROM PUBLIC;
CREATE TRIGGER task_checkpoints_prepare BEFORE INSERT ON task_checkpoints
  FOR EACH ROW EXECUTE FUNCTION agentflow.prepare_task_checkpoint();
