//go:build !connector

package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate/cmdlets"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/engine/builtin"
	"github.com/psgate/psgate/module"
)

func newModuleCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "module",
		Short: "Check module files: cmdlets served by your own HTTP service",
		Long: `A module file declares cmdlets that psgate serves by calling your HTTP service:
their parameters, help, output type and the request each makes. psgate serve
--modules DIR loads every *.json file of DIR at start and refuses to start on a
broken one. docs/modules.md describes the format; module/schema.json is its
JSON Schema, for editors.`,
	}
	cmd.AddCommand(newModuleCheckCmd(), newModuleFromOpenAPICmd())
	return cmd
}

func newModuleFromOpenAPICmd() *cobra.Command {
	var prefix, out string
	cmd := &cobra.Command{
		Use:   "from-openapi SPEC",
		Short: "Draft a module from an OpenAPI 3 document (JSON), to review and edit",
		Long: `Draft a module file from your service's OpenAPI 3 document (JSON; convert YAML
first): a cmdlet per operation, with an approved verb from the operation id or the
method (list → Get, create → New, PATCH → Update, DELETE → Remove...) and a noun of
the prefix and the resource (Get-ContosoWidget); parameters from the path, query and
JSON body with their enums, ranges and patterns; output types from the response
schemas; paging from a next-link field. A GET of one item and of the list become one
cmdlet with two paths. The draft always passes "psgate module check"; what was left
out, and what to set (a base URL the document does not give, the backend's
audience), is printed as warnings. Review it before serving it.`,
		Example: `  psgate module from-openapi openapi.json --prefix Contoso --out contoso.json`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			text, warnings, err := module.FromOpenAPI(doc, prefix)
			if err != nil {
				return err
			}
			for _, w := range warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			if out == "" || out == "-" {
				_, err := cmd.OutOrStdout().Write(text)
				return err
			}
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return fmt.Errorf("%w (from-openapi never overwrites a module: choose another --out)", err)
			}
			if _, err := f.Write(text); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: written; review it, then psgate module check %s\n", out, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&prefix, "prefix", "", "noun prefix of the cmdlets and type names, such as Contoso (required)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the module to this new file (default: standard output)")
	_ = cmd.MarkFlagRequired("prefix")
	return cmd
}

func newModuleCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE|DIR",
		Short: "Check module files and report every problem with its line and field",
		Long: `Check module files as psgate serve would load them: the JSON, every field, the
TLS files they name, and that no cmdlet takes the name of a built-in command, a
tenant cmdlet or another module's cmdlet. A folder is checked as serve --modules
loads it: every *.json file in it. Each problem is printed as
FILE:LINE:COLUMN: FIELD: MESSAGE, and the exit status is non-zero if there is one.`,
		Example: `  psgate module check examples/widgets/widgets.json
  psgate module check /etc/psgate/modules`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var mods []*module.Module
			var problems []module.Problem
			for _, arg := range args {
				loaded, err := loadModules(arg)
				var me *module.Error
				if errors.As(err, &me) {
					problems = append(problems, me.Problems...)
					continue
				}
				if err != nil {
					return err
				}
				mods = append(mods, loaded...)
			}
			if len(problems) == 0 {
				if err := conflicts(mods); err != nil {
					var me *module.Error
					if !errors.As(err, &me) {
						return err
					}
					problems = me.Problems
				}
			}
			if len(problems) > 0 {
				for _, p := range problems {
					fmt.Fprintln(cmd.ErrOrStderr(), p.String())
				}
				return fmt.Errorf("%s; psgate serve would refuse to start", plural(len(problems), "problem"))
			}
			for _, m := range mods {
				names := make([]string, len(m.Cmdlets))
				for i, c := range m.Cmdlets {
					names[i] = c.Name
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok: module %s, %s: %s\n", m.File, m.Name, plural(len(names), "cmdlet"), strings.Join(names, ", "))
			}
			return nil
		},
	}
}

// loadModules loads a module file, or every module of a folder.
func loadModules(path string) ([]*module.Module, error) {
	st, err := os.Stat(path)
	if err == nil && st.IsDir() {
		return module.LoadDir(path)
	}
	m, err := module.Load(path)
	if err != nil {
		return nil, err
	}
	return []*module.Module{m}, nil
}

// conflicts checks the modules' cmdlet names against the commands psgate
// serve registers before them, and against each other.
func conflicts(mods []*module.Module) error {
	cat := engine.NewCatalog()
	if err := builtin.Register(cat); err != nil {
		return err
	}
	// The tenant cmdlets are registered for their names only: nothing
	// runs, so they need no directory.
	if err := cmdlets.Register(cat, nil); err != nil {
		return err
	}
	return module.Conflicts(cat, mods)
}
