package identity

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/logkey"
)

// devicePage is the verification page of the device flow: the user
// enters the code their application shows and signs in. It sets no
// cookies and keeps no session: one POST carries the code and the
// credentials. Signing in here is interactive, so it is allowed even
// where the tenant's policy forbids passwords for WinRM and the password
// grant.
var devicePage = template.Must(template.New("device").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>psgate sign-in</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 26rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.4rem; }
label { display: block; margin-top: 1rem; font-weight: 600; }
input { width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; margin-top: .25rem; }
input[name=user_code] { text-transform: uppercase; letter-spacing: .15em; }
button { margin-top: 1.5rem; padding: .6rem 1.2rem; font-size: 1rem; }
.error { background: #fdecea; border: 1px solid #f5c2c0; padding: .75rem; margin-top: 1rem; }
.ok { background: #e8f5e9; border: 1px solid #b9dfbb; padding: .75rem; margin-top: 1rem; }
</style>
</head>
<body>
<h1>Sign in to psgate</h1>
{{if .Done}}
<p class="ok" role="status">You are signed in as <strong>{{.UPN}}</strong> (tenant {{.Tenant}}). Return to your application: it continues by itself. You can close this page.</p>
{{else}}
<p>Enter the code your application shows, then sign in with your account.</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}" autocomplete="off">
<label for="user_code">Code</label>
<input id="user_code" name="user_code" value="{{.UserCode}}" placeholder="XXXX-XXXX" required autofocus>
<label for="username">User name</label>
<input id="username" name="username" value="{{.Username}}" placeholder="you@contoso.test" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
{{end}}
</body>
</html>
`))

type devicePageData struct {
	Action   string
	UserCode string
	Username string
	Error    string
	Done     bool
	UPN      string
	Tenant   string
}

// maxPageForm bounds the verification page's form.
const maxPageForm = 16 << 10

func (s *Service) serveDevicePage(w http.ResponseWriter, r *http.Request) {
	s.renderDevicePage(w, http.StatusOK, devicePageData{UserCode: r.URL.Query().Get("user_code")})
}

func (s *Service) serveDeviceSignIn(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxPageForm)
	if err := r.ParseForm(); err != nil {
		s.renderDevicePage(w, http.StatusBadRequest, devicePageData{Error: "The form could not be read."})
		return
	}
	typed, user, pass := r.PostForm.Get("user_code"), r.PostForm.Get("username"), r.PostForm.Get("password")
	data := devicePageData{UserCode: typed, Username: user}
	fail := func(status int, err error) {
		data.Error = err.Error()
		if e, ok := psgate.AsError(err); ok {
			data.Error = e.Message
			if st := e.Entry().HTTPStatus; st != 0 {
				status = st
			}
			if e.Code == psgate.CodeStoreDown {
				s.log.Error("device sign-in failed", logkey.Err, e.Err)
			}
			if v, ok := e.Value("retry_after"); ok {
				w.Header().Set("Retry-After", v)
			}
		}
		s.renderDevicePage(w, status, data)
	}
	addr := s.ClientAddr(r)
	if err := s.cred.deviceCodeLocked(ctx, addr); err != nil {
		fail(http.StatusTooManyRequests, err)
		return
	}
	now := s.cfg.Now()
	code := normalizeUserCode(typed)
	a, ok := s.devices.pending(code, now)
	if !ok {
		if err := s.cred.failDeviceCode(ctx, addr); err != nil {
			fail(http.StatusTooManyRequests, err)
			return
		}
		fail(http.StatusBadRequest, invalidGrant("the code is not valid or has expired; check the code your application shows, or start again there"))
		return
	}
	u, t, err := s.cred.check(ctx, user, pass, addr, viaDevicePage)
	if err != nil {
		fail(http.StatusUnauthorized, err)
		return
	}
	if a.tenantID != 0 && a.tenantID != u.TenantID {
		fail(http.StatusForbidden, invalidGrant("this application belongs to another tenant"))
		return
	}
	if !s.devices.approve(code, u.ID, now) {
		fail(http.StatusBadRequest, psgate.E(psgate.CodeDeviceCodeExpired, nil))
		return
	}
	s.log.Info("device code approved", logkey.Tenant, t.Name, logkey.User, u.UPN, logkey.ClientID, a.clientID)
	s.renderDevicePage(w, http.StatusOK, devicePageData{Done: true, UPN: u.UPN, Tenant: t.Name})
}

func (s *Service) renderDevicePage(w http.ResponseWriter, status int, data devicePageData) {
	data.Action = PathDevice
	var buf bytes.Buffer
	if err := devicePage.Execute(&buf, data); err != nil {
		s.log.Error("device page", logkey.Err, err)
		http.Error(w, "identity: the sign-in page cannot be shown", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
