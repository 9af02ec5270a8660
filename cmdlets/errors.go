package cmdlets

import (
	"errors"
	"fmt"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/store"
)

// notFound is the non-terminating error written when an identity matches
// no object in the caller's tenant.
func notFound(inv *engine.Invocation, identity string) *engine.ErrorRecord {
	return engine.NewErrorRecord(psgate.E(psgate.CodeObjectNotFound, psgate.Args{
		"identity": identity,
		"tenant":   tenantLabel(inv.Caller),
	}), "ObjectNotFound", engine.CategoryObjectNotFound, identity)
}

// terminating stops the pipeline with a user-facing error; errorID becomes
// the FullyQualifiedErrorID "<errorID>,<command>".
func terminating(inv *engine.Invocation, err *psgate.Error, category engine.Category, errorID string) error {
	rec := engine.NewErrorRecord(err, errorID+","+inv.Command.Name, category, nil)
	rec.Activity = inv.Command.Name
	return &engine.TerminatingError{Record: rec}
}

// storeError maps a store failure: an unreachable store is a user-facing
// error (retry later); anything else is internal, wrapped with context for
// the engine to log and report as an internal error.
func storeError(inv *engine.Invocation, op string, err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		return terminating(inv, psgate.Wrap(psgate.CodeStoreDown, nil, err),
			engine.CategoryResourceUnavailable, "StoreUnavailable")
	}
	return fmt.Errorf("cmdlets: %s: %s: %w", inv.Command.Name, op, err)
}

// tenantLabel names the caller's tenant in messages.
func tenantLabel(c engine.Caller) string {
	if c.Tenant != "" {
		return c.Tenant
	}
	return fmt.Sprintf("#%d", c.TenantID)
}
