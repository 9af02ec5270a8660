//go:build !connector

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate/internal/gctune"
	"github.com/psgate/psgate/server"
)

func newServeCmd() *cobra.Command {
	var (
		cfg       server.Config
		grace     time.Duration
		logLevel  string
		logJSON   bool
		retention string
		proxies   []string
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
			keep, err := parseAge(retention)
			if err != nil {
				return fmt.Errorf("--audit-retention: %w", err)
			}
			for _, p := range proxies {
				prefix, err := parseProxy(p)
				if err != nil {
					return err
				}
				cfg.TrustedProxies = append(cfg.TrustedProxies, prefix)
			}
			cfg.AuditRetention = keep
			if keep == 0 {
				cfg.AuditRetention = -1 // 0 on the command line: keep forever
			}
			cfg.BootstrapPassword = os.Getenv("PSGATE_BOOTSTRAP_PASSWORD")
			s, err := server.New(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			printBanner(cmd.OutOrStdout(), s.Info())
			if os.Getenv("GOGC") == "" {
				// Trade up to 256 MiB of heap for less GC work; an
				// operator's GOGC wins (docs/operations in README).
				gctx, stop := context.WithCancel(cmd.Context())
				defer stop()
				go gctune.Run(gctx, gctune.Config{})
			}
			return s.Run(cmd.Context(), grace)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data", "./psgate-data", "data directory (SQLite store, certificate, bootstrap credentials)")
	f.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:5985", "plain HTTP listen address (loopback only unless --allow-unencrypted; empty disables)")
	f.BoolVar(&cfg.AllowUnencrypted, "allow-unencrypted", false, "allow plain HTTP on a non-loopback address")
	f.StringVar(&cfg.HTTPSAddr, "https", "127.0.0.1:5986", "HTTPS listen address; \":5986\" accepts other machines (empty disables)")
	f.StringVar(&cfg.TLSCert, "tls-cert", "", "TLS certificate PEM file (default: self-signed, generated into the data directory)")
	f.StringVar(&cfg.TLSKey, "tls-key", "", "TLS private key PEM file")
	f.StringVar(&cfg.StoreDSN, "store", "", "PostgreSQL store shared by several gateway nodes (postgres://user:pass@host/db); default: SQLite in the data directory")
	f.StringVar(&cfg.Issuer, "issuer", "", "token service issuer URL as clients reach it (default: https://<host name>:<HTTPS port>)")
	f.IntVar(&cfg.MaxEnvelopeSize, "max-envelope-size", 512000, "largest WS-Management request accepted, in bytes")
	f.StringSliceVar(&proxies, "trusted-proxy", nil, "a load balancer or reverse proxy (address or CIDR) whose X-Forwarded-For names the client; repeat or comma-separate")
	f.StringVar(&retention, "audit-retention", "180d", "how long audit records are kept (90d, 2160h); 0 keeps them forever")
	f.DurationVar(&cfg.BodyTimeout, "body-timeout", server.DefaultBodyTimeout, "longest time a client may take to send a request body")
	f.IntVar(&cfg.MaxConnections, "max-connections", server.DefaultMaxConnections, "most client connections open at once; more are closed at once")
	f.DurationVar(&grace, "shutdown-grace", 30*time.Second, "how long shutdown waits for running commands")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.BoolVar(&logJSON, "log-json", false, "write logs as JSON")
	return cmd
}

// parseProxy reads a trusted proxy as an address or a CIDR prefix.
func parseProxy(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	return netip.Prefix{}, fmt.Errorf("--trusted-proxy %q: want an address (10.0.0.5) or a CIDR prefix (10.0.0.0/24)", s)
}

// printBanner tells the operator where psgate listens and how to connect.
// Every line under "Connect" can be pasted into a shell as it is: paths are
// absolute, the psgate binary is named as the shell will find it, and the
// demo password is read from its file rather than typed.
func printBanner(w io.Writer, in server.Info) {
	dataDir := absPath(in.DataDir)
	fmt.Fprintf(w, "psgate is serving (data directory %s)\n", dataDir)
	if in.HTTPSURL != "" {
		fmt.Fprintf(w, "  HTTPS  %s\n", in.HTTPSURL)
		fmt.Fprintf(w, "         certificate %s\n         SHA-256 %s\n", absPath(in.CertFile), in.Fingerprint)
	}
	if in.HTTPURL != "" {
		fmt.Fprintf(w, "  HTTP   %s\n", in.HTTPURL)
	}
	fmt.Fprintf(w, "  Identity service (OAuth 2.0 / OpenID Connect) issuer %s\n", in.Issuer)
	if in.LoopbackOnly {
		fmt.Fprintln(w, "  Listening on this machine only (loopback). To accept other machines over HTTPS: psgate serve --https :5986")
	}
	pwFile := filepath.Join(dataDir, server.BootstrapFile)
	_, err := os.Stat(pwFile)
	haveFile := err == nil
	if in.Bootstrap.Created {
		fmt.Fprintf(w, "\nCreated demo tenant %q with administrator %s.\n", server.DemoTenant, server.DemoAdmin)
		if haveFile {
			fmt.Fprintf(w, "Its password is in %s (readable by you only).\n", pwFile)
		} else {
			fmt.Fprintln(w, "Its password is the one in $PSGATE_BOOTSTRAP_PASSWORD.")
		}
	}
	url := in.HTTPURL
	if url == "" {
		url = in.HTTPSURL
	}
	psgateBin := selfCommand()
	fmt.Fprintf(w, "\nConnect: paste any line below as it is (lines starting with # are comments)\n  # the psgate connector\n")
	login := fmt.Sprintf("%s login --endpoint %s --user %s", psgateBin, url, server.DemoAdmin)
	if in.HTTPURL == "" {
		// The self-signed certificate is trusted by its fingerprint.
		login += " --fingerprint " + in.Fingerprint
	}
	pwCmd := ""
	switch {
	case haveFile:
		pwCmd = fmt.Sprintf("sed -n 's/^password: //p' %s", shellQuote(pwFile))
	case in.Bootstrap.Created:
		pwCmd = "printenv PSGATE_BOOTSTRAP_PASSWORD"
	}
	if pwCmd != "" {
		fmt.Fprintf(w, "  %s | %s --password-stdin\n", pwCmd, login)
	} else {
		fmt.Fprintf(w, "  %s\n", login)
	}
	fmt.Fprintf(w, "  %s connect\n", psgateBin)
	if pwCmd != "" && in.HTTPURL != "" {
		fmt.Fprintf(w, "\n  # pywinrm (pip install 'pywinrm>=0.4.3')\n")
		fmt.Fprintf(w, "  PSGATE_PASSWORD=\"$(%s)\" python3 -c \"import os, winrm; s = winrm.Session('%s', auth=('%s', os.environ['PSGATE_PASSWORD']), transport='plaintext'); print(s.run_cmd('Get-CsTenant').std_out.decode())\"\n",
			pwCmd, in.HTTPURL, server.DemoAdmin)
	}
	if in.HTTPSURL != "" {
		ps := strings.TrimSuffix(in.HTTPSURL, "/wsman") + "/powershell"
		fmt.Fprintf(w, "\n  # Windows PowerShell 5.1 or PowerShell 7 (the self-signed certificate's checks are skipped)\n")
		fmt.Fprintf(w, "  $s = New-PSSession -ConnectionUri %s -Authentication Basic -Credential %s -SessionOption (New-PSSessionOption -SkipCACheck -SkipCNCheck)\n", ps, server.DemoAdmin)
		fmt.Fprintf(w, "  Invoke-Command $s { Get-CsTenant }\n")
	}
}

// selfCommand is how a shell would run this binary: "psgate" when that
// name on PATH is this very file, else its absolute path.
func selfCommand() string {
	self, err := os.Executable()
	if err != nil {
		return "psgate"
	}
	if onPath, err := exec.LookPath("psgate"); err == nil {
		a, errA := os.Stat(self)
		b, errB := os.Stat(onPath)
		if errA == nil && errB == nil && os.SameFile(a, b) {
			return "psgate"
		}
	}
	return shellQuote(self)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == ':' || r == '@' || r == '+' ||
			('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
