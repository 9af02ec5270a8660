//go:build !connector

package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate/server"
)

func newServeCmd() *cobra.Command {
	var (
		cfg      server.Config
		grace    time.Duration
		logLevel string
		logJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the psgate gateway",
		Long: `Run the psgate gateway: a WS-Management endpoint (paths /wsman, /powershell and /)
serving WinRS shells and PowerShell runspace pools restricted to tenant admin cmdlets.

On first start with an empty data directory it creates the demo tenant "contoso"
(domain contoso.test) with administrator admin@contoso.test, whose password comes
from $PSGATE_BOOTSTRAP_PASSWORD or is generated into <data>/bootstrap-admin.txt.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelInfo
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			opts := &slog.HandlerOptions{Level: level}
			var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
			if logJSON {
				h = slog.NewJSONHandler(os.Stderr, opts)
			}
			cfg.Logger = slog.New(h)
			cfg.BootstrapPassword = os.Getenv("PSGATE_BOOTSTRAP_PASSWORD")
			s, err := server.New(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			printBanner(cmd.OutOrStdout(), s.Info())
			return s.Run(cmd.Context(), grace)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data", "./psgate-data", "data directory (SQLite store, certificate, bootstrap credentials)")
	f.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:5985", "plain HTTP listen address (loopback only unless --allow-unencrypted; empty disables)")
	f.BoolVar(&cfg.AllowUnencrypted, "allow-unencrypted", false, "allow plain HTTP on a non-loopback address")
	f.StringVar(&cfg.HTTPSAddr, "https", ":5986", "HTTPS listen address (empty disables)")
	f.StringVar(&cfg.TLSCert, "tls-cert", "", "TLS certificate PEM file (default: self-signed, generated into the data directory)")
	f.StringVar(&cfg.TLSKey, "tls-key", "", "TLS private key PEM file")
	f.StringVar(&cfg.StoreDSN, "store", "", "PostgreSQL store shared by several gateway nodes (postgres://user:pass@host/db); default: SQLite in the data directory")
	f.StringVar(&cfg.Issuer, "issuer", "", "token service issuer URL as clients reach it (default: https://<host name>:<HTTPS port>)")
	f.IntVar(&cfg.MaxEnvelopeSize, "max-envelope-size", 512000, "largest WS-Management request accepted, in bytes")
	f.DurationVar(&grace, "shutdown-grace", 30*time.Second, "how long shutdown waits for running commands")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.BoolVar(&logJSON, "log-json", false, "write logs as JSON")
	return cmd
}

func printBanner(w io.Writer, in server.Info) {
	fmt.Fprintf(w, "psgate is serving (data directory %s)\n", in.DataDir)
	if in.HTTPSURL != "" {
		fmt.Fprintf(w, "  HTTPS  %s\n", in.HTTPSURL)
		fmt.Fprintf(w, "         certificate %s\n         SHA-256 %s\n", in.CertFile, in.Fingerprint)
	}
	if in.HTTPURL != "" {
		fmt.Fprintf(w, "  HTTP   %s\n", in.HTTPURL)
	}
	fmt.Fprintf(w, "  Identity service (OAuth 2.0 / OpenID Connect) issuer %s\n", in.Issuer)
	if in.Bootstrap.Created {
		fmt.Fprintf(w, "\nCreated demo tenant %q with administrator %s.\n", server.DemoTenant, server.DemoAdmin)
		if in.Bootstrap.PasswordFile != "" {
			fmt.Fprintf(w, "Its password is in %s (readable by you only).\n", in.Bootstrap.PasswordFile)
		} else {
			fmt.Fprintln(w, "Its password is the one in $PSGATE_BOOTSTRAP_PASSWORD.")
		}
	}
	url := in.HTTPURL
	if url == "" {
		url = in.HTTPSURL
	}
	ps := strings.TrimSuffix(httpsOr(in), "/wsman") + "/powershell"
	fmt.Fprintf(w, `
Connect:
  psgate CLI:  psgate login --endpoint %s --user %s   then: psgate connect
  pywinrm:     python3 -c "import winrm; s = winrm.Session('%s', auth=('%s', '<password>'), transport='basic'); print(s.run_cmd('Get-CsTenant').std_out.decode())"
  PowerShell:  $s = New-PSSession -ConnectionUri %s -Authentication Basic -Credential %s -SessionOption (New-PSSessionOption -SkipCACheck -SkipCNCheck)
`, url, server.DemoAdmin, url, server.DemoAdmin, ps, server.DemoAdmin)
}

func httpsOr(in server.Info) string {
	if in.HTTPSURL != "" {
		return in.HTTPSURL
	}
	return in.HTTPURL
}
