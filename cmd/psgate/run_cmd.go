package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate/client"
)

func newRunCmd() *cobra.Command {
	var (
		output    string
		reconnect bool
		width     int
		color     string
		remote    *remoteOpts
	)
	cmd := &cobra.Command{
		Use:   "run '<command line>'",
		Short: "Run one command line on the gateway and print its output",
		Long: `Run one command line in a new session on the gateway, print its output and close
the session. Signs in from the token cache (psgate login), or with $PSGATE_PASSWORD.

Output is formatted as PowerShell formats it (a table for four or fewer properties,
a list otherwise), or with --output table|list|json|csv. Errors, warnings and
verbose messages go to standard error.

Exit status: 0 success, 1 the command wrote errors or failed, 3 authentication
failed, 4 the gateway could not be reached, 5 admission refused the session.`,
		Example: `  psgate run 'Get-CsOnlineUser -Identity alice@contoso.test'
  PSGATE_PASSWORD=... psgate run --endpoint http://127.0.0.1:5985/wsman --user admin@contoso.test 'Get-CsTenant' --output json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutputFormat(output); err != nil {
				return err
			}
			if err := checkColorMode(color); err != nil {
				return err
			}
			return runOnce(cmd, remote, args[0], output, width, color, reconnect)
		},
	}
	remote = addRemoteFlags(cmd)
	f := cmd.Flags()
	f.StringVarP(&output, "output", "o", "", "output format: table, list, json or csv (default: as PowerShell)")
	f.BoolVar(&reconnect, "reconnect", false, "open a new session and retry when the session is lost before the command starts")
	f.IntVar(&width, "width", 0, "line width of table and list output (default 120)")
	f.StringVar(&color, "color", "auto", "colour table headers, errors and warnings: auto (on a terminal, unless NO_COLOR is set), always or never")
	return cmd
}

// runOnce dials, runs one command line, prints and closes.
func runOnce(cmd *cobra.Command, o *remoteOpts, line, output string, width int, color string, reconnect bool) error {
	cfg, err := o.config(cmd.InOrStdin())
	if err != nil {
		return err
	}
	// One command: the gateway opened the pool in Create.
	cfg.NoOpenWait = true
	ctx := cmd.Context()
	stderr := cmd.ErrOrStderr()
	errColor := useColor(color, stderr, os.Getenv)
	opts := client.RunOptions{Record: func(r client.Record) { writeRecord(stderr, r, errColor) }}
	out := outputStyle{mode: output, width: width, color: useColor(color, cmd.OutOrStdout(), os.Getenv)}
	if reconnect {
		r, err := client.DialReconnecting(ctx, cfg, func(msg string) { fmt.Fprintln(stderr, msg) })
		if err != nil {
			return err
		}
		defer closeQuietly(ctx, r.Close)
		res, err := r.Run(ctx, client.Script(line), opts)
		return finishRun(cmd, res, err, out)
	}
	s, err := client.Dial(ctx, cfg)
	if err != nil {
		return noTerminal(cmd, err, cfg.User)
	}
	defer closeQuietly(ctx, s.Close)
	res, err := s.Run(ctx, client.Script(line), opts)
	return finishRun(cmd, res, err, out)
}

// closeQuietly closes a session with a short deadline, even after Ctrl+C.
func closeQuietly(ctx context.Context, closeFn func(context.Context) error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = closeFn(cctx)
}

// finishRun prints the output and returns the command's error: the
// terminating one, else the first error record (exit status 1).
func finishRun(cmd *cobra.Command, res *client.Result, err error, out outputStyle) error {
	if res != nil {
		if werr := writeObjects(cmd.OutOrStdout(), res.Output, out.mode, out.width, out.color); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return err
	}
	return res.Err()
}
