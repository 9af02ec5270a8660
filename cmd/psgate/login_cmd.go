package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate/client"
)

func newLoginCmd() *cobra.Command {
	var remote *remoteOpts
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in and cache the tokens for later commands",
		Long: `Sign in at the identity service with the password grant (the password comes from
$PSGATE_PASSWORD, or is asked for), and cache the tokens in a 0600 file per user and
tenant under the user configuration directory. Later commands (run, connect,
sessions) sign in from the cache and refresh the tokens themselves. The endpoint,
user and trust settings are remembered as defaults.

Device-code sign-in and app-only sign-in with a certificate are not available
in this version of the connector.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cache, err := tokenCache()
			if err != nil {
				return err
			}
			if err := remote.resolve(cache); err != nil {
				return err
			}
			password := os.Getenv("PSGATE_PASSWORD")
			if password == "" {
				if password, err = prompt(cmd, "Password for "+remote.user+": "); err != nil {
					return err
				}
			}
			oauth, err := remote.oauth()
			if err != nil {
				return err
			}
			tok, err := oauth.PasswordGrant(cmd.Context(), remote.user, password)
			if err != nil {
				return err
			}
			tok.Endpoint = remote.endpoint
			if err := cache.Save(tok); err != nil {
				return err
			}
			if err := saveProfile(cache, profile{Endpoint: remote.endpoint, User: remote.user, TokenURL: remote.tokenURL,
				CAFile: remote.caFile, Fingerprint: remote.fingerprint}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Signed in as %s (token valid until %s).\n", remote.user, tok.ExpiresAt.Local().Format("15:04"))
			return nil
		},
	}
	remote = addRemoteFlags(cmd)
	return cmd
}

func newLogoutCmd() *cobra.Command {
	var user string
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Forget the cached tokens",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cache, err := tokenCache()
			if err != nil {
				return err
			}
			if user == "" {
				user = os.Getenv("PSGATE_USER")
			}
			if user == "" {
				user = loadProfile(cache).User
			}
			if user == "" {
				return fmt.Errorf("no user to sign out: pass --user UPN")
			}
			if err := cache.Delete(user, client.TenantOf(user)); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Signed out %s.\n", user)
			return nil
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "user to sign out (default: the last login)")
	return cmd
}
