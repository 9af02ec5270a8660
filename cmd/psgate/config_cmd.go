//go:build !connector

package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate/config"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check psgate serve's configuration file, or show the effective configuration",
		Long: `psgate serve reads built-in defaults, then a TOML configuration file (--config or
$PSGATE_CONFIG), then PSGATE_* environment variables, then flags; each overrides
the one before. "config check FILE" checks a file on its own; "config show" prints
what psgate serve would use, with the same file, variables and flags.
docs/configuration.md lists every key.`,
	}
	cmd.AddCommand(newConfigCheckCmd(), newConfigShowCmd())
	return cmd
}

func newConfigCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE",
		Short: "Check a configuration file and report every problem with its line",
		Long: `Check a configuration file as psgate serve would read it, on its own: built-in
defaults and the file, without PSGATE_* variables or flags. Every problem is
reported with its line (unknown keys, values of the wrong type, bad addresses or
durations, unreadable or unprotected secret files, a certificate that does not
match its key), and the exit status is non-zero if there is one.`,
		Example: `  psgate config check /etc/psgate/psgate.toml`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			c, err := config.Check(file)
			var ce *config.Error
			if errors.As(err, &ce) {
				for _, p := range ce.Problems {
					fmt.Fprintln(cmd.ErrOrStderr(), p.String())
				}
				return fmt.Errorf("%s: %s; psgate serve would refuse it", file, plural(len(ce.Problems), "problem"))
			}
			if err != nil {
				return err
			}
			printWarnings(cmd.ErrOrStderr(), c)
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", file)
			return nil
		},
	}
}

// configValueJSON is one setting in psgate config show --output json.
type configValueJSON struct {
	Key     string `json:"key"`
	Value   string `json:"value"`
	Source  string `json:"source"`
	Default string `json:"default"`
	Env     string `json:"env"`
	Flag    string `json:"flag,omitempty"`
	Secret  bool   `json:"secret,omitempty"`
}

func newConfigShowCmd() *cobra.Command {
	var out outputFlag
	cmd := &cobra.Command{
		Use:   "show [--config FILE] [serve flags]",
		Short: "Print the effective configuration of psgate serve and where each value comes from",
		Long: `Print the configuration psgate serve would run with, from the same file
(--config or $PSGATE_CONFIG), PSGATE_* variables and flags (show takes every flag
of serve), and where each value comes from: default, file:line, env VARIABLE or
flag --name. Secrets are masked. Problems are reported as serve would, after the
table, and the exit status is then non-zero.`,
		Example: `  psgate config show --config /etc/psgate/psgate.toml
  PSGATE_LISTEN_HTTPS=:5986 psgate config show --config psgate.toml --log-level debug
  psgate config show --output json`,
		Args: cobra.NoArgs,
	}
	cf := addConfigFlags(cmd)
	addOutputFlag(cmd, false, &out)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := out.check(cmd); err != nil {
			return err
		}
		c, err := cf.load()
		if c == nil {
			return err
		}
		rows := make([]configValueJSON, 0, 32)
		for _, v := range c.Values() {
			rows = append(rows, configValueJSON{Key: v.Key, Value: v.Value, Source: v.Origin.String(),
				Default: v.Default, Env: v.Env, Flag: flagName(v.Flag), Secret: v.Secret})
		}
		w := cmd.OutOrStdout()
		if out.isJSON() {
			if werr := writeJSON(w, rows); werr != nil {
				return werr
			}
		} else {
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			tableRow(tw, "KEY", "VALUE", "SOURCE")
			for _, r := range rows {
				v := r.Value
				if v == "" {
					v = `""`
				}
				tableRow(tw, r.Key, v, r.Source)
			}
			if werr := tw.Flush(); werr != nil {
				return werr
			}
		}
		var ce *config.Error
		if errors.As(err, &ce) {
			for _, p := range ce.Problems {
				fmt.Fprintln(cmd.ErrOrStderr(), p.String())
			}
			return fmt.Errorf("%s; psgate serve would refuse this configuration", plural(len(ce.Problems), "problem"))
		}
		if err != nil {
			return err
		}
		printWarnings(cmd.ErrOrStderr(), c)
		return nil
	}
	return cmd
}

func printWarnings(w io.Writer, c *config.Config) {
	for _, p := range c.Warnings {
		fmt.Fprintf(w, "warning: %s\n", p)
	}
}

func flagName(f string) string {
	if f == "" {
		return ""
	}
	return "--" + f
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
