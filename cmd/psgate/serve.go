//go:build !connector

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate/config"
	gw "github.com/psgate/psgate/gateway"
	"github.com/psgate/psgate/identity"
	"github.com/psgate/psgate/internal/gctune"
	"github.com/psgate/psgate/internal/logkey"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/server"
)

func newServeCmd() *cobra.Command {
	var cf *configFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the psgate gateway",
		Long: `Run the psgate gateway: a WS-Management endpoint (paths /wsman, /powershell and /)
serving WinRS shells and PowerShell runspace pools restricted to tenant admin cmdlets.

Settings come from built-in defaults, then the configuration file (--config, or
$PSGATE_CONFIG), then PSGATE_* environment variables, then flags: each overrides
the one before. Each flag's help names its key in the file and its variable.
Secrets never need to be on the command line: store.dsn_file (PSGATE_STORE_DSN_FILE)
reads the store's connection string from a file only psgate's user can read.
"psgate config show" prints the effective settings and where each comes from;
"psgate config check FILE" checks a file. See docs/configuration.md.

SIGHUP (systemctl reload psgate) reads the module folder (modules.dir) again:
new, changed and removed module cmdlets apply to every session at its next
command; a broken module changes nothing and is logged with its file and line.

On first start with an empty data directory it creates the demo tenant "contoso"
(domain contoso.test) with administrator admin@contoso.test, whose password comes
from bootstrap.password (PSGATE_BOOTSTRAP_PASSWORD, or a file named by
PSGATE_BOOTSTRAP_PASSWORD_FILE) or is generated into <data>/bootstrap-admin.txt.`,
		Example: `  psgate serve
  psgate serve --config /etc/psgate/psgate.toml
  PSGATE_STORE_DSN_FILE=/run/secrets/psgate-dsn psgate serve --https :5986`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.load()
			if err != nil {
				return err
			}
			log := newLogger(os.Stderr, c)
			if cf.path() != "" {
				log.Info("configuration read", "file", cf.path())
			}
			for _, w := range c.Warnings {
				log.Warn("configuration", "key", w.Key, "source", w.Origin.String(), logkey.Reason, w.Message)
			}
			sc := serverConfig(c, log)
			s, err := server.New(cmd.Context(), sc)
			if err != nil {
				return err
			}
			printBanner(cmd.OutOrStdout(), s.Info(), c.Origin("bootstrap.password"))
			if os.Getenv("GOGC") == "" {
				// Trade up to 256 MiB of heap for less GC work; an
				// operator's GOGC wins (docs/operations in README).
				gctx, stop := context.WithCancel(cmd.Context())
				defer stop()
				go gctune.Run(gctx, gctune.Config{})
			}
			// SIGHUP (systemctl reload psgate) reloads the module cmdlets;
			// a broken module leaves the loaded ones in place.
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go func() {
				for {
					select {
					case <-hup:
						if err := s.ReloadModules(); err != nil {
							log.Warn("SIGHUP", logkey.Err, err)
						}
					case <-cmd.Context().Done():
						return
					}
				}
			}()
			return s.Run(cmd.Context(), c.ShutdownGrace)
		},
	}
	cf = addConfigFlags(cmd)
	return cmd
}

// serverConfig is the server's configuration from the operator's.
func serverConfig(c *config.Config, log *slog.Logger) server.Config {
	pw := password.Default()
	pw.Memory, pw.Time, pw.Threads = c.PasswordMemoryKiB, c.PasswordIterations, c.PasswordThreads
	retention := c.AuditRetention
	if retention == 0 {
		retention = -1 // 0 in the configuration: keep forever
	}
	return server.Config{
		DataDir:           c.DataDir,
		HTTPAddr:          c.HTTP,
		AllowUnencrypted:  c.AllowUnencrypted,
		HTTPSAddr:         c.HTTPS,
		TLSCert:           c.TLSCert,
		TLSKey:            c.TLSKey,
		BootstrapPassword: c.BootstrapPassword,
		PasswordParams:    pw,
		PasswordHashes: identity.HashLimits{
			Concurrent: c.PasswordConcurrent,
			Queue:      c.PasswordQueue,
			PerAddress: c.PasswordPerAddress,
		},
		Issuer:                    c.Issuer,
		FederationPrivateNetworks: c.FederationPrivateNetworks,
		StoreDSN:                  c.StoreDSN,
		MaxEnvelopeSize:           c.MaxEnvelopeSize,
		BodyTimeout:               c.BodyTimeout,
		MaxConnections:            c.MaxConnections,
		PartialBudget: gw.PartialBudget{Shell: c.PartialShell, User: c.PartialUser,
			Tenant: c.PartialTenant, Process: c.PartialProcess},
		TrustedProxies: c.TrustedProxies,
		AuditRetention: retention,
		// Metrics, health and pprof. On the default loopback address a
		// busy port (a second psgate on the machine) only costs the admin
		// listener; an address the operator chose must be free.
		AdminAddr:         c.AdminAddr,
		AdminOptional:     c.Origin("listen.admin").Kind == config.FromDefault,
		HealthOnPublic:    c.HealthOnPublic,
		MetricsTopTenants: c.MetricsTopTenants,
		ModuleDir:         c.ModuleDir,
		Cluster: server.ClusterConfig{
			Listen: c.Cluster.Listen, URL: c.Cluster.URL,
			CA: c.Cluster.CA, Cert: c.Cluster.Cert, Key: c.Cluster.Key,
			AffinityCookie: c.Cluster.AffinityCookie,
			LeaseTTL:       c.Cluster.LeaseTTL, LeaseRenew: c.Cluster.LeaseRenew, LeaseMargin: c.Cluster.LeaseMargin,
		},
		Logger: log,
	}
}

// newLogger writes the server's log to w at the configured level, as
// logfmt text or JSON.
func newLogger(w io.Writer, c *config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// printBanner tells the operator where psgate listens and how to connect.
// Every line under "Connect" can be pasted into a shell as it is: paths are
// absolute, the psgate binary is named as the shell will find it, and the
// demo password is read from its file rather than typed.
func printBanner(w io.Writer, in server.Info, pwFrom config.Origin) {
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
	if in.AdminURL != "" {
		fmt.Fprintf(w, "  Admin  %s/metrics, /healthz, /readyz, /debug/pprof/\n", in.AdminURL)
	}
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
			fmt.Fprintf(w, "Its password is %s.\n", passwordSource(pwFrom))
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
	case in.Bootstrap.Created && pwFrom.SecretFile != "":
		pwCmd = "cat " + shellQuote(absPath(pwFrom.SecretFile))
	case in.Bootstrap.Created && pwFrom.Kind == config.FromEnv:
		pwCmd = "printenv " + pwFrom.Name
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

// passwordSource says where the operator set the demo administrator's
// password.
func passwordSource(o config.Origin) string {
	switch {
	case o.SecretFile != "":
		return "the one in " + absPath(o.SecretFile)
	case o.Kind == config.FromEnv:
		return "the one in $" + o.Name
	}
	return "bootstrap.password, " + o.String()
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
