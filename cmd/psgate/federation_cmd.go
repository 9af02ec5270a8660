//go:build !connector

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/identity"
	"github.com/psgate/psgate/store"
)

// providerCheckTimeout bounds the whole provider check of federation set
// and show --check (each fetch is also bounded by the identity package).
const providerCheckTimeout = 30 * time.Second

// federationJSON is a tenant's federation in --output json.
type federationJSON struct {
	Tenant    string `json:"tenant"`
	Enabled   bool   `json:"enabled"`
	Issuer    string `json:"issuer,omitempty"`
	Audience  string `json:"audience,omitempty"`
	UserClaim string `json:"userClaim,omitempty"`
	// Provider is what the provider check found; nil when it did not run
	// or failed.
	Provider *identity.ProviderInfo `json:"provider,omitempty"`
	// CheckError is the provider check's failure (set --force, show
	// --check).
	CheckError *checkErrorJSON `json:"checkError,omitempty"`
}

// checkErrorJSON is a catalog error in --output json.
type checkErrorJSON struct {
	Code       psgate.Code `json:"code"`
	Message    string      `json:"message"`
	Resolution string      `json:"resolution,omitempty"`
}

func toFederationJSON(t store.Tenant, f store.Federation) federationJSON {
	j := federationJSON{Tenant: t.Name, Enabled: f.Enabled && f.Issuer != ""}
	if j.Enabled {
		j.Issuer, j.Audience, j.UserClaim = f.Issuer, f.Audience, effectiveClaim(f.UserClaim)
	}
	return j
}

func effectiveClaim(c string) string {
	if c == "" {
		return identity.DefaultUserClaim
	}
	return c
}

// newTenantFederationCmd is "psgate tenant federation": the OpenID
// Connect provider whose tokens a tenant's users may sign in with.
func newTenantFederationCmd(o *adminOpts) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "federation",
		Short: "Set, show or remove the OpenID Connect provider a tenant's users sign in with",
		Long: `A tenant may trust its own OpenID Connect provider: a token that provider
issued for the configured audience signs in the user named by the user claim
(default preferred_username), who must be an enabled user of the tenant.`,
	}
	cmd.AddCommand(newFederationSetCmd(o), newFederationShowCmd(o), newFederationRemoveCmd(o))
	return cmd
}

func newFederationSetCmd(o *adminOpts) *cobra.Command {
	var (
		issuer, audience, claim string
		force                   bool
	)
	cmd := &cobra.Command{
		Use:   "set TENANT --issuer URL --audience AUD [--user-claim CLAIM]",
		Short: "Trust an OpenID Connect provider for a tenant, after checking it",
		Long: `Check the provider as sign-ins will (its discovery document names the issuer
exactly, its key set can be fetched and holds a signing key psgate reads),
show what was found and save it, replacing the tenant's previous provider.
The issuer must be https (http only on a loopback address, for development).
A provider that fails the check is not saved unless --force is given, for a
provider that is not reachable yet; sign-ins fail until it is.`,
		Example: `  psgate tenant federation set contoso --issuer https://login.contoso.test --audience psgate
  psgate tenant federation set contoso --issuer https://idp.contoso.test/realms/corp --audience psgate --user-claim email`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkIssuerFlag(issuer); err != nil {
				return err
			}
			audience, claim = strings.TrimSpace(audience), strings.TrimSpace(claim)
			if audience == "" {
				return errors.New("--audience: give the audience (aud) the provider puts in tokens for psgate")
			}
			ctx := cmd.Context()
			return o.withStore(ctx, false, func(st store.Store) error {
				t, err := resolveTenant(ctx, st, args[0])
				if err != nil {
					return err
				}
				info, checkErr := checkProvider(ctx, issuer)
				if checkErr != nil && !force {
					fmt.Fprintf(cmd.ErrOrStderr(), "The check of %s failed; nothing was saved (--force saves a provider that is not reachable yet).\n", issuer)
					return checkErr
				}
				fed := store.Federation{TenantID: t.ID, Issuer: issuer, Audience: audience, UserClaim: claim, Enabled: true}
				if err := st.SetFederation(ctx, fed); err != nil {
					return storeFailed("save the federation", err)
				}
				detail := fmt.Sprintf("trusted issuer %s for audience %s, user claim %s", issuer, audience, effectiveClaim(claim))
				if checkErr != nil {
					detail += " (--force: the provider check failed: " + checkErr.Error() + ")"
				}
				if err := auditOperator(ctx, st, t.ID, "tenant.federation-set", detail); err != nil {
					return err
				}
				j := toFederationJSON(t, fed)
				if checkErr != nil {
					j.CheckError = toCheckErrorJSON(checkErr)
					warnUnchecked(cmd.ErrOrStderr(), t.Name, checkErr)
				} else {
					j.Provider = &info
				}
				return o.print(cmd.OutOrStdout(), j, func(w io.Writer) {
					if checkErr == nil {
						printProvider(w, info)
					}
					fmt.Fprintf(w, "Tenant %s now trusts %s for the audience %s; the user claim is %s.\n",
						t.Name, issuer, audience, effectiveClaim(claim))
				})
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&issuer, "issuer", "", "the provider's issuer URL, exactly as its tokens and discovery document name it (required)")
	f.StringVar(&audience, "audience", "", "the audience (aud) the provider puts in tokens meant for psgate (required)")
	f.StringVar(&claim, "user-claim", "", "the token claim that holds the user's UPN (default "+identity.DefaultUserClaim+")")
	f.BoolVar(&force, "force", false, "save the provider even when the check fails (it is not reachable yet)")
	_ = cmd.MarkFlagRequired("issuer")
	_ = cmd.MarkFlagRequired("audience")
	return cmd
}

// checkIssuerFlag refuses an issuer that is no URL before anything is
// fetched; identity.CheckProvider applies the https rule.
func checkIssuerFlag(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("--issuer %q: give the provider's issuer URL, e.g. https://login.contoso.test", issuer)
	}
	return nil
}

// checkProvider runs identity.CheckProvider bounded by
// providerCheckTimeout. The error is a catalog error.
func checkProvider(ctx context.Context, issuer string) (identity.ProviderInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, providerCheckTimeout)
	defer cancel()
	return identity.CheckProvider(ctx, &http.Client{Timeout: providerCheckTimeout}, issuer)
}

func toCheckErrorJSON(err error) *checkErrorJSON {
	if e, ok := psgate.AsError(err); ok {
		return &checkErrorJSON{Code: e.Code, Message: e.Message, Resolution: e.Resolution}
	}
	return &checkErrorJSON{Message: err.Error()}
}

// warnUnchecked says loudly that a provider was saved unchecked.
func warnUnchecked(w io.Writer, tenant string, err error) {
	fmt.Fprintf(w, "WARNING: the provider check FAILED; saved anyway because of --force.\n")
	fmt.Fprintf(w, "WARNING: sign-ins to tenant %s with this provider's tokens fail until the check passes (psgate tenant federation show %s --check).\n", tenant, tenant)
	printError(w, err)
}

// printProvider writes what the provider check found.
// An empty Issuer is left out (show prints the saved one).
func printProvider(w io.Writer, info identity.ProviderInfo) {
	if info.Issuer != "" {
		tableRow(w, "Issuer:", info.Issuer)
	}
	tableRow(w, "Discovery:", info.DiscoveryURL)
	tableRow(w, "Key set:", info.JWKSURI)
	if info.AuthorizationEndpoint != "" {
		tableRow(w, "Authorization endpoint:", info.AuthorizationEndpoint)
	}
	if info.TokenEndpoint != "" {
		tableRow(w, "Token endpoint:", info.TokenEndpoint)
	}
	for i, k := range info.Keys {
		label := ""
		if i == 0 {
			label = "Signing keys:"
		}
		alg := k.Algorithm
		if alg == "" {
			alg = "(any)"
		}
		tableRow(w, label, fmt.Sprintf("%s %s %s", k.KeyID, k.Type, alg))
	}
}

// tenantFederation reads a tenant and the provider it trusts (a zero
// Federation when it trusts none).
func tenantFederation(ctx context.Context, st store.Store, tenant string) (store.Tenant, store.Federation, error) {
	t, err := resolveTenant(ctx, st, tenant)
	if err != nil {
		return store.Tenant{}, store.Federation{}, err
	}
	fed, err := st.Federation(ctx, t.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Tenant{}, store.Federation{}, storeFailed("read the federation", err)
	}
	return t, fed, nil
}

func newFederationShowCmd(o *adminOpts) *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:   "show TENANT [--check]",
		Short: "Show the OpenID Connect provider a tenant trusts",
		Long: `Show the tenant's provider as saved. With --check, also fetch its discovery
document and key set as sign-ins do and show what they hold; a failed check
exits 1 with the catalog error a sign-in would report.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return o.withStore(ctx, false, func(st store.Store) error {
				t, fed, err := tenantFederation(ctx, st, args[0])
				if err != nil {
					return err
				}
				j := toFederationJSON(t, fed)
				var checkErr error
				if j.Enabled && check {
					info, err := checkProvider(ctx, fed.Issuer)
					if err != nil {
						checkErr = err
					} else {
						j.Provider = &info
					}
				}
				if checkErr != nil {
					return checkErr
				}
				return o.print(cmd.OutOrStdout(), j, func(w io.Writer) {
					if !j.Enabled {
						fmt.Fprintf(w, "Tenant %s trusts no identity provider (psgate tenant federation set).\n", t.Name)
						return
					}
					tableRow(w, "Tenant:", t.Name)
					tableRow(w, "Issuer:", j.Issuer)
					tableRow(w, "Audience:", j.Audience)
					tableRow(w, "User claim:", j.UserClaim)
					if j.Provider != nil {
						p := *j.Provider
						p.Issuer = ""
						tableRow(w, "Check:", "passed")
						printProvider(w, p)
					}
				})
			})
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "also check that the provider is usable now")
	return cmd
}

func newFederationRemoveCmd(o *adminOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "remove TENANT",
		Short: "Stop trusting a tenant's OpenID Connect provider",
		Long: `Remove the tenant's provider. Gateways reread the tenants' providers at
least every minute, so within a minute its tokens are refused, also those
already in use by open shells.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return o.withStore(ctx, false, func(st store.Store) error {
				t, fed, err := tenantFederation(ctx, st, args[0])
				if err != nil {
					return err
				}
				if !fed.Enabled || fed.Issuer == "" {
					return fmt.Errorf("tenant %s trusts no identity provider; nothing was removed", t.Name)
				}
				// The store keeps a disabled federation's record (it has no
				// delete); nothing reads a disabled one.
				fed.Enabled = false
				if err := st.SetFederation(ctx, fed); err != nil {
					return storeFailed("remove the federation", err)
				}
				if err := auditOperator(ctx, st, t.ID, "tenant.federation-remove", "stopped trusting issuer "+fed.Issuer); err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), map[string]any{"tenant": t.Name, "removedIssuer": fed.Issuer}, func(w io.Writer) {
					fmt.Fprintf(w, "Tenant %s no longer trusts %s.\n", t.Name, fed.Issuer)
				})
			})
		},
	}
}
