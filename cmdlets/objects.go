package cmdlets

import (
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/store"
)

// Type names of the objects the cmdlets write.
const (
	TypeTenant          = "Psgate.Tenant"
	TypeOnlineUser      = "Psgate.OnlineUser"
	TypeDirectoryObject = "Psgate.DirectoryObject"
)

// TenantObject converts a tenant to the object Get-CsTenant writes. Its
// default display property set has more than four properties, so the
// default view is a list, as Microsoft's Get-CsTenant shows.
func TenantObject(t store.Tenant) *psobject.Object {
	id := TenantGUID(t)
	var domains []any
	if t.Domain != "" {
		domains = []any{t.Domain}
	}
	o := psobject.New([]string{TypeTenant, TypeDirectoryObject, "System.Object"},
		psobject.P("Identity", string(id)),
		psobject.P("TenantId", id),
		psobject.P("DisplayName", t.DisplayName),
		psobject.P("Name", t.Name),
		psobject.P("DomainName", t.Domain),
		psobject.P("Domains", domains),
		psobject.P("CreatedOn", timeOrNil(t.CreatedAt)),
		psobject.P("RemotePowerShellEnabled", t.Policy.EnableRemotePowerShellAccess),
		psobject.P("MaxShellsPerUser", int32(t.Policy.MaxShellsPerUser)),
		psobject.P("MaxShellsPerTenant", int32(t.Policy.MaxShellsPerTenant)),
		psobject.P("SessionLifetime", t.Policy.SessionLifetime),
		psobject.P("IdleTimeout", t.Policy.IdleTimeout),
	)
	o.Text = t.Name
	o.DisplayProps = []string{
		"DisplayName", "Name", "TenantId", "Domains", "CreatedOn",
		"RemotePowerShellEnabled", "MaxShellsPerUser", "MaxShellsPerTenant",
		"SessionLifetime", "IdleTimeout",
	}
	return o
}

// TenantGUID is the tenant's identity as Get-CsTenant shows it. The store
// keeps no GUID for tenants, so it is derived from the tenant's ID and name
// (a name-based, version 5 style UUID): the same tenant always gets the
// same GUID and two tenants never share one.
func TenantGUID(t store.Tenant) psobject.GUID {
	sum := sha1.Sum([]byte("psgate.tenant\x00" + strconv.FormatInt(int64(t.ID), 10) + "\x00" + strings.ToLower(t.Name)))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50 // version 5
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b)
	return psobject.GUID(h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:])
}

// OnlineUserObject converts a user to the object Get-CsOnlineUser writes.
// Its default display property set (DisplayName, UserPrincipalName,
// SipAddress, Enabled) makes the default view a table.
func OnlineUserObject(u store.User) *psobject.Object {
	o := psobject.New([]string{TypeOnlineUser, TypeDirectoryObject, "System.Object"},
		psobject.P("Identity", u.ObjectID),
		psobject.P("UserPrincipalName", u.UPN),
		psobject.P("DisplayName", u.DisplayName),
		psobject.P("SipAddress", sipURI(u.SipAddress)),
		psobject.P("Enabled", u.Enabled),
		psobject.P("Department", u.Department),
		psobject.P("Title", u.Title),
		psobject.P("UsageLocation", u.UsageLocation),
		psobject.P("LineURI", u.LineURI),
		psobject.P("EnterpriseVoiceEnabled", u.EnterpriseVoiceEnabled),
		psobject.P("WhenCreated", timeOrNil(u.CreatedAt)),
		psobject.P("WhenChanged", timeOrNil(u.UpdatedAt)),
	)
	o.Text = u.UPN
	o.DisplayProps = []string{"DisplayName", "UserPrincipalName", "SipAddress", "Enabled"}
	return o
}

// sipURI shows a SIP address with its "sip:" scheme, as Skype for Business
// and Teams do; the store may keep it either way.
func sipURI(s string) string {
	if s == "" || strings.HasPrefix(strings.ToLower(s), "sip:") {
		return s
	}
	return "sip:" + s
}

// timeOrNil shows an unset time as $null rather than 1/1/0001.
func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
