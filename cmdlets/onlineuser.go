package cmdlets

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/store"
)

// userPageSize is how many users one directory read returns.
const userPageSize = 500

func getCsOnlineUser(dir Directory) *engine.Command {
	return &engine.Command{
		Name:     "Get-CsOnlineUser",
		Synopsis: "Gets the users of your tenant.",
		Description: "The Get-CsOnlineUser cmdlet returns the users of the tenant you are signed " +
			"in to, with their sign-in name (UserPrincipalName), SIP address, department, " +
			"title, usage location, phone number (LineURI) and whether they are enabled " +
			"for sign-in and for Enterprise Voice.\n\n" +
			"Without parameters it returns every user of your tenant. Use -Identity to get " +
			"one user, -Filter to select users by their properties and -ResultSize to " +
			"limit how many users are returned. Users of other tenants are never returned.\n\n" +
			"The default view is a table of DisplayName, UserPrincipalName, SipAddress and " +
			"Enabled; pipe the result to Format-List * to see every property.",
		OutputType: []string{TypeOnlineUser},
		Parameters: []engine.Parameter{
			{
				Name:                   "Identity",
				Type:                   engine.TypeString,
				Position:               0,
				ValidateNotNullOrEmpty: true,
				Help: "The user to get: the user principal name (alice@contoso.test), " +
					"the SIP address (sip:alice@contoso.test), the display name " +
					"(\"Alice Wong\") or the object id (a GUID). A display name can match " +
					"several users; all of them are returned. When nothing matches, the " +
					"cmdlet writes an ObjectNotFound error.",
			},
			{
				Name:     "Filter",
				Type:     engine.TypeString,
				Position: engine.NotPositional,
				Help: "Returns only the users that match the filter: comparisons such as " +
					"\"Department -eq 'Sales'\" joined by -and and -or, with parentheses. " +
					"Operators: -eq, -ne, -gt, -ge, -lt, -le, -like, -notlike, -match, " +
					"-notmatch, -contains, -notcontains, -in, -notin. Values are quoted " +
					"strings, numbers, $true, $false and $null. Any property of the output " +
					"objects can be used.",
			},
			{
				Name:          "ResultSize",
				Type:          engine.TypeInt,
				Position:      engine.NotPositional,
				ValidateRange: &engine.Range{Min: 1, Max: math.MaxInt32},
				Help:          "The maximum number of users to return. By default all matching users are returned.",
			},
		},
		Examples: []engine.Example{
			{
				Code:    "Get-CsOnlineUser -Identity alice@contoso.test",
				Remarks: "Gets the user whose user principal name is alice@contoso.test.",
			},
			{
				Code:    "Get-CsOnlineUser -Filter \"Department -eq 'Sales' -and EnterpriseVoiceEnabled -eq $true\" | Select-Object DisplayName, LineURI",
				Remarks: "Lists the phone numbers of the Sales users enabled for Enterprise Voice.",
			},
			{
				Code:    "Get-CsOnlineUser -ResultSize 10",
				Remarks: "Gets the first ten users of the tenant.",
			},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			return runGetCsOnlineUser(ctx, inv, dir)
		},
	}
}

func runGetCsOnlineUser(ctx context.Context, inv *engine.Invocation, dir Directory) error {
	tenant := inv.Caller.TenantID
	var filter *engine.Filter
	if inv.Bound("Filter") {
		f, err := parseUserFilter(inv, inv.String("Filter"))
		if err != nil {
			return err
		}
		filter = f
	}
	size, _ := inv.Int("ResultSize")
	limit := int(size)

	written := 0
	// write outputs u if it passes the filter; stop reports that the
	// result size is reached.
	write := func(u store.User) (stop bool, err error) {
		if u.TenantID != tenant {
			return false, nil // never another tenant's user
		}
		obj := OnlineUserObject(u)
		if filter != nil {
			ok, err := filter.Match(obj)
			if err != nil {
				return true, filterFailed(inv, err)
			}
			if !ok {
				return false, nil
			}
		}
		inv.Write(obj)
		written++
		return limit > 0 && written >= limit, nil
	}

	if !inv.Bound("Identity") {
		return eachUser(ctx, inv, dir, store.UserFilter{}, write)
	}
	identity := inv.String("Identity")
	users, err := findUsers(ctx, inv, dir, identity)
	if err != nil {
		return err
	}
	if len(users) == 0 {
		inv.WriteError(notFound(inv, identity))
		return nil
	}
	for _, u := range users {
		if stop, err := write(u); stop || err != nil {
			return err
		}
	}
	return nil
}

// findUsers resolves an identity in the caller's tenant: an exact user
// principal name, object id or SIP address (with or without "sip:"), else
// a display name, compared case-insensitively.
func findUsers(ctx context.Context, inv *engine.Invocation, dir Directory, identity string) ([]store.User, error) {
	tenant := inv.Caller.TenantID
	users, err := dir.ListUsers(ctx, tenant, store.UserFilter{Identity: identity, Limit: userPageSize})
	if err != nil {
		return nil, storeError(inv, "find user", err)
	}
	var out []store.User
	for _, u := range users {
		if u.TenantID == tenant {
			out = append(out, u)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	err = eachUser(ctx, inv, dir, store.UserFilter{Contains: identity}, func(u store.User) (bool, error) {
		if u.TenantID == tenant && strings.EqualFold(u.DisplayName, identity) {
			out = append(out, u)
		}
		return false, nil
	})
	return out, err
}

// eachUser calls fn for the caller's tenant's users matching f, in ID
// order, reading the directory a page at a time, until fn asks to stop or
// fails.
func eachUser(ctx context.Context, inv *engine.Invocation, dir Directory, f store.UserFilter, fn func(store.User) (stop bool, err error)) error {
	f.Limit = userPageSize
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		page, err := dir.ListUsers(ctx, inv.Caller.TenantID, f)
		if err != nil {
			return storeError(inv, "list users", err)
		}
		for _, u := range page {
			if stop, err := fn(u); stop || err != nil {
				return err
			}
		}
		if len(page) < userPageSize {
			return nil
		}
		f.AfterID = page[len(page)-1].ID
	}
}

// parseUserFilter parses -Filter and checks that it names only properties
// online users have, so that a misspelt property is an error rather than
// a filter that silently matches nothing.
func parseUserFilter(inv *engine.Invocation, text string) (*engine.Filter, error) {
	f, err := engine.ParseFilter(text)
	if err != nil {
		if perr, ok := psgate.AsError(err); ok {
			cat := engine.CategoryInvalidArgument
			if perr.Code == psgate.CodeLanguageNotAllowed {
				cat = engine.CategoryParserError
			}
			return nil, terminating(inv, perr, cat, "InvalidFilter")
		}
		return nil, fmt.Errorf("cmdlets: %s: parse filter: %w", inv.Command.Name, err)
	}
	known := OnlineUserObject(store.User{})
	for _, name := range f.Properties() {
		if _, ok := known.PropertyName(name); ok {
			continue
		}
		names := make([]string, 0, len(known.Props))
		for _, p := range known.Props {
			names = append(names, p.Name)
		}
		col := 1
		if i := strings.Index(strings.ToLower(text), strings.ToLower(name)); i >= 0 {
			col = utf8.RuneCountInString(text[:i]) + 1
		}
		return nil, terminating(inv, psgate.E(psgate.CodeInvalidFilter, psgate.Args{
			"filter": text,
			"detail": fmt.Sprintf("'%s' is not a property of online users; use one of %s", name, strings.Join(names, ", ")),
			"column": strconv.Itoa(col),
		}), engine.CategoryInvalidArgument, "InvalidFilter")
	}
	return f, nil
}

// filterFailed reports a comparison the filter could not make (for
// example WhenCreated -gt 'yesterday').
func filterFailed(inv *engine.Invocation, err error) error {
	perr, ok := psgate.AsError(err)
	if !ok {
		return fmt.Errorf("cmdlets: %s: evaluate filter: %w", inv.Command.Name, err)
	}
	return terminating(inv, perr, engine.CategoryInvalidOperation, "InvalidFilter")
}
