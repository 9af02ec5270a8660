package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/client/doctor"
)

func newDoctorCmd() *cobra.Command {
	var (
		remote *remoteOpts
		out    outputFlag
	)
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Diagnose the connection to the gateway step by step",
		Long: `Walk the chain from this machine to the gateway and report each step as passed,
failed or skipped, with the error code, the message and the fix: this connector's
version against the server's minimum, the proxy settings in effect, DNS, TCP and TLS
(trust, name, expiry) to the gateway, the WS-Management endpoint, clock skew, the
identity service, sign-in, opening a session (admin role, tenant policy, quotas)
and quota usage. On Windows it also checks the stock PowerShell client: execution
policy, PowerShell version, WinRM Basic authentication and TrustedHosts.

Exits 0 when every step passed or was skipped, else with the status of the first
failure's area (see psgate run --help).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.check(cmd); err != nil {
				return err
			}
			cfg, err := remote.config(cmd.InOrStdin())
			if err != nil && cfg.Endpoint == "" {
				return err
			}
			checks, cleanup := doctor.Checks(doctor.Target{Config: cfg, TokenURL: remote.tokenURL, System: doctor.DefaultSystem(), SignInErr: err})
			results := doctor.Run(cmd.Context(), checks)
			cctx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), 5*time.Second)
			cleanup(cctx)
			cancel()
			if out.isJSON() {
				if err := writeJSON(cmd.OutOrStdout(), results); err != nil {
					return err
				}
			} else {
				printDoctor(cmd.OutOrStdout(), results)
			}
			for _, r := range results {
				if r.Status == doctor.Failed {
					return &psgate.Error{Code: r.Code, Message: r.Name + " failed: " + r.Message, Resolution: r.Resolution}
				}
			}
			return nil
		},
	}
	remote = addRemoteFlags(cmd)
	addOutputFlag(cmd, false, &out)
	return cmd
}

func printDoctor(w io.Writer, results []doctor.Result) {
	for _, r := range results {
		fmt.Fprintf(w, "[%-7s] %s: %s\n", r.Status, r.Name, r.Message)
		if r.Status == doctor.Failed {
			if r.Code != "" {
				fmt.Fprintf(w, "          code: %s\n", r.Code)
			}
			if r.Resolution != "" {
				fmt.Fprintf(w, "          fix:  %s\n", r.Resolution)
			}
		}
	}
}
