package identity

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// maxUserName bounds the typed user names the service looks up: no UPN is
// longer, and anything longer is an unknown name.
const maxUserName = 256

// canonicalName folds a typed user name to the one spelling every
// lookup and counter uses: Unicode NFKC (full-width letters, ligatures and
// compatibility forms become their plain letters), lower case as the
// store folds UPNs, and without whitespace or invisible format characters
// anywhere (UPNs contain none: `contoso\ admin`, " admin@contoso.test"
// and "admin @contoso.test" are all "admin@contoso.test"'s spellings).
// TENANT\user keeps its backslash; resolve turns it into a UPN.
func canonicalName(typed string) string {
	if len(typed) > 4*maxUserName {
		typed = typed[:4*maxUserName]
	}
	s := norm.NFKC.String(typed)
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	return norm.NFKC.String(strings.ToLower(s))
}

// account is what a typed user name resolves to: the account it names, or
// for a name that names none, its canonical form. key is the one identity
// every counter, lock and cache of the account uses, so that no spelling
// of the account has a budget of its own.
type account struct {
	// key is "acct:<user id>" for an account, "name:<hash of the
	// canonical name>" for an unknown name (the hash keeps a password
	// typed into the user name field out of the store).
	key string
	// upn is the canonical UPN (or canonical name when the tenant of
	// TENANT\user is unknown).
	upn   string
	user  store.User
	known bool
}

// resolve finds the account a typed user name (UPN or TENANT\user, in any
// spelling) names. Unknown names cost the same store reads as known ones.
// Only store failures are errors.
func resolve(ctx context.Context, dir Directory, typed string) (account, error) {
	upn, err := NormalizeUser(ctx, dir, typed)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return account{}, err
	}
	u, uerr := dir.UserByUPN(ctx, upn)
	switch {
	case uerr == nil && err == nil:
		return account{key: accountKey(u.ID), upn: u.UPN, user: u, known: true}, nil
	case uerr != nil && !errors.Is(uerr, store.ErrNotFound):
		return account{}, uerr
	}
	sum := sha256.Sum256([]byte("psgate unknown user name\x00" + upn))
	return account{key: "name:" + base64.RawURLEncoding.EncodeToString(sum[:]), upn: upn}, nil
}

func accountKey(userID psgate.UserID) string { return "acct:" + strconv.FormatInt(int64(userID), 10) }

// NormalizeUser turns the user names WinRM clients send (user@domain or
// TENANT\user, in any case, Unicode compatibility form or with stray
// whitespace) into the canonical UPN. For TENANT\user with an unknown
// tenant it returns the canonical name and the store's ErrNotFound.
func NormalizeUser(ctx context.Context, dir Directory, user string) (string, error) {
	c := canonicalName(user)
	if len(c) > maxUserName {
		return c, store.ErrNotFound
	}
	if domain, name, ok := strings.Cut(c, `\`); ok {
		t, err := dir.TenantByName(ctx, domain)
		if err != nil {
			return c, err
		}
		return canonicalName(name + "@" + t.Domain), nil
	}
	return c, nil
}
