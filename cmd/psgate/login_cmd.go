package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/client"
)

// loginOpts are the sign-in method flags of `psgate login`.
type loginOpts struct {
	deviceCode    bool
	passwordStdin bool
	clientID      string
	certFile      string
	keyFile       string
	secretStdin   bool
}

func newLoginCmd() *cobra.Command {
	var (
		remote *remoteOpts
		lo     loginOpts
	)
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in and cache the tokens for later commands",
		Long: `Sign in at the identity service and cache the tokens in a 0600 file per user and
tenant under the user configuration directory. Later commands (run, connect,
sessions, doctor) sign in from the cache and refresh the tokens themselves. The
endpoint, user and trust settings are remembered as defaults.

Sign-in methods:
  device code   the default when standard input is a terminal and $PSGATE_PASSWORD
                is not set (or with --device-code): open the page shown, enter the
                code and sign in there; the tenant's policy may require it.
  password      from $PSGATE_PASSWORD, or --password-stdin.
  app-only      --client-id ID with --certificate cert.pem --key key.pem
                (private_key_jwt) or --client-secret-stdin, for automation. The
                token acts as the application's service principal; with a
                certificate, later commands sign in again by themselves.

Without a terminal and without credentials, login fails with
identity.interactive-sign-in-required. A password the tenant's policy does not
accept fails with identity.password-auth-disabled, terminal or not.`,
		Example: `  psgate login --endpoint https://gw.contoso.test:5986/powershell
  PSGATE_PASSWORD=... psgate login --endpoint http://127.0.0.1:5985/wsman --user admin@contoso.test
  psgate login --client-id reporting --certificate app.pem --key app.key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return login(cmd, remote, lo)
		},
	}
	remote = addRemoteFlags(cmd)
	f := cmd.Flags()
	f.BoolVar(&lo.deviceCode, "device-code", false, "sign in with a device code even when a password is available")
	f.BoolVar(&lo.passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	f.StringVar(&lo.clientID, "client-id", "", "app-only sign-in as this registered application")
	f.StringVar(&lo.certFile, "certificate", "", "PEM certificate registered with the application (with --client-id and --key)")
	f.StringVar(&lo.keyFile, "key", "", "PEM private key of --certificate")
	f.BoolVar(&lo.secretStdin, "client-secret-stdin", false, "read the application's client secret from the first line of standard input")
	return cmd
}

// login signs in with the chosen method and caches the tokens.
func login(cmd *cobra.Command, remote *remoteOpts, lo loginOpts) error {
	cache, err := tokenCache()
	if err != nil {
		return err
	}
	// Device-code and app-only sign-in learn the user from the token.
	if err := remote.resolveEndpoint(cache); err != nil {
		return err
	}
	oauth, err := remote.oauth()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	p := profile{Endpoint: remote.endpoint, TokenURL: remote.tokenURL, CAFile: remote.caFile, Fingerprint: remote.fingerprint}
	var tok *client.Token
	switch {
	case lo.clientID != "":
		app, err := lo.app(cmd)
		if err != nil {
			return err
		}
		if tok, err = oauth.ClientCredentials(ctx, app); err != nil {
			return err
		}
		if lo.certFile != "" {
			p.ClientID, p.CertFile, p.KeyFile = lo.clientID, absPath(lo.certFile), absPath(lo.keyFile)
		}
	case lo.deviceCode || (!lo.passwordStdin && os.Getenv("PSGATE_PASSWORD") == "" && isTerminal(cmd.InOrStdin())):
		if tok, err = deviceLogin(ctx, cmd.ErrOrStderr(), oauth); err != nil {
			return err
		}
	default:
		if remote.user == "" {
			return errors.New("no user: pass --user UPN, set PSGATE_USER, or run `psgate login --user UPN` once")
		}
		password := os.Getenv("PSGATE_PASSWORD")
		if lo.passwordStdin {
			if password, err = readLine(cmd.InOrStdin()); err != nil {
				return fmt.Errorf("read the password from standard input: %w", err)
			}
		}
		if password == "" {
			return interactiveRequired(remote.user)
		}
		tok, err = oauth.PasswordGrant(ctx, remote.user, password)
		if err != nil {
			return noTerminal(cmd, err, remote.user)
		}
	}
	if tok.User == "" {
		tok.User = remote.user
	}
	if tok.User == "" {
		return errors.New("the identity service's token names no user; pass --user UPN")
	}
	tok.Tenant = client.TenantOf(tok.User)
	tok.Endpoint = remote.endpoint
	if err := cache.Save(tok); err != nil {
		return err
	}
	p.User = tok.User
	if err := saveProfile(cache, p); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Signed in as %s (token valid until %s).\n", tok.User, tok.ExpiresAt.Local().Format("15:04"))
	return nil
}

// deviceLogin runs the device-code flow, showing the code on w.
func deviceLogin(ctx context.Context, w io.Writer, oauth *client.OAuth) (*client.Token, error) {
	da, err := oauth.StartDeviceCode(ctx)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "To sign in, open %s and enter the code %s (valid for %s).\n",
		da.VerificationURI, da.UserCode, (time.Duration(da.ExpiresIn) * time.Second).String())
	if da.VerificationURIComplete != "" {
		fmt.Fprintf(w, "Or open %s\n", da.VerificationURIComplete)
	}
	fmt.Fprintln(w, "Waiting for the sign-in…")
	return oauth.PollDeviceCode(ctx, da)
}

// app returns the application credentials of the flags.
func (lo loginOpts) app(cmd *cobra.Command) (client.AppCredentials, error) {
	switch {
	case lo.certFile != "" || lo.keyFile != "":
		if lo.certFile == "" || lo.keyFile == "" || lo.secretStdin {
			return client.AppCredentials{}, errors.New("--certificate and --key go together, without --client-secret-stdin")
		}
		return client.LoadAppCertificate(lo.clientID, lo.certFile, lo.keyFile)
	case lo.secretStdin:
		secret, err := readLine(cmd.InOrStdin())
		if err != nil || secret == "" {
			return client.AppCredentials{}, fmt.Errorf("read the client secret from standard input: %w", errors.Join(err, errors.New("it is empty")))
		}
		return client.AppCredentials{ClientID: lo.clientID, Secret: secret}, nil
	case os.Getenv("PSGATE_CLIENT_SECRET") != "":
		return client.AppCredentials{ClientID: lo.clientID, Secret: os.Getenv("PSGATE_CLIENT_SECRET")}, nil
	}
	return client.AppCredentials{}, psgate.E(psgate.CodeSignInUnavailable, psgate.Args{
		"method":  "app-only (--client-id " + lo.clientID + ")",
		"missing": "no credential of the application was given",
		"fix":     "Pass the certificate registered with the application (--certificate and --key), pipe its client secret with --client-secret-stdin, or set $PSGATE_CLIENT_SECRET.",
	})
}

// interactiveRequired is the error of a sign-in that needs a terminal.
func interactiveRequired(user string) error {
	return psgate.E(psgate.CodeInteractiveRequired, psgate.Args{"tenant": client.TenantOf(user)})
}

// noTerminal reports a password sign-in the tenant refused. It is
// identity.password-auth-disabled whether or not a terminal is attached
// (the cause is the tenant policy, not the terminal), rebuilt from this
// connector's catalog so that the fix names the tenant and the operator
// command that allows passwords, whatever the server's version.
func noTerminal(_ *cobra.Command, err error, user string) error {
	if psgate.CodeOf(err) != psgate.CodePasswordAuthDisabled {
		return err
	}
	e := psgate.E(psgate.CodePasswordAuthDisabled, psgate.Args{"tenant": client.TenantOf(user)})
	e.Err = err
	return e
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
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
