//go:build !connector

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/config"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/postgres"
	"github.com/psgate/psgate/store/sqlite"
)

// adminOpts are the flags every operator command shares: where the store
// is and how to print.
type adminOpts struct {
	data string
	dsn  string
	// config is the gateway's configuration file, read for its data
	// directory and store when neither --data nor --store is given.
	config string
	out    outputFlag
	// group is the command the flags belong to, for usage errors.
	group *cobra.Command
	// fastHash hashes passwords with cheap parameters (tests only).
	fastHash bool
}

// addAdminFlags adds the shared flags to a command group.
func addAdminFlags(cmd *cobra.Command) *adminOpts {
	o := &adminOpts{group: cmd}
	f := cmd.PersistentFlags()
	f.StringVar(&o.data, "data", "./psgate-data", "data directory of the gateway (its SQLite store); the gateway may be running")
	f.StringVar(&o.dsn, "store", "", "PostgreSQL store URL (postgres://user@host/db) instead of the data directory")
	f.StringVar(&o.config, "config", "", "the gateway's configuration file (TOML) [$PSGATE_CONFIG], for its data_dir and store; "+
		"PSGATE_DATA_DIR, PSGATE_STORE_DSN and PSGATE_STORE_DSN_FILE work too, so the store's password need not be on the command line")
	addOutputFlag(cmd, true, &o.out)
	f.BoolVar(&o.fastHash, "insecure-fast-hash", false, "hash passwords with test parameters (tests only)")
	_ = f.MarkHidden("insecure-fast-hash")
	return o
}

// withStore opens the store, runs fn and closes it. create allows
// creating an empty SQLite store in a new data directory.
func (o *adminOpts) withStore(ctx context.Context, create bool, fn func(st store.Store) error) error {
	st, err := o.open(ctx, create)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

// withTenant is withStore for commands about one existing tenant (a name,
// domain or ID).
func (o *adminOpts) withTenant(ctx context.Context, tenant string, fn func(st store.Store, t store.Tenant) error) error {
	return o.withStore(ctx, false, func(st store.Store) error {
		t, err := resolveTenant(ctx, st, tenant)
		if err != nil {
			return err
		}
		return fn(st, t)
	})
}

// checkOutput refuses an unknown --output.
func (o *adminOpts) checkOutput() error {
	return o.out.check(o.group)
}

func (o *adminOpts) open(ctx context.Context, create bool) (store.Store, error) {
	if err := o.checkOutput(); err != nil {
		return nil, err
	}
	if err := o.locate(); err != nil {
		return nil, err
	}
	if o.dsn != "" {
		if !strings.HasPrefix(o.dsn, "postgres://") && !strings.HasPrefix(o.dsn, "postgresql://") {
			return nil, fmt.Errorf("--store %q: want a PostgreSQL URL such as postgres://psgate@db.example/psgate", o.dsn)
		}
		db, err := postgres.Open(ctx, o.dsn, postgres.Options{})
		if err != nil {
			return nil, storeFailed("open the PostgreSQL store", err)
		}
		return db, nil
	}
	path := filepath.Join(o.data, "psgate.db")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if !create {
			return nil, fmt.Errorf("no psgate store in %s: pass --data with the gateway's data directory, or create a tenant first (psgate tenant create)", o.data)
		}
		if err := os.MkdirAll(o.data, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return nil, storeFailed("open "+path, err)
	}
	return db, nil
}

// locate finds the store the way psgate serve does when neither --data nor
// --store is given: from the configuration file (--config or
// $PSGATE_CONFIG) and the PSGATE_* variables, the store's connection string
// possibly read from a private file. Problems with settings the operator
// commands do not use (listeners, TLS, limits) are not theirs to report.
func (o *adminOpts) locate() error {
	flags := o.group.PersistentFlags()
	if flags.Changed("data") || flags.Changed("store") {
		return nil
	}
	file := o.config
	if file == "" {
		file = os.Getenv("PSGATE_CONFIG")
	}
	cfg, err := config.Load(config.Options{File: file, Env: os.LookupEnv})
	var cerr *config.Error
	if errors.As(err, &cerr) {
		var mine []config.Problem
		for _, p := range cerr.Problems {
			if p.Key == "" || p.Key == "data_dir" || strings.HasPrefix(p.Key, "store.") {
				mine = append(mine, p)
			}
		}
		if len(mine) > 0 {
			return &config.Error{Problems: mine}
		}
	} else if err != nil {
		return err
	}
	o.data, o.dsn = cfg.DataDir, cfg.StoreDSN
	return nil
}

// storeFailed reports a store failure: unavailable is the catalog's
// store.unavailable, anything else keeps its cause.
func storeFailed(op string, err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		return psgate.Wrap(psgate.CodeStoreDown, nil, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// print writes v as JSON, or calls table with a tab writer whose columns
// are aligned when it returns.
func (o *adminOpts) print(w io.Writer, v any, table func(tw io.Writer)) error {
	if o.out.isJSON() {
		return writeJSON(w, v)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// tableRow writes tab-separated cells ending the line. Cells are stored
// strings that users and clients chose (display names, user agents):
// control characters are shown escaped, so that none reaches the
// operator's terminal as an escape sequence.
func tableRow(w io.Writer, cells ...any) {
	for i, c := range cells {
		if i > 0 {
			fmt.Fprint(w, "\t")
		}
		fmt.Fprint(w, terminalSafe(fmt.Sprint(c)))
	}
	fmt.Fprintln(w)
}

// terminalSafe escapes the control characters of s (C0, DEL, C1; tabs
// and newlines included, since a cell is one line) as \x.. or \u....
func terminalSafe(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], string(utf8.RuneError)):
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case unicode.IsControl(r) && r < 0x80:
			fmt.Fprintf(&b, "\\x%02x", r)
		case unicode.IsControl(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// resolveTenant finds a tenant by ID, name or domain.
func resolveTenant(ctx context.Context, st store.Store, s string) (store.Tenant, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return store.Tenant{}, errors.New("no tenant given: pass --tenant with a tenant name, domain or ID")
	}
	var (
		t   store.Tenant
		err error
	)
	if id, perr := strconv.ParseInt(s, 10, 64); perr == nil {
		t, err = st.Tenant(ctx, psgate.TenantID(id))
	} else {
		t, err = st.TenantByName(ctx, s)
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.Tenant{}, psgate.E(psgate.CodeTenantNotFound, psgate.Args{"tenant": s})
	}
	if err != nil {
		return store.Tenant{}, storeFailed("find tenant", err)
	}
	return t, nil
}

// resolveUser finds a user by UPN; tenant, when not empty, must hold it.
func resolveUser(ctx context.Context, st store.Store, upn, tenant string) (store.User, store.Tenant, error) {
	var t store.Tenant
	if tenant != "" {
		var err error
		if t, err = resolveTenant(ctx, st, tenant); err != nil {
			return store.User{}, t, err
		}
	}
	label := tenant
	if label == "" {
		_, label, _ = strings.Cut(upn, "@")
	}
	u, err := st.UserByUPN(ctx, strings.TrimSpace(upn))
	if errors.Is(err, store.ErrNotFound) || err == nil && tenant != "" && u.TenantID != t.ID {
		return store.User{}, t, psgate.E(psgate.CodeObjectNotFound, psgate.Args{"identity": upn, "tenant": label})
	}
	if err != nil {
		return store.User{}, t, storeFailed("find user", err)
	}
	if t.ID == 0 {
		if t, err = st.Tenant(ctx, u.TenantID); err != nil {
			return store.User{}, t, storeFailed("read the user's tenant", err)
		}
	}
	return u, t, nil
}

// operatorName names who runs the CLI in audit records:
// operator:<OS user>@<host>, so that an action can be traced to a person
// on a machine. A part that cannot be found is left out.
func operatorName() string {
	name := ""
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	} else if env := os.Getenv("USER"); env != "" {
		name = env
	}
	if host, err := os.Hostname(); err == nil && host != "" {
		if name == "" {
			name = "?"
		}
		name += "@" + host
	}
	if name == "" {
		return "operator"
	}
	return "operator:" + name
}

// auditOperator records an operator action for the tenant; the change is already
// made, so a failure to record it is reported, not undone.
func auditOperator(ctx context.Context, st store.Store, tenantID psgate.TenantID, action, detail string) error {
	_, err := st.AppendAudit(ctx, store.AuditRecord{
		TenantID: tenantID, UPN: operatorName(), Action: "operator." + action,
		Outcome: store.OutcomeOK, Detail: detail,
	})
	if err != nil {
		return storeFailed("the change was made but could not be audited", err)
	}
	return nil
}

// tableTime prints a time for tables: UTC, seconds, or "-" when unset.
func tableTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// yesNo prints a boolean for tables.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// readPasswordHash reads a new password (see readPassword) and returns its
// argon2id hash.
func (o *adminOpts) readPasswordHash(cmd *cobra.Command, fromStdin bool) (string, error) {
	pw, err := readPassword(cmd, fromStdin)
	if err != nil {
		return "", err
	}
	hash, err := password.Hash(pw, o.hashParams())
	if err != nil {
		return "", fmt.Errorf("hash the password: %w", err)
	}
	return hash, nil
}

// hashParams are the password hashing parameters: the defaults, or the
// fast test parameters behind the hidden --insecure-fast-hash flag.
func (o *adminOpts) hashParams() password.Params {
	if o.fastHash {
		return password.Fast()
	}
	return password.Default()
}
