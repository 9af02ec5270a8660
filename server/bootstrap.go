package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"

	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/store"
)

// Demo tenant created on first start.
const (
	DemoTenant = "contoso"
	DemoDomain = "contoso.test"
	DemoAdmin  = "admin@contoso.test"
	// BootstrapFile holds the demo administrator's initial password.
	BootstrapFile = "bootstrap-admin.txt"
)

// Bootstrap is what first start created.
type Bootstrap struct {
	Created bool
	// PasswordFile is where the generated password was written; empty
	// when it came from the environment.
	PasswordFile string
}

type demoUser struct {
	upn, name, dept, title, loc, line string
	voice, enabled                    bool
}

var demoUsers = [...]demoUser{
	{"alice@contoso.test", "Alice Wong", "Sales", "Account Manager", "US", "tel:+14255550101", true, true},
	{"bob@contoso.test", "Bob Kelly", "Engineering", "Developer", "GB", "", false, true},
	{"carol@contoso.test", "Carol Diaz", "Support", "Helpdesk Lead", "ES", "tel:+34915550102", true, true},
	{"dave@contoso.test", "Dave Lee", "Finance", "Controller", "US", "", false, false},
	{"erin@contoso.test", "Erin Park", "Sales", "Sales Director", "DE", "tel:+49305550103", true, true},
}

// bootstrap creates the demo tenant, its administrator and demo users when
// the store has no tenant yet.
func bootstrap(ctx context.Context, st store.Store, dataDir, adminPassword string, params password.Params) (Bootstrap, error) {
	tenants, err := st.ListTenants(ctx)
	if err != nil {
		return Bootstrap{}, fmt.Errorf("server: bootstrap: %w", err)
	}
	if len(tenants) > 0 {
		return Bootstrap{}, nil
	}
	var b Bootstrap
	if adminPassword != "" {
		if err := password.CheckNew(adminPassword); err != nil {
			return b, fmt.Errorf("server: $PSGATE_BOOTSTRAP_PASSWORD: %w", err)
		}
	}
	if adminPassword == "" {
		adminPassword, err = generatePassword()
		if err != nil {
			return b, err
		}
		b.PasswordFile = filepath.Join(dataDir, BootstrapFile)
		text := fmt.Sprintf("# psgate demo tenant administrator (created on first start)\nuser: %s\npassword: %s\n", DemoAdmin, adminPassword)
		if err := os.WriteFile(b.PasswordFile, []byte(text), 0o600); err != nil {
			return b, fmt.Errorf("server: write %s: %w", b.PasswordFile, err)
		}
	}
	pol := store.DefaultPolicy()
	// The demo tenant allows passwords so that stock clients work at once;
	// new tenants do not (documented in the README).
	pol.AllowPasswordAuthentication = true
	hash, err := password.Hash(adminPassword, params)
	if err != nil {
		return b, err
	}
	// The tenant and its administrator come in one transaction: a start
	// that fails half-way leaves no tenant without an administrator.
	t, err := st.CreateTenant(ctx, store.Tenant{Name: DemoTenant, Domain: DemoDomain, DisplayName: "Contoso (demo)", Policy: pol},
		store.FirstAdmin{User: store.User{UPN: DemoAdmin, DisplayName: "Contoso Administrator",
			SipAddress: "sip:" + DemoAdmin, Department: "IT", Title: "Tenant Administrator", UsageLocation: "US",
			Enabled: true, PasswordHash: hash}, AssignedBy: "bootstrap"})
	if errors.Is(err, store.ErrConflict) {
		// Another node sharing the store bootstrapped it first.
		if b.PasswordFile != "" {
			_ = os.Remove(b.PasswordFile)
		}
		return Bootstrap{}, nil
	}
	if err != nil {
		return b, fmt.Errorf("server: bootstrap tenant: %w", err)
	}
	for _, d := range demoUsers {
		_, err := st.CreateUser(ctx, store.User{TenantID: t.ID, UPN: d.upn, DisplayName: d.name,
			SipAddress: "sip:" + d.upn, Department: d.dept, Title: d.title, UsageLocation: d.loc,
			LineURI: d.line, EnterpriseVoiceEnabled: d.voice, Enabled: d.enabled})
		if err != nil {
			return b, fmt.Errorf("server: bootstrap user %s: %w", d.upn, err)
		}
	}
	b.Created = true
	return b, nil
}

// generatePassword returns 20 random characters from an alphabet without
// look-alikes.
func generatePassword() (string, error) {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", fmt.Errorf("server: generate password: %w", err)
		}
		b[i] = alphabet[n.Int64()]
	}
	return string(b), nil
}
