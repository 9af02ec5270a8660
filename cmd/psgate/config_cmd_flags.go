//go:build !connector

package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate/config"
)

// configFlags are the flags of psgate serve, which psgate config show
// takes too: --config and one flag per setting that has one.
type configFlags struct {
	cmd     *cobra.Command
	file    string
	logJSON bool
}

// addConfigFlags adds --config and the settings' flags to cmd. A flag's
// help names its key and environment variable.
func addConfigFlags(cmd *cobra.Command) *configFlags {
	cf := &configFlags{cmd: cmd}
	f := cmd.Flags()
	f.StringVar(&cf.file, "config", "", "configuration file (TOML) [$PSGATE_CONFIG]; PSGATE_* variables and flags override it")
	for _, s := range config.Settings() {
		if s.Flag == "" {
			continue
		}
		usage := fmt.Sprintf("%s [%s, $%s]", s.Doc, s.Key, s.Env)
		switch s.Kind {
		case config.KindBool:
			f.Bool(s.Flag, s.Default == "true", usage)
		case config.KindList:
			f.StringSlice(s.Flag, nil, usage+"; repeat or comma-separate")
		default:
			f.Var(&textFlag{val: s.Default, typ: flagType(s.Type)}, s.Flag, usage)
		}
	}
	f.BoolVar(&cf.logJSON, "log-json", false, "write logs as JSON (deprecated: use --log-format json)")
	_ = f.MarkHidden("log-json")
	return cf
}

// path is the configuration file: --config, else $PSGATE_CONFIG.
func (cf *configFlags) path() string {
	if cf.file != "" {
		return cf.file
	}
	return os.Getenv("PSGATE_CONFIG")
}

// load reads the effective configuration: defaults, the file, the
// environment, then the flags given.
func (cf *configFlags) load() (*config.Config, error) {
	f := cf.cmd.Flags()
	given := map[string]string{}
	for _, s := range config.Settings() {
		if s.Flag == "" || !f.Changed(s.Flag) {
			continue
		}
		if s.Kind == config.KindList {
			list, err := f.GetStringSlice(s.Flag)
			if err != nil {
				return nil, fmt.Errorf("--%s: %w", s.Flag, err)
			}
			given[s.Flag] = strings.Join(list, ",")
			continue
		}
		given[s.Flag] = f.Lookup(s.Flag).Value.String()
	}
	if cf.logJSON && !f.Changed("log-format") {
		given["log-format"] = "json"
	}
	return config.Load(config.Options{File: cf.path(), Env: os.LookupEnv, Flags: given})
}

// textFlag is a flag whose text the config package reads, so that a flag,
// a variable and a key share one parser and one set of messages.
type textFlag struct {
	val, typ string
}

func (f *textFlag) String() string     { return f.val }
func (f *textFlag) Set(s string) error { f.val = s; return nil }
func (f *textFlag) Type() string       { return f.typ }

// flagType is the word the help shows for a flag's value.
func flagType(t string) string {
	switch {
	case t == "duration":
		return "duration"
	case strings.HasPrefix(t, "integer"):
		return "int"
	}
	return "string"
}
