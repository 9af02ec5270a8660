package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/client"
)

// newTokenCmd prints an access token from the cached sign-in, for clients
// that carry it themselves: Windows PowerShell's New-PSSession with
// 'Bearer <token>' as the Basic password, as Microsoft's modern-auth
// connectors did.
func newTokenCmd() *cobra.Command {
	var (
		output   string
		minValid time.Duration
		remote   *remoteOpts
	)
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print an access token for New-PSSession and other stock clients",
		Long: `Print an access token of the signed-in user (psgate login), renewed first when it
would expire within --min-valid. A stock client passes it as the Basic password
'Bearer <token>' with the user name, or as an 'Authorization: Bearer' header.

The token is good for one session's lifetime: a client that keeps a session open
longer asks for a new token and a new session before the old one ends (see the
README's PowerShell section).`,
		Example: `  psgate token
  psgate token --output json     # {"access_token": ..., "expires_at": ..., "user": ..., "endpoint": ...}

  # Windows PowerShell:
  $cred = New-Object PSCredential('admin@contoso.test', (ConvertTo-SecureString "Bearer $(psgate token)" -AsPlainText -Force))`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "" && output != "text" && output != "json" {
				return fmt.Errorf("--output %q: use text or json", output)
			}
			cache, err := tokenCache()
			if err != nil {
				return err
			}
			if err := remote.resolve(cache); err != nil {
				return err
			}
			tok, err := cache.Load(remote.user, client.TenantOf(remote.user))
			if err != nil || tok == nil {
				e := psgate.E(psgate.CodeAuthRequired, nil)
				e.Resolution = "Sign in first: psgate login --endpoint URL --user " + remote.user
				return e
			}
			oauth, err := remote.oauth()
			if err != nil {
				return err
			}
			src := &client.CachedTokenSource{OAuth: oauth, Cache: cache, User: remote.user, Loaded: tok}
			if tok.ClientID != "" {
				src.App = remote.appCredentials(tok.ClientID)
			}
			renew := time.Until(tok.ExpiresAt) < minValid
			access, err := src.Token(cmd.Context(), renew)
			if err != nil {
				return err
			}
			if fresh, err := cache.Load(remote.user, client.TenantOf(remote.user)); err == nil && fresh.AccessToken == access {
				tok = fresh
			}
			w := cmd.OutOrStdout()
			if output != "json" {
				_, err := fmt.Fprintln(w, access)
				return err
			}
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(struct {
				AccessToken string    `json:"access_token"`
				TokenType   string    `json:"token_type"`
				ExpiresAt   time.Time `json:"expires_at"`
				User        string    `json:"user"`
				Endpoint    string    `json:"endpoint"`
			}{access, "Bearer", tok.ExpiresAt.UTC(), remote.user, remote.endpoint})
		},
	}
	remote = addRemoteFlags(cmd)
	f := cmd.Flags()
	f.StringVarP(&output, "output", "o", "", "text (the token alone, the default) or json (with its expiry)")
	f.DurationVar(&minValid, "min-valid", 55*time.Minute, "renew the token first when it expires sooner than this")
	return cmd
}
