package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// outputFlag is the --output table|json flag every listing command
// shares, with --json kept as a hidden, deprecated spelling of
// --output json.
type outputFlag struct {
	format string
	json   bool
}

// addOutputFlag adds --output (-o) and the deprecated --json to cmd, to
// its subcommands too when persistent.
func addOutputFlag(cmd *cobra.Command, persistent bool, o *outputFlag) {
	fs := cmd.Flags()
	if persistent {
		fs = cmd.PersistentFlags()
	}
	fs.StringVarP(&o.format, "output", "o", "table", "output format: table or json")
	fs.BoolVar(&o.json, "json", false, "print JSON (deprecated: use --output json)")
	// Hidden rather than MarkDeprecated: pflag would print the notice to
	// standard output, into the JSON a script reads.
	_ = fs.MarkHidden("json")
}

// check resolves --json into --output, with a notice on standard error,
// and refuses an unknown format.
func (o *outputFlag) check(cmd *cobra.Command) error {
	cmdPath := cmd.CommandPath()
	if o.json {
		if o.format != "table" && o.format != "json" {
			return &usageError{cmd: cmdPath, msg: fmt.Sprintf("--json and --output %s contradict each other; use --output json", o.format)}
		}
		o.format = "json"
		fmt.Fprintln(cmd.ErrOrStderr(), "psgate: --json is deprecated; use --output json")
		o.json = false // one notice per run
	}
	switch o.format {
	case "table", "json":
		return nil
	}
	return &usageError{cmd: cmdPath, msg: fmt.Sprintf("--output %q: use table or json", o.format)}
}

// isJSON reports whether the output is JSON (after check).
func (o *outputFlag) isJSON() bool { return o.format == "json" }

// writeJSON writes v as indented JSON and a newline.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
