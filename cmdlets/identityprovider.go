package cmdlets

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/identity"
	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/store"
)

// TypeTenantIdentityProvider is the object Get-CsTenantIdentityProvider
// writes.
const TypeTenantIdentityProvider = "Psgate.TenantIdentityProvider"

// providerCheckTimeout bounds Set-CsTenantIdentityProvider's check of the
// provider, which runs in the gateway on the tenant administrator's
// behalf (each fetch is also bounded, by the identity package).
const providerCheckTimeout = 15 * time.Second

// federations is the part of the store the identity provider cmdlets
// use. Both stores implement it (store.Federations); a Directory that
// does not makes the cmdlets fail with an internal error.
type federations interface {
	Federation(ctx context.Context, tenantID psgate.TenantID) (store.Federation, error)
	SetFederation(ctx context.Context, f store.Federation) error
}

// Names of the identity provider cmdlets. The Skype and Teams modules
// use *-CsTenantFederationConfiguration for federation with other
// organisations, so these name the tenant's own OpenID Connect provider.
const (
	cmdGetIdentityProvider    = "Get-CsTenantIdentityProvider"
	cmdSetIdentityProvider    = "Set-CsTenantIdentityProvider"
	cmdRemoveIdentityProvider = "Remove-CsTenantIdentityProvider"
)

// IdentityProviderObject converts a tenant's federation, and what the
// provider check found when it ran, to the object the identity provider
// cmdlets write.
func IdentityProviderObject(t store.Tenant, f store.Federation, info *identity.ProviderInfo) *psobject.Object {
	claim := f.UserClaim
	if claim == "" {
		claim = identity.DefaultUserClaim
	}
	var keys any // $null unless the check ran
	jwks := ""
	if info != nil {
		list := make([]any, 0, len(info.Keys))
		jwks = info.JWKSURI
		for _, k := range info.Keys {
			alg := k.Algorithm
			if alg == "" {
				alg = "any"
			}
			list = append(list, fmt.Sprintf("%s (%s %s)", k.KeyID, k.Type, alg))
		}
		keys = list
	}
	o := psobject.New([]string{TypeTenantIdentityProvider, "System.Object"},
		psobject.P("Identity", t.Name),
		psobject.P("Issuer", f.Issuer),
		psobject.P("Audience", f.Audience),
		psobject.P("UserClaim", claim),
		psobject.P("Enabled", f.Enabled),
		psobject.P("JwksUri", jwks),
		psobject.P("SigningKeys", keys),
	)
	o.Text = f.Issuer
	o.DisplayProps = []string{"Identity", "Issuer", "Audience", "UserClaim", "Enabled"}
	return o
}

func getCsTenantIdentityProvider(dir Directory, client *http.Client) *engine.Command {
	return &engine.Command{
		Name:     cmdGetIdentityProvider,
		Synopsis: "Gets the OpenID Connect provider your tenant's users may sign in with.",
		Description: "The Get-CsTenantIdentityProvider cmdlet shows the OpenID Connect provider " +
			"your tenant trusts: its issuer URL, the audience its tokens must carry for " +
			"remote PowerShell, and the claim that names the user (UserClaim, " +
			"preferred_username unless set). A token of that provider signs in the user of " +
			"your tenant whose user principal name the claim holds.\n\n" +
			"It writes nothing when your tenant trusts no provider. Use -Test to also fetch " +
			"the provider's discovery document and keys, as sign-ins do, and show the keys.",
		OutputType: []string{TypeTenantIdentityProvider},
		Parameters: []engine.Parameter{
			{
				Name: "Test", Type: engine.TypeSwitch, Position: engine.NotPositional,
				Help: "Also checks that the provider is usable now and shows its signing keys (JwksUri, SigningKeys); a failed check is an error.",
			},
		},
		Examples: []engine.Example{
			{Code: "Get-CsTenantIdentityProvider", Remarks: "Shows the provider your tenant trusts."},
			{
				Code:    "Get-CsTenantIdentityProvider -Test | Select-Object -ExpandProperty SigningKeys",
				Remarks: "Checks the provider and lists the keys it signs tokens with.",
			},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			fs, t, err := federationTenant(ctx, inv, dir)
			if err != nil {
				return err
			}
			f, ok, err := trustedProvider(ctx, inv, fs, t)
			if err != nil || !ok {
				return err
			}
			var info *identity.ProviderInfo
			if inv.Switch("Test") {
				found, err := checkProvider(ctx, client, f.Issuer)
				if err != nil {
					return providerRefused(inv, err)
				}
				info = &found
			}
			inv.Write(IdentityProviderObject(t, f, info))
			return nil
		},
	}
}

func setCsTenantIdentityProvider(dir Directory, client *http.Client) *engine.Command {
	return &engine.Command{
		Name:     cmdSetIdentityProvider,
		Synopsis: "Makes your tenant trust an OpenID Connect provider for sign-in, after checking it.",
		Description: "The Set-CsTenantIdentityProvider cmdlet makes your tenant trust the OpenID " +
			"Connect provider -Issuer: its tokens for the audience -Audience sign in the " +
			"user of your tenant named by the claim -UserClaim (preferred_username unless " +
			"given). It replaces the provider your tenant trusted before.\n\n" +
			"Before saving, the gateway checks the provider as sign-ins will: the issuer " +
			"must be an https URL, its discovery document must name it exactly, and its key " +
			"set must hold a signing key. A provider that fails is not saved, unless -Force " +
			"is given for a provider that is not reachable yet (a warning says so; sign-ins " +
			"fail until it is). -WhatIf checks the provider and shows what would change. " +
			"Sign-ins use the new provider within a minute.",
		OutputType:            []string{TypeTenantIdentityProvider},
		SupportsShouldProcess: true,
		Parameters: []engine.Parameter{
			{
				Name: "Issuer", Type: engine.TypeString, Position: 0, Mandatory: true, ValidateNotNullOrEmpty: true,
				Help: "The provider's issuer URL, exactly as its tokens and discovery document name it, for example https://login.contoso.test.",
			},
			{
				Name: "Audience", Type: engine.TypeString, Position: engine.NotPositional, Mandatory: true, ValidateNotNullOrEmpty: true,
				Help: "The audience (aud) the provider puts in tokens meant for remote PowerShell, usually the client ID of its app registration.",
			},
			{
				Name: "UserClaim", Type: engine.TypeString, Position: engine.NotPositional, ValidateNotNullOrEmpty: true,
				Help: "The token claim that holds the user principal name, for example email or upn. The default is preferred_username.",
			},
			{
				Name: "Force", Type: engine.TypeSwitch, Position: engine.NotPositional,
				Help: "Saves the provider even when the check fails, for a provider that is not reachable yet.",
			},
			{
				Name: "PassThru", Type: engine.TypeSwitch, Position: engine.NotPositional,
				Help: "Writes the saved provider, with the signing keys the check found, to the pipeline.",
			},
		},
		Examples: []engine.Example{
			{
				Code:    "Set-CsTenantIdentityProvider -Issuer https://login.contoso.test -Audience psgate -PassThru",
				Remarks: "Trusts the provider at https://login.contoso.test and shows the keys it publishes.",
			},
			{
				Code:    "Set-CsTenantIdentityProvider https://idp.contoso.test/realms/corp -Audience psgate -UserClaim email -WhatIf",
				Remarks: "Checks the provider and shows what would change, without changing it.",
			},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			fs, t, err := federationTenant(ctx, inv, dir)
			if err != nil {
				return err
			}
			f := store.Federation{
				TenantID: t.ID, Issuer: strings.TrimSpace(inv.String("Issuer")),
				Audience: strings.TrimSpace(inv.String("Audience")), UserClaim: strings.TrimSpace(inv.String("UserClaim")),
				Enabled: true,
			}
			found, checkErr := checkProvider(ctx, client, f.Issuer)
			if checkErr != nil && !inv.Switch("Force") {
				return providerRefused(inv, checkErr)
			}
			var info *identity.ProviderInfo
			if checkErr == nil {
				info = &found
			}
			if !inv.ShouldProcess(t.Name, fmt.Sprintf("Trust the identity provider %s for the audience %s", f.Issuer, f.Audience)) {
				return nil
			}
			if err := fs.SetFederation(ctx, f); err != nil {
				return storeError(inv, "save federation", err)
			}
			if checkErr != nil {
				msg := checkErr.Error()
				if e, ok := psgate.AsError(checkErr); ok {
					msg = e.Message + " " + e.Resolution
				}
				inv.WriteWarning("The provider check FAILED; the provider was saved anyway because of -Force. " +
					"Sign-ins with its tokens fail until the check passes (Get-CsTenantIdentityProvider -Test). " + msg)
			}
			if inv.Switch("PassThru") {
				inv.Write(IdentityProviderObject(t, f, info))
			}
			return nil
		},
	}
}

func removeCsTenantIdentityProvider(dir Directory) *engine.Command {
	return &engine.Command{
		Name:     cmdRemoveIdentityProvider,
		Synopsis: "Stops your tenant trusting its OpenID Connect provider.",
		Description: "The Remove-CsTenantIdentityProvider cmdlet removes the OpenID Connect " +
			"provider your tenant trusts: within a minute its tokens no longer sign in. " +
			"Requests with its tokens, in shells already open too, are refused from then on. -WhatIf shows what would be " +
			"removed. When your tenant trusts no provider it warns and changes nothing.",
		OutputType:            []string{"None"},
		SupportsShouldProcess: true,
		Examples: []engine.Example{
			{Code: "Remove-CsTenantIdentityProvider", Remarks: "Stops trusting your tenant's provider."},
			{Code: "Remove-CsTenantIdentityProvider -WhatIf", Remarks: "Shows which provider would be removed."},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			fs, t, err := federationTenant(ctx, inv, dir)
			if err != nil {
				return err
			}
			f, ok, err := trustedProvider(ctx, inv, fs, t)
			if err != nil {
				return err
			}
			if !ok {
				inv.WriteWarning("Your tenant trusts no identity provider; nothing was removed.")
				return nil
			}
			if !inv.ShouldProcess(t.Name, "Stop trusting the identity provider "+f.Issuer) {
				return nil
			}
			// The store has no delete for federations: a disabled one is
			// kept and read by nothing.
			f.Enabled = false
			if err := fs.SetFederation(ctx, f); err != nil {
				return storeError(inv, "save federation", err)
			}
			return nil
		},
	}
}

// trustedProvider returns the provider t trusts, and false when it trusts
// none (never set, or removed: a removed one is kept disabled).
func trustedProvider(ctx context.Context, inv *engine.Invocation, fs federations, t store.Tenant) (store.Federation, bool, error) {
	f, err := fs.Federation(ctx, t.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Federation{}, false, nil
	case err != nil:
		return store.Federation{}, false, storeError(inv, "read federation", err)
	}
	return f, f.Enabled && f.TenantID == t.ID, nil
}

// federationTenant returns the store's federations and the caller's
// tenant.
func federationTenant(ctx context.Context, inv *engine.Invocation, dir Directory) (federations, store.Tenant, error) {
	fs, ok := dir.(federations)
	if !ok {
		return nil, store.Tenant{}, fmt.Errorf("cmdlets: %s: the directory %T keeps no federations", inv.Command.Name, dir)
	}
	id := inv.Caller.TenantID
	t, err := dir.Tenant(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && t.ID != id {
		return nil, store.Tenant{}, terminating(inv, psgate.E(psgate.CodeTenantNotFound, psgate.Args{"tenant": tenantLabel(inv.Caller)}),
			engine.CategoryObjectNotFound, "TenantNotFound")
	}
	if err != nil {
		return nil, store.Tenant{}, storeError(inv, "read tenant", err)
	}
	return fs, t, nil
}

// checkProvider checks the provider as sign-ins will, bounded by
// providerCheckTimeout.
func checkProvider(ctx context.Context, client *http.Client, issuer string) (identity.ProviderInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, providerCheckTimeout)
	defer cancel()
	return identity.CheckProvider(ctx, client, issuer)
}

// providerRefused is the terminating error of a failed provider check.
func providerRefused(inv *engine.Invocation, err error) error {
	e, ok := psgate.AsError(err)
	if !ok {
		return fmt.Errorf("cmdlets: %s: check provider: %w", inv.Command.Name, err)
	}
	category := engine.CategoryInvalidData
	if e.Code == psgate.CodeProviderUnreachable {
		category = engine.CategoryResourceUnavailable
	}
	return terminating(inv, e, category, "IdentityProviderUnusable")
}
