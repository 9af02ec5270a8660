package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// redacted replaces the value of a sensitive parameter in audit records.
const redacted = "[redacted]"

// secretWords mark a parameter as sensitive by name, whatever the command
// declares.
func secretWords() []string {
	return []string{"password", "secret", "token", "credential"}
}

// AuditCommand records one command run in a shell, durably, before it
// returns: the cmdlet, its parameters as JSON with the sensitive ones
// redacted (those sensitive reports, which may be nil, and any whose name
// contains password, secret, token or credential), the outcome
// (store.OutcomeOK or store.OutcomeError), the catalog code of a failure
// and the duration. The caller should not report a command's result
// before this succeeds.
func (a *Admitter) AuditCommand(ctx context.Context, p psgate.Principal, shellID, commandID, cmdlet string,
	params map[string]any, sensitive func(name string) bool, outcome string, code psgate.Code, dur time.Duration) error {
	a.mu.Lock()
	sh := a.shells[shellID]
	a.mu.Unlock()
	args, err := redactParams(params, sensitive)
	if err != nil {
		return fmt.Errorf("admission: audit command %s: %w", cmdlet, err)
	}
	rec := store.AuditRecord{
		Time: a.now(), TenantID: p.TenantID, UserID: p.UserID, UPN: p.UPN,
		Action: store.ActionCommand, ShellID: shellID, CommandID: commandID, Cmdlet: cmdlet,
		Parameters: args, Outcome: outcome, Code: string(code), Duration: dur, ClientAddr: sh.clientAddr,
	}
	if _, err := a.st.AppendAudit(context.WithoutCancel(ctx), rec); err != nil {
		return fmt.Errorf("admission: audit command %s: %w", cmdlet, err)
	}
	return nil
}

// redactParams renders parameters as a JSON object with sorted keys,
// sensitive values replaced. A value JSON cannot encode is written as its
// text.
func redactParams(params map[string]any, sensitive func(string) bool) (string, error) {
	if len(params) == 0 {
		return "", nil
	}
	out := make(map[string]json.RawMessage, len(params))
	for name, v := range params {
		if isSecret(name, sensitive) {
			v = redacted
		}
		b, err := json.Marshal(v)
		if err != nil {
			if b, err = json.Marshal(fmt.Sprint(v)); err != nil {
				return "", err
			}
		}
		out[name] = b
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func isSecret(name string, sensitive func(string) bool) bool {
	if sensitive != nil && sensitive(name) {
		return true
	}
	lower := strings.ToLower(name)
	for _, w := range secretWords() {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}
