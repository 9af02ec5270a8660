package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/errdoc"
)

func newErrorsCmd() *cobra.Command {
	var markdown bool
	cmd := &cobra.Command{
		Use:   "errors [code]",
		Short: "Explain psgate error codes (the catalog)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			if markdown {
				_, err := w.Write(errdoc.Markdown())
				return err
			}
			for _, c := range psgate.Codes() {
				if len(args) == 1 && string(c) != args[0] {
					continue
				}
				e := psgate.Lookup(c)
				fmt.Fprintf(w, "%s  %s\n  message: %s\n  fix:     %s\n\n", c, e.Title, e.Message, e.Resolution)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&markdown, "markdown", false, "print the catalog as the docs/errors.md page")
	return cmd
}
