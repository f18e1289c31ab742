-- A stand-in for ZITADEL v4.13's database: the relations the receiver reads,
-- with their real names and columns, and the counting triggers ZITADEL keeps
-- projections.resource_counts up to date with, on stand-in source tables that
-- have only the columns the triggers use. The triggers reproduce the semantics
-- of ZITADEL's internal/migration/count_trigger.sql, attached as
-- cmd/setup/trigger_steps.go attaches them:
--   - an INSERT that meets the resource's condition upserts the count (a new
--     parent starts at 1); a DELETE takes one away while above 0; a row is
--     never removed at 0, and a parent never counted has no row;
--   - only enforce_mfa and password_change_notification track UPDATEs (up when
--     the condition becomes true, down when it becomes false; NULL never fires);
--   - deleting an instance or organization row removes the counts under it;
--   - creating the triggers recounts the table: COUNT(*) per parent, upserted,
--     so counts of parents that no longer have rows keep their old values.
--
-- One deliberate difference: ZITADEL's TRUNCATE trigger function lacks a
-- RETURN and so makes TRUNCATE of a counted table fail; here it removes the
-- table's counts, as the function means to. ZITADEL itself never truncates
-- these tables.

CREATE SCHEMA projections;
CREATE SCHEMA eventstore;
CREATE SCHEMA system;

-- Relations the receiver reads -----------------------------------------------

CREATE TABLE eventstore.events2 (
    instance_id    TEXT        NOT NULL,
    aggregate_type TEXT        NOT NULL,
    aggregate_id   TEXT        NOT NULL,
    event_type     TEXT        NOT NULL,
    "sequence"     BIGINT      NOT NULL,
    revision       SMALLINT    NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    payload        JSONB,
    creator        TEXT        NOT NULL,
    "owner"        TEXT        NOT NULL,
    "position"     DECIMAL     NOT NULL,
    in_tx_order    INTEGER     NOT NULL,
    PRIMARY KEY (instance_id, aggregate_type, aggregate_id, "sequence")
);
CREATE INDEX es_projection ON eventstore.events2 (instance_id, aggregate_type, event_type, "position");
CREATE INDEX es_wm ON eventstore.events2 (instance_id, aggregate_id, aggregate_type, event_type, "position");
CREATE INDEX es_active_instances ON eventstore.events2 (created_at DESC, instance_id);

CREATE TABLE projections.instances (
    id                TEXT        NOT NULL,
    name              TEXT        NOT NULL DEFAULT '',
    change_date       TIMESTAMPTZ NOT NULL,
    creation_date     TIMESTAMPTZ NOT NULL,
    default_org_id    TEXT        NOT NULL DEFAULT '',
    iam_project_id    TEXT        NOT NULL DEFAULT '',
    console_client_id TEXT        NOT NULL DEFAULT '',
    console_app_id    TEXT        NOT NULL DEFAULT '',
    "sequence"        BIGINT      NOT NULL,
    default_language  TEXT        NOT NULL DEFAULT '',
    PRIMARY KEY (id)
);

CREATE TABLE projections.instance_domains (
    instance_id   TEXT        NOT NULL,
    creation_date TIMESTAMPTZ NOT NULL,
    change_date   TIMESTAMPTZ NOT NULL,
    "sequence"    BIGINT      NOT NULL,
    domain        TEXT        NOT NULL,
    is_generated  BOOLEAN     NOT NULL,
    is_primary    BOOLEAN     NOT NULL,
    PRIMARY KEY (instance_id, domain)
);
CREATE INDEX instance_domains_instance_domain_idx ON projections.instance_domains (domain)
    INCLUDE (creation_date, change_date, "sequence", is_generated, is_primary);

-- Shape after ZITADEL's setup steps 57 and 63.
CREATE TABLE projections.resource_counts (
    id            SERIAL PRIMARY KEY,
    instance_id   TEXT        NOT NULL,
    table_name    TEXT        NOT NULL,
    parent_type   TEXT        NOT NULL,
    parent_id     TEXT        NOT NULL,
    resource_name TEXT        NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    amount        INTEGER     NOT NULL DEFAULT 1 CHECK (amount >= 0),
    CONSTRAINT unique_resource UNIQUE (instance_id, parent_type, parent_id, table_name, resource_name)
);

-- Counting ---------------------------------------------------------------------

-- Trigger arguments: parent type, instance id column, parent id column,
-- resource name, and for UPDATE triggers the direction 'UP' or 'DOWN'.
-- Up adds one (a new key starts at 1), down takes one away but never below 0
-- and never removes the row.
CREATE FUNCTION projections.count_resource() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    counted     JSONB;
    v_table     TEXT := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
    v_parent    TEXT := TG_ARGV[0];
    v_resource  TEXT := TG_ARGV[3];
    v_instance  TEXT;
    v_parent_id TEXT;
    v_up        BOOLEAN;
BEGIN
    IF TG_OP = 'DELETE' THEN
        counted := to_jsonb(OLD);
    ELSE
        counted := to_jsonb(NEW);
    END IF;
    v_instance := counted ->> TG_ARGV[1];
    v_parent_id := counted ->> TG_ARGV[2];
    v_up := CASE TG_OP WHEN 'INSERT' THEN TRUE WHEN 'DELETE' THEN FALSE ELSE TG_ARGV[4] = 'UP' END;

    IF v_up THEN
        INSERT INTO projections.resource_counts AS rc
            (instance_id, table_name, parent_type, parent_id, resource_name)
        VALUES (v_instance, v_table, v_parent, v_parent_id, v_resource)
        ON CONFLICT (instance_id, parent_type, parent_id, table_name, resource_name)
        DO UPDATE SET amount = rc.amount + 1, updated_at = now();
    ELSE
        UPDATE projections.resource_counts
        SET amount = amount - 1, updated_at = now()
        WHERE instance_id = v_instance AND table_name = v_table AND parent_type = v_parent
          AND parent_id = v_parent_id AND resource_name = v_resource AND amount > 0;
    END IF;
    RETURN NULL;
END
$$;

-- Removes every count of a table that was truncated.
CREATE FUNCTION projections.delete_table_counts() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM projections.resource_counts WHERE table_name = TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
    RETURN NULL;
END
$$;

-- Arguments: parent type, instance id column, parent id column. Removes the
-- counts whose parent is the deleted row.
CREATE FUNCTION projections.delete_parent_counts() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    removed JSONB := to_jsonb(OLD);
BEGIN
    DELETE FROM projections.resource_counts
    WHERE instance_id = removed ->> TG_ARGV[1]
      AND parent_type = TG_ARGV[0]
      AND parent_id = removed ->> TG_ARGV[2];
    RETURN NULL;
END
$$;

-- Counts a source table's rows per parent and upserts the totals, as ZITADEL
-- does under a SHARE lock whenever a setup run (re)creates the triggers. Only
-- parents with matching rows get a row; a parent whose rows are all gone keeps
-- the count it had.
CREATE PROCEDURE projections.recount(
    p_source TEXT, p_parent_type TEXT, p_instance_col TEXT, p_parent_col TEXT, p_resource TEXT,
    p_condition TEXT DEFAULT NULL
) LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('LOCK TABLE %s IN SHARE MODE', p_source);
    EXECUTE format($sql$
        INSERT INTO projections.resource_counts AS rc (instance_id, table_name, parent_type, parent_id, resource_name, amount)
        SELECT src.%I, %L, %L, src.%I, %L, COUNT(*) FROM %s AS src %s GROUP BY src.%I, src.%I
        ON CONFLICT (instance_id, parent_type, parent_id, table_name, resource_name)
        DO UPDATE SET amount = EXCLUDED.amount, updated_at = now()$sql$,
        p_instance_col, p_source, p_parent_type, p_parent_col, p_resource, p_source,
        CASE WHEN p_condition IS NULL THEN '' ELSE 'WHERE ' || replace(p_condition, '{row}', 'src') END,
        p_instance_col, p_parent_col);
END
$$;

-- Attaches the count triggers of one resource to a source table. condition is
-- a boolean over the row written as {row}; tracked adds the UPDATE triggers
-- that count a row in when the condition becomes true and out when it
-- becomes false.
CREATE PROCEDURE projections.count_rows(
    p_source TEXT, p_parent_type TEXT, p_instance_col TEXT, p_parent_col TEXT, p_resource TEXT,
    p_condition TEXT DEFAULT NULL, p_tracked BOOLEAN DEFAULT FALSE
) LANGUAGE plpgsql AS $$
DECLARE
    args TEXT := format('%L, %L, %L, %L', p_parent_type, p_instance_col, p_parent_col, p_resource);
    new_true TEXT := replace(p_condition, '{row}', 'NEW');
    old_true TEXT := replace(p_condition, '{row}', 'OLD');
BEGIN
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s FOR EACH ROW %s EXECUTE FUNCTION projections.count_resource(%s)',
        'count_' || p_resource || '_insert', p_source,
        CASE WHEN p_condition IS NULL THEN '' ELSE 'WHEN (' || new_true || ')' END, args);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %s FOR EACH ROW %s EXECUTE FUNCTION projections.count_resource(%s)',
        'count_' || p_resource || '_delete', p_source,
        CASE WHEN p_condition IS NULL THEN '' ELSE 'WHEN (' || old_true || ')' END, args);
    IF p_tracked THEN
        -- NULL on either side never fires, as in ZITADEL.
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s FOR EACH ROW WHEN ((%s) AND NOT (%s)) EXECUTE FUNCTION projections.count_resource(%s, %L)',
            'count_' || p_resource || '_update_up', p_source, new_true, old_true, args, 'UP');
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s FOR EACH ROW WHEN ((%s) AND NOT (%s)) EXECUTE FUNCTION projections.count_resource(%s, %L)',
            'count_' || p_resource || '_update_down', p_source, old_true, new_true, args, 'DOWN');
    END IF;
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION projections.delete_table_counts()',
        'truncate_' || p_resource || '_counts', p_source);
    CALL projections.recount(p_source, p_parent_type, p_instance_col, p_parent_col, p_resource, p_condition);
END
$$;

-- Stand-in source tables ---------------------------------------------------------

CREATE TABLE projections.orgs1 (
    id TEXT NOT NULL, instance_id TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (instance_id, id)
);
CREATE TABLE projections.projects4 (
    id TEXT NOT NULL, instance_id TEXT NOT NULL, resource_owner TEXT NOT NULL,
    PRIMARY KEY (instance_id, id)
);
CREATE TABLE projections.users14 (
    id TEXT NOT NULL, instance_id TEXT NOT NULL, resource_owner TEXT NOT NULL,
    type SMALLINT NOT NULL, -- 1 human, 2 machine
    PRIMARY KEY (instance_id, id)
);
CREATE TABLE projections.user_metadata5 (
    user_id TEXT NOT NULL, instance_id TEXT NOT NULL, resource_owner TEXT NOT NULL,
    key TEXT NOT NULL, value BYTEA,
    PRIMARY KEY (instance_id, user_id, key)
);
CREATE TABLE projections.instance_members4 (
    user_id TEXT NOT NULL, instance_id TEXT NOT NULL, resource_owner TEXT NOT NULL,
    PRIMARY KEY (instance_id, user_id)
);
CREATE TABLE projections.login_policies5 (
    aggregate_id TEXT NOT NULL, instance_id TEXT NOT NULL,
    force_mfa BOOLEAN, force_mfa_local_only BOOLEAN,
    PRIMARY KEY (instance_id, aggregate_id)
);
CREATE TABLE projections.notification_policies (
    id TEXT NOT NULL, instance_id TEXT NOT NULL, password_change BOOLEAN,
    PRIMARY KEY (instance_id, id)
);
CREATE TABLE projections.idps3                        (id TEXT NOT NULL, instance_id TEXT NOT NULL, PRIMARY KEY (instance_id, id));
CREATE TABLE projections.idp_templates6               (id TEXT NOT NULL, instance_id TEXT NOT NULL, PRIMARY KEY (instance_id, id));
CREATE TABLE projections.idp_templates6_ldap2         (idp_id TEXT NOT NULL, instance_id TEXT NOT NULL, PRIMARY KEY (instance_id, idp_id));
CREATE TABLE projections.actions3                     (id TEXT NOT NULL, instance_id TEXT NOT NULL, PRIMARY KEY (instance_id, id));
CREATE TABLE projections.executions1                  (id TEXT NOT NULL, instance_id TEXT NOT NULL, PRIMARY KEY (instance_id, id));
CREATE TABLE projections.executions1_targets          (execution_id TEXT NOT NULL, instance_id TEXT NOT NULL, "position" INT NOT NULL, PRIMARY KEY (instance_id, execution_id, "position"));
CREATE TABLE projections.password_complexity_policies2 (id TEXT NOT NULL, instance_id TEXT NOT NULL, PRIMARY KEY (instance_id, id));
CREATE TABLE projections.password_age_policies2       (id TEXT NOT NULL, instance_id TEXT NOT NULL, PRIMARY KEY (instance_id, id));
CREATE TABLE projections.lockout_policies3            (id TEXT NOT NULL, instance_id TEXT NOT NULL, PRIMARY KEY (instance_id, id));

-- The counters of ZITADEL v4.13 (cmd/setup/trigger_steps.go).
CALL projections.count_rows('projections.orgs1', 'instance', 'instance_id', 'instance_id', 'organization');
CALL projections.count_rows('projections.projects4', 'organization', 'instance_id', 'resource_owner', 'project');
CALL projections.count_rows('projections.users14', 'organization', 'instance_id', 'resource_owner', 'user');
CALL projections.count_rows('projections.users14', 'organization', 'instance_id', 'resource_owner', 'user_machine',
    '{row}.type = 2');
CALL projections.count_rows('projections.instance_members4', 'instance', 'instance_id', 'resource_owner', 'iam_admin');
CALL projections.count_rows('projections.idps3', 'instance', 'instance_id', 'instance_id', 'identity_provider');
CALL projections.count_rows('projections.idp_templates6', 'instance', 'instance_id', 'instance_id', 'identity_provider');
CALL projections.count_rows('projections.idp_templates6_ldap2', 'instance', 'instance_id', 'instance_id', 'identity_provider_ldap');
CALL projections.count_rows('projections.actions3', 'instance', 'instance_id', 'instance_id', 'action_v1');
CALL projections.count_rows('projections.executions1', 'instance', 'instance_id', 'instance_id', 'execution');
CALL projections.count_rows('projections.executions1_targets', 'instance', 'instance_id', 'instance_id', 'execution_target');
CALL projections.count_rows('projections.login_policies5', 'instance', 'instance_id', 'instance_id', 'login_policy');
CALL projections.count_rows('projections.login_policies5', 'instance', 'instance_id', 'instance_id', 'enforce_mfa',
    '({row}.force_mfa = true OR {row}.force_mfa_local_only = true)', true);
CALL projections.count_rows('projections.password_complexity_policies2', 'instance', 'instance_id', 'instance_id', 'password_complexity_policy');
CALL projections.count_rows('projections.password_age_policies2', 'instance', 'instance_id', 'instance_id', 'password_expiry_policy');
CALL projections.count_rows('projections.lockout_policies3', 'instance', 'instance_id', 'instance_id', 'lockout_policy');
CALL projections.count_rows('projections.notification_policies', 'instance', 'instance_id', 'instance_id', 'password_change_notification',
    '{row}.password_change = true', true);
CALL projections.count_rows('projections.user_metadata5', 'organization', 'instance_id', 'resource_owner', 'scim_provisioned_user',
    '{row}.key = ''urn:zitadel:scim:emails''');

-- Removing a parent removes the counts under it.
CREATE TRIGGER delete_parent_counts_trigger AFTER DELETE ON projections.instances
    FOR EACH ROW EXECUTE FUNCTION projections.delete_parent_counts('instance', 'id', 'id');
CREATE TRIGGER delete_parent_counts_trigger AFTER DELETE ON projections.orgs1
    FOR EACH ROW EXECUTE FUNCTION projections.delete_parent_counts('organization', 'instance_id', 'id');
