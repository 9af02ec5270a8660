package loadgen

import (
	"context"
	"errors"
	"fmt"

	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/store"
)

// Account is a legitimate user of a load run.
type Account struct {
	UPN, Password string
}

// Population says which tenants and users Provision creates.
type Population struct {
	// Users is the number of users (one per legitimate client).
	Users int
	// PerTenant is the number of users per tenant; 0 means 50.
	PerTenant int
	// Prefix names the tenants Prefix00, Prefix01, … with domains
	// Prefix00.test, …; "" means "load".
	Prefix string
	// Password is every user's password.
	Password string
	// Role is every user's role; "" means store.RoleTenantAdministrator.
	Role string
	// ShellsPerUser is how many shells each user will hold, which sizes
	// the tenant limit; 0 means ShellsPerClient.
	ShellsPerUser int
	// Params are the argon2id costs of the (one, shared) password hash;
	// the zero value means password.Default(), what a real deployment
	// stores.
	Params password.Params
}

// ShellsPerClient is how many shells a legitimate client holds open: one
// WinRS shell and one PSRP runspace pool.
const ShellsPerClient = 2

// Policy is the tenant policy Provision sets: the default per-user limit
// (3 shells, of which a client uses ShellsPerClient), a tenant limit that
// fits perTenant such users with 10% to spare, no creation-rate limit (the
// setup opens all shells within seconds) and the password grant allowed.
func Policy(perTenant int) store.Policy { return policyFor(perTenant, ShellsPerClient) }

// policyFor is Policy for users holding shellsPerUser shells each.
func policyFor(perTenant, shellsPerUser int) store.Policy {
	p := store.DefaultPolicy()
	p.MaxShellsPerTenant = perTenant*shellsPerUser + perTenant/10 + 1
	p.MaxShellCreationsPerMinute = 0
	p.AllowPasswordAuthentication = true
	return p
}

// Provision creates the tenants and users of pop in st, each user holding
// pop.Role (a Tenant Administrator unless set), and returns their accounts. Tenants and users that
// already exist (an earlier run on the same data directory) are reused and
// their policy reset; their passwords must be pop.Password.
func Provision(ctx context.Context, st store.Store, pop Population) ([]Account, error) {
	if pop.Users <= 0 || pop.Password == "" {
		return nil, errors.New("loadgen: provision needs users and a password")
	}
	if pop.PerTenant <= 0 {
		pop.PerTenant = 50
	}
	if pop.Prefix == "" {
		pop.Prefix = "load"
	}
	if pop.ShellsPerUser <= 0 {
		pop.ShellsPerUser = ShellsPerClient
	}
	policy := policyFor(pop.PerTenant, pop.ShellsPerUser)
	if pop.Role == "" {
		pop.Role = store.RoleTenantAdministrator
	}
	if pop.Params.Memory == 0 {
		pop.Params = password.Default()
	}
	hash, err := password.Hash(pop.Password, pop.Params)
	if err != nil {
		return nil, err
	}
	accounts := make([]Account, 0, pop.Users)
	for t := 0; len(accounts) < pop.Users; t++ {
		name := fmt.Sprintf("%s%02d", pop.Prefix, t)
		tn, err := st.CreateTenant(ctx, store.Tenant{Name: name, Domain: name + ".test", DisplayName: name, Policy: policy})
		if errors.Is(err, store.ErrConflict) {
			if tn, err = st.TenantByName(ctx, name); err == nil {
				err = st.UpdatePolicy(ctx, tn.ID, policy)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("loadgen: tenant %s: %w", name, err)
		}
		role, err := st.RoleByName(ctx, tn.ID, pop.Role)
		if err != nil {
			return nil, fmt.Errorf("loadgen: tenant %s: %w", name, err)
		}
		for u := 0; u < pop.PerTenant && len(accounts) < pop.Users; u++ {
			upn := fmt.Sprintf("user%d@%s.test", u, name)
			usr, err := st.CreateUser(ctx, store.User{TenantID: tn.ID, UPN: upn, DisplayName: upn, Enabled: true, PasswordHash: hash})
			if errors.Is(err, store.ErrConflict) {
				accounts = append(accounts, Account{UPN: upn, Password: pop.Password})
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("loadgen: user %s: %w", upn, err)
			}
			if err := st.Assign(ctx, store.Assignment{TenantID: tn.ID, UserID: usr.ID, RoleID: role.ID, AssignedBy: "loadgen"}); err != nil {
				return nil, fmt.Errorf("loadgen: assign %s: %w", upn, err)
			}
			accounts = append(accounts, Account{UPN: upn, Password: pop.Password})
		}
	}
	return accounts, nil
}
