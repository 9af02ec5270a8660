package identity

import (
	"context"
	"log/slog"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/logkey"
	"github.com/psgate/psgate/store"
)

// Auditor appends to the audit log; store.Audit satisfies it.
type Auditor interface {
	AppendAudit(ctx context.Context, r store.AuditRecord) (int64, error)
}

// auditTimeout bounds one audit write, which outlives the request: a
// client that hangs up must not erase the record of its failed sign-in.
const auditTimeout = 5 * time.Second

// Entry points of a sign-in, as audit records and logs name them.
const (
	viaBasic         = "basic password"
	viaPasswordGrant = "password grant"
	viaDevicePage    = "device page"
	viaClientSecret  = "client authentication"
)

// signInFailure is one failed sign-in to audit.
type signInFailure struct {
	// tenantID, userID and upn name a real account or application, else
	// they are zero.
	tenantID psgate.TenantID
	userID   psgate.UserID
	upn      string
	addr     string
	via      string // one of the via constants
	code     psgate.Code
	detail   string
}

// auditFailure writes an auth.failed record. The caller names the user
// and tenant only for a real account: a password typed into the user name
// field must not reach the audit log. A write that fails is logged, and
// the sign-in still fails with its own error.
func auditFailure(ctx context.Context, a Auditor, log *slog.Logger, now time.Time, f signInFailure) {
	if a == nil {
		return
	}
	r := store.AuditRecord{
		Time:       now,
		Action:     store.ActionAuthFailed,
		Outcome:    store.OutcomeRefused,
		Code:       string(f.code),
		ClientAddr: f.addr,
		Detail:     f.via,
	}
	if f.detail != "" {
		r.Detail += ": " + f.detail
	}
	r.TenantID, r.UserID, r.UPN = f.tenantID, f.userID, f.upn
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	if _, err := a.AppendAudit(ctx, r); err != nil {
		log.Error("cannot write the audit record of a failed sign-in", logkey.Err, err, logkey.Client, f.addr)
	}
}
