package admission

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/logkey"
	"github.com/psgate/psgate/store"
)

// checkRate refuses a creation when the user created limit shells within
// the last minute, saying when the oldest of them leaves the window.
func (a *Admitter) checkRate(ctx context.Context, p psgate.Principal, limit int, now time.Time) error {
	if limit <= 0 {
		return nil
	}
	n, err := a.st.CountCreations(ctx, p.TenantID, p.UserID, creationWindow, now)
	if err != nil {
		return storeDown("count creations", err)
	}
	if n < limit {
		return nil
	}
	// At now+d the window holds the creations of the last (window-d)
	// before now: find the first whole second d at which fewer than limit
	// remain. The count only shrinks as d grows, so bisect.
	lo, hi := 1, int(creationWindow/time.Second)
	for lo < hi {
		mid := (lo + hi) / 2
		c, err := a.st.CountCreations(ctx, p.TenantID, p.UserID, creationWindow-time.Duration(mid)*time.Second, now)
		if err != nil {
			return storeDown("count creations", err)
		}
		if c < limit {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	retry := now.Add(time.Duration(lo) * time.Second)
	return psgate.E(psgate.CodeCreationRateExceeded, psgate.Args{
		"limit": strconv.Itoa(limit),
		"retry": fmt.Sprintf("%s (at %s UTC)", seconds(lo), retry.UTC().Format(time.TimeOnly)),
	}).With(logkey.Reason, "creation-rate").
		With("limit", strconv.Itoa(limit)).
		With("count", strconv.Itoa(n)).
		With("reset", stamp(retry))
}

func seconds(n int) string {
	if n == 1 {
		return "1 second"
	}
	return strconv.Itoa(n) + " seconds"
}

// quotaRefusal turns a refused lease into the w:QuotaLimit error: the
// seed's sentence followed by the holders of the slots. For the user quota
// those are the caller's own shells. For the tenant quota a tenant
// administrator sees every holder; anyone else sees the caller's own
// shells and how many shells the other users hold, without names.
func quotaRefusal(qe *store.QuotaError, userID psgate.UserID, admin bool, lifetime time.Duration, now time.Time) *psgate.Error {
	var b strings.Builder
	code, reason := psgate.CodeUserQuotaExceeded, "user-quota"
	if qe.Scope == store.QuotaScopeTenant {
		code, reason = psgate.CodeTenantQuotaExceeded, "tenant-quota"
	}
	e := psgate.E(code, nil)
	b.WriteString(e.Message)

	var own []store.Lease
	for _, l := range qe.Holders {
		if l.UserID == userID {
			own = append(own, l)
		}
	}
	switch {
	case qe.Scope == store.QuotaScopeUser:
		fmt.Fprintf(&b, "\nYour open shells (%d of %d):", qe.Count, qe.Limit)
		writeHolders(&b, own, false, lifetime)
	case admin:
		fmt.Fprintf(&b, "\nThe tenant's open shells (%d of %d):", qe.Count, qe.Limit)
		writeHolders(&b, qe.Holders, true, lifetime)
	default:
		fmt.Fprintf(&b, "\nThe tenant holds %d of %d shells: %s.", qe.Count, qe.Limit, perUserCounts(qe.Holders))
		if len(own) > 0 {
			fmt.Fprintf(&b, "\nYour open shells (%d):", len(own))
			writeHolders(&b, own, false, lifetime)
		}
	}
	closable := own
	if admin {
		closable = qe.Holders
	}
	if len(closable) > 0 {
		id := closable[0].ShellID
		fmt.Fprintf(&b, "\nTo close one: Remove-CsOnlineSession -Identity <id> (from another session) or psgate sessions close <id>, for example Remove-CsOnlineSession -Identity %s.", id)
	}
	e.Message = b.String()

	reset := now
	for i, l := range qe.Holders {
		if t := holderExpiry(l, lifetime); i == 0 || t.Before(reset) {
			reset = t
		}
	}
	return e.With(logkey.Reason, reason).
		With("limit", strconv.Itoa(qe.Limit)).
		With("count", strconv.Itoa(qe.Count)).
		With("reset", stamp(reset))
}

// holderExpiry is when a slot is free at the latest: when its shell reaches
// the session lifetime. Without a lifetime it is the lease expiry.
func holderExpiry(l store.Lease, lifetime time.Duration) time.Time {
	if lifetime > 0 && !l.OpenedAt.IsZero() {
		return l.OpenedAt.Add(lifetime)
	}
	return l.ExpiresAt
}

// writeHolders lists leases, one per line, with the owner's UPN when
// withUser is set.
func writeHolders(b *strings.Builder, ls []store.Lease, withUser bool, lifetime time.Duration) {
	for i, l := range ls {
		fmt.Fprintf(b, "\n  %d. Shell %s", i+1, l.ShellID)
		if withUser {
			fmt.Fprintf(b, " of %s", l.UPN)
		}
		client := l.ClientAddr
		if client == "" {
			client = "unknown"
		}
		fmt.Fprintf(b, ": client %s, user agent %q, opened %s, last active %s, expires %s",
			client, l.UserAgent, stamp(l.OpenedAt), stamp(l.LastActiveAt), stamp(holderExpiry(l, lifetime)))
	}
}

// perUserCounts describes how many shells the holders' users hold, without
// naming them: "2 users hold 3 shells each, 1 user holds 1 shell".
func perUserCounts(ls []store.Lease) string {
	perUser := map[psgate.UserID]int{}
	for _, l := range ls {
		perUser[l.UserID]++
	}
	users := map[int]int{} // shells held → users holding that many
	for _, n := range perUser {
		users[n]++
	}
	sizes := make([]int, 0, len(users))
	for n := range users {
		sizes = append(sizes, n)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(sizes)))
	parts := make([]string, 0, len(sizes))
	for _, n := range sizes {
		u := users[n]
		verb, who := "hold", strconv.Itoa(u)+" users"
		if u == 1 {
			verb, who = "holds", "1 user"
		}
		what := strconv.Itoa(n) + " shells"
		if n == 1 {
			what = "1 shell"
		}
		if u > 1 {
			what += " each"
		}
		parts = append(parts, who+" "+verb+" "+what)
	}
	if len(parts) == 0 {
		return "no holders are listed"
	}
	return strings.Join(parts, ", ")
}

// stamp formats a time for messages and fault details.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format(time.RFC3339)
}
