package store

import (
	"context"
	"time"
)

// Audit actions and outcomes used by the gateway.
const (
	ActionSessionOpen    = "session.open"
	ActionSessionClose   = "session.close"
	ActionSessionRefused = "session.refused"
	ActionCommand        = "command"
	ActionAuthFailed     = "auth.failed"

	OutcomeOK      = "ok"
	OutcomeError   = "error"
	OutcomeRefused = "refused"
)

// AuditRecord is one audited event.
type AuditRecord struct {
	ID int64
	// Time is when it happened; zero means the store clock.
	Time      time.Time
	TenantID  int64
	UserID    int64
	UPN       string
	Action    string
	ShellID   string
	CommandID string
	Cmdlet    string
	// Parameters is JSON, already redacted by the caller.
	Parameters string
	Outcome    string
	// Code is an error catalog code or "".
	Code       string
	Duration   time.Duration
	ClientAddr string
	Detail     string
}

// AuditFilter narrows SearchAudit. Zero fields do not filter.
type AuditFilter struct {
	// TenantID 0 searches all tenants (operators only).
	TenantID int64
	// UPN matches case-insensitively.
	UPN string
	// Action matches exactly, or as a prefix when it ends with "*"
	// ("session.*").
	Action  string
	ShellID string
	// Since is inclusive, Until exclusive.
	Since time.Time
	Until time.Time
	// Limit caps the result; 0 means 1000.
	Limit int
}

// Audit is the append-only audit log.
type Audit interface {
	// AppendAudit stores r durably (committed) before returning its ID.
	AppendAudit(ctx context.Context, r AuditRecord) (int64, error)
	// SearchAudit returns matching records, newest first.
	SearchAudit(ctx context.Context, f AuditFilter) ([]AuditRecord, error)
}
