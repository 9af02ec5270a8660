-- psgate schema version 2, SQLite dialect: the directory generation.
-- Keep in step with store/postgres/migrations/0002_directory_generation.sql.
--
-- One number that grows in the same transaction as every change to
-- tenants (policies included), users, roles and role assignments, made by
-- any node, process or hand-written SQL. A node caches those rows and
-- reads only this number to know whether its copy is still current (see
-- store/cache). Triggers, not store code, bump it, so no write path can
-- forget to.

CREATE TABLE directory_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO directory_generation (id, n) VALUES (1, 1);

CREATE TRIGGER tenants_generation_insert AFTER INSERT ON tenants
BEGIN UPDATE directory_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER tenants_generation_update AFTER UPDATE ON tenants
BEGIN UPDATE directory_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER tenants_generation_delete AFTER DELETE ON tenants
BEGIN UPDATE directory_generation SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER users_generation_insert AFTER INSERT ON users
BEGIN UPDATE directory_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER users_generation_update AFTER UPDATE ON users
BEGIN UPDATE directory_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER users_generation_delete AFTER DELETE ON users
BEGIN UPDATE directory_generation SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER roles_generation_insert AFTER INSERT ON roles
BEGIN UPDATE directory_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER roles_generation_update AFTER UPDATE ON roles
BEGIN UPDATE directory_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER roles_generation_delete AFTER DELETE ON roles
BEGIN UPDATE directory_generation SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER role_assignments_generation_insert AFTER INSERT ON role_assignments
BEGIN UPDATE directory_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER role_assignments_generation_update AFTER UPDATE ON role_assignments
BEGIN UPDATE directory_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER role_assignments_generation_delete AFTER DELETE ON role_assignments
BEGIN UPDATE directory_generation SET n = n + 1 WHERE id = 1; END;
