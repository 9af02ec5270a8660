-- psgate schema version 1, SQLite dialect.
-- Keep in step with store/postgres/migrations/0001_init.sql: same tables,
-- columns and version numbers. Times are INTEGER unix milliseconds (0 =
-- unset); names, domains, UPNs and object IDs are stored lower-case.

CREATE TABLE tenants (
    id                       INTEGER PRIMARY KEY,
    name                     TEXT    NOT NULL UNIQUE,
    domain                   TEXT    NOT NULL UNIQUE,
    display_name             TEXT    NOT NULL DEFAULT '',
    enable_remote_powershell INTEGER NOT NULL,
    max_shells_per_user      INTEGER NOT NULL,
    max_shells_per_tenant    INTEGER NOT NULL,
    session_lifetime_ms      INTEGER NOT NULL,
    idle_timeout_ms          INTEGER NOT NULL,
    max_creations_per_minute INTEGER NOT NULL,
    allow_password_auth      INTEGER NOT NULL,
    created_at               INTEGER NOT NULL
);

CREATE TABLE users (
    id                       INTEGER PRIMARY KEY,
    tenant_id                INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    object_id                TEXT    NOT NULL UNIQUE,
    upn                      TEXT    NOT NULL UNIQUE,
    display_name             TEXT    NOT NULL DEFAULT '',
    sip_address              TEXT    NOT NULL DEFAULT '',
    department               TEXT    NOT NULL DEFAULT '',
    title                    TEXT    NOT NULL DEFAULT '',
    usage_location           TEXT    NOT NULL DEFAULT '',
    line_uri                 TEXT    NOT NULL DEFAULT '',
    enterprise_voice_enabled INTEGER NOT NULL DEFAULT 0,
    enabled                  INTEGER NOT NULL DEFAULT 1,
    password_hash            TEXT    NOT NULL DEFAULT '',
    max_shells               INTEGER NOT NULL DEFAULT 0,
    password_changed_at      INTEGER NOT NULL DEFAULT 0,
    created_at               INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL
);
CREATE INDEX users_tenant ON users (tenant_id, id);

-- tenant_id NULL marks a built-in role, visible to every tenant.
CREATE TABLE roles (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    entries     TEXT    NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX roles_name ON roles (coalesce(tenant_id, 0), lower(name));

-- Built-in roles (see store.RoleTenantAdministrator and friends).
-- Helpdesk: look users up, fix their voice settings, end stuck sessions.
INSERT INTO roles (id, tenant_id, name, description, entries) VALUES
    (1, NULL, 'Tenant Administrator', 'Every cmdlet in the tenant.',
        '[{"cmdlet":"*"}]'),
    (2, NULL, 'Tenant Reader', 'Read-only cmdlets (Get-*, Search-*).',
        '[{"cmdlet":"Get-*"},{"cmdlet":"Search-*"}]'),
    (3, NULL, 'Helpdesk', 'Look up users, set their voice settings, end their sessions.',
        '[{"cmdlet":"Get-CsOnlineUser"},{"cmdlet":"Set-CsUser","parameters":["Identity","EnterpriseVoiceEnabled","LineURI"]},{"cmdlet":"Get-CsOnlineSession"},{"cmdlet":"Remove-CsOnlineSession"}]');

CREATE TABLE role_assignments (
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id     INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    assigned_at INTEGER NOT NULL,
    assigned_by TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX role_assignments_tenant ON role_assignments (tenant_id, role_id);
CREATE INDEX role_assignments_role ON role_assignments (role_id);

CREATE TABLE gateway_nodes (
    node_id      TEXT    PRIMARY KEY,
    node_name    TEXT    NOT NULL,
    internal_url TEXT    NOT NULL DEFAULT '',
    started_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    draining     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX gateway_nodes_name ON gateway_nodes (node_name);

-- One row per open or disconnected shell. Counts are derived from the live
-- rows (expires_at > now); node_id has no foreign key on purpose.
CREATE TABLE shell_leases (
    shell_id       TEXT    PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    node_id        TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    state          TEXT    NOT NULL DEFAULT 'connected',
    name           TEXT    NOT NULL DEFAULT '',
    client_addr    TEXT    NOT NULL DEFAULT '',
    user_agent     TEXT    NOT NULL DEFAULT '',
    opened_at      INTEGER NOT NULL,
    last_active_at INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);
CREATE INDEX shell_leases_tenant_user ON shell_leases (tenant_id, user_id, expires_at);
CREATE INDEX shell_leases_node ON shell_leases (node_id);
CREATE INDEX shell_leases_expires ON shell_leases (expires_at);

-- Creation log for the creation-rate limit, trimmed by the sweeper.
CREATE TABLE shell_creations (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX shell_creations_user ON shell_creations (tenant_id, user_id, created_at);
CREATE INDEX shell_creations_time ON shell_creations (created_at);

-- Append-only; no foreign keys so records outlive their tenant and user.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    tenant_id   INTEGER NOT NULL DEFAULT 0,
    user_id     INTEGER NOT NULL DEFAULT 0,
    upn         TEXT    NOT NULL DEFAULT '',
    action      TEXT    NOT NULL,
    shell_id    TEXT    NOT NULL DEFAULT '',
    command_id  TEXT    NOT NULL DEFAULT '',
    cmdlet      TEXT    NOT NULL DEFAULT '',
    parameters  TEXT    NOT NULL DEFAULT '',
    outcome     TEXT    NOT NULL DEFAULT '',
    code        TEXT    NOT NULL DEFAULT '',
    duration_ns INTEGER NOT NULL DEFAULT 0,
    client_addr TEXT    NOT NULL DEFAULT '',
    detail      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_shell ON audit_log (shell_id) WHERE shell_id <> '';

CREATE TABLE signing_keys (
    kid         TEXT    PRIMARY KEY,
    alg         TEXT    NOT NULL,
    private_pem BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    not_before  INTEGER NOT NULL DEFAULT 0,
    retire_at   INTEGER NOT NULL DEFAULT 0
);

-- id is a hash of the token; the token itself is never stored.
CREATE TABLE refresh_tokens (
    id         TEXT    PRIMARY KEY,
    family_id  TEXT    NOT NULL,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT    NOT NULL DEFAULT '',
    scope      TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0,
    revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

CREATE TABLE oauth_clients (
    client_id       TEXT    PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name            TEXT    NOT NULL DEFAULT '',
    secret_hash     TEXT    NOT NULL DEFAULT '',
    certificate_pem BLOB,
    user_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX oauth_clients_tenant ON oauth_clients (tenant_id);
CREATE INDEX oauth_clients_user ON oauth_clients (user_id);

-- key: "u:<upn>" (account) or "a:<ip>" (client address).
CREATE TABLE login_failures (
    key          TEXT    PRIMARY KEY,
    failures     INTEGER NOT NULL,
    first_at     INTEGER NOT NULL,
    locked_until INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE federations (
    tenant_id  INTEGER PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    issuer     TEXT    NOT NULL,
    audience   TEXT    NOT NULL DEFAULT '',
    user_claim TEXT    NOT NULL DEFAULT '',
    enabled    INTEGER NOT NULL DEFAULT 1
);
