-- psgate schema version 3, SQLite dialect: the audit log's shell index
-- holds where each shell starts, not every record of it.
-- Keep in step with store/postgres/migrations/0003_audit_shell_start.sql.
--
-- audit_log_shell indexed every record by its shell ID, a random GUID: each
-- record went to a random leaf of the index, and each purged record left
-- one. Once the index outgrew the cache, a command's record cost a page
-- read and a page write of its own, and the retention purge touched a
-- page per record (on SQLite a 5,000-record batch took 0.5 s, against
-- 0.03 s without it). A shell's records are appended after the first
-- record that names it, its session.open (or a session.refused, when the
-- client chose the ID and an earlier try was refused), so a search by
-- shell finds that record's ID through this small index and reads the log
-- from there on (SearchAudit).

DROP INDEX audit_log_shell;
CREATE INDEX audit_log_shell_start ON audit_log (shell_id)
    WHERE action IN ('session.open', 'session.refused') AND shell_id <> '';
