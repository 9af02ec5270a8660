-- psgate schema version 2, PostgreSQL dialect: the directory generation.
-- Keep in step with store/sqlite/migrations/0002_directory_generation.sql.
--
-- One number that grows in the same transaction as every change to
-- tenants (policies included), users, roles and role assignments, made by
-- any node, process or hand-written SQL. A node caches those rows and
-- reads only this number to know whether its copy is still current (see
-- store/cache). Statement-level triggers, not store code, bump it, so no
-- write path can forget to. Concurrent directory writes queue on this one
-- row until they commit; they are administrator actions, rare next to
-- commands.

CREATE TABLE directory_generation (
    id integer PRIMARY KEY CHECK (id = 1),
    n  bigint  NOT NULL
);
INSERT INTO directory_generation (id, n) VALUES (1, 1);

CREATE FUNCTION bump_directory_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_generation SET n = n + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER tenants_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenants
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_generation();
CREATE TRIGGER users_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_generation();
CREATE TRIGGER roles_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON roles
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_generation();
CREATE TRIGGER role_assignments_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON role_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_generation();
