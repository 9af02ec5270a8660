package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/store"
)

// pypsrp runs a pypsrp scenario against the server's HTTP listener at path
// and decodes its JSON result into a generic map.
func pypsrp(t *testing.T, ts *testServer, rawURL, path, scenario string) map[string]any {
	t.Helper()
	py := python(t, "pypsrp")
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	ssl := "0"
	if u.Scheme == "https" {
		ssl = "1"
	}
	var out map[string]any
	runPy(t, py, "pypsrp_client.py", scenario, map[string]string{
		"PSGATE_HOST": u.Hostname(), "PSGATE_PORT": u.Port(), "PSGATE_SSL": ssl, "PSGATE_PATH": path,
		"PSGATE_USER": server.DemoAdmin, "PSGATE_PASSWORD": adminPassword,
	}, &out)
	return out
}

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func TestPypsrp(t *testing.T) {
	ts := startServer(t)
	run := func(t *testing.T, scenario string) map[string]any {
		return pypsrp(t, ts, ts.httpURL, "powershell", scenario)
	}

	t.Run("open and close", func(t *testing.T) {
		r := run(t, "open_close")
		if r["opened"] != "2" || r["closed"] != "3" || !strings.HasPrefix(fmt.Sprint(r["ps_version"]), "5.1") {
			t.Fatalf("open/close = %s", dump(r))
		}
		if n := ts.Gateway().ShellCount(); n != 0 {
			t.Fatalf("%d shells left open after RunspacePool.close()", n)
		}
	})

	t.Run("https", func(t *testing.T) {
		r := pypsrp(t, ts, ts.httpsURL, "wsman", "open_close")
		if !strings.HasPrefix(fmt.Sprint(r["ps_version"]), "5.1") {
			t.Fatalf("open/close over HTTPS = %s", dump(r))
		}
	})

	t.Run("cmdlet with parameter returns typed objects", func(t *testing.T) {
		r := run(t, "cmdlet")
		types := fmt.Sprint(r["types"])
		if r["count"] != 1.0 || r["display_name"] != "Alice Wong" || r["enabled"] != true || !strings.Contains(types, "Psgate.OnlineUser") || r["had_errors"] != false {
			t.Fatalf("add_cmdlet/add_parameter = %s", dump(r))
		}
	})

	t.Run("script", func(t *testing.T) {
		r := run(t, "script")
		// Select-Object -First without -Property passes the objects through.
		if r["count"] != 2.0 || r["had_errors"] != false || fmt.Sprint(r["types"]) != "[Psgate.OnlineUser Psgate.DirectoryObject System.Object]" {
			t.Fatalf("add_script(... | Select-Object -First 2) = %s", dump(r))
		}
	})

	t.Run("failing cmdlet", func(t *testing.T) {
		r := run(t, "failing")
		// A non-terminating error: the pipeline completes (pypsrp sets
		// had_errors only for Failed), the record is in the error stream.
		non := r["nonterminating"].(map[string]any)
		if non["state"] != "4" || !strings.Contains(fmt.Sprint(non["errors"]), "Cannot find an object with identity 'nobody@contoso.test'") {
			t.Errorf("non-terminating error = %s", dump(non))
		}
		// A structured command that does not exist fails the pipeline, as
		// PowerShell.Invoke() throws CommandNotFoundException.
		term := r["terminating"].(map[string]any)
		if term["had_errors"] != true || term["state"] != "5" || term["fqid"] != "CommandNotFoundException" ||
			!strings.Contains(fmt.Sprint(term["errors"]), "The term 'Get-Nope' is not recognized") {
			t.Errorf("terminating error = %s", dump(term))
		}
		// In a script, the failing statement reports and the next one runs.
		script := r["script"].(map[string]any)
		if script["state"] != "4" || script["count"] != 1.0 || !strings.Contains(fmt.Sprint(script["errors"]), "'Get-Nope' is not recognized") {
			t.Errorf("script with a failing statement = %s", dump(script))
		}
	})

	t.Run("stop", func(t *testing.T) {
		r := run(t, "stop")
		if r["state"] != "3" || r["stop_seconds"].(float64) > 5 {
			t.Fatalf("begin_invoke + stop = %s", dump(r))
		}
	})

	t.Run("two concurrent pipelines", func(t *testing.T) {
		r := run(t, "concurrent")
		if r["b_seconds"].(float64) >= 0.7 || r["a_state"] != "4" || r["b_state"] != "4" {
			t.Fatalf("concurrent pipelines = %s (the fast one must not wait for the slow one)", dump(r))
		}
	})

	t.Run("pipeline input", func(t *testing.T) {
		r := run(t, "pipeline_input")
		if r["count"] != 4.0 || fmt.Sprint(r["first"]) != "[x y]" {
			t.Fatalf("pipeline input = %s", dump(r))
		}
	})

	t.Run("disconnect and connect from a second client", func(t *testing.T) {
		r := run(t, "disconnect_connect")
		if r["found"] != true || r["count"] != 1.0 {
			t.Fatalf("disconnect/connect = %s", dump(r))
		}
	})

	t.Run("execute_ps", func(t *testing.T) {
		r := run(t, "execute_ps")
		out := fmt.Sprint(r["output"])
		if r["had_errors"] != false || !strings.Contains(out, "Erin Park") || !strings.Contains(out, "Sales") ||
			!strings.Contains(fmt.Sprint(r["errors2"]), "is not recognized") {
			t.Fatalf("Client.execute_ps = %s", dump(r))
		}
	})

	t.Run("execute_cmd (WinRS)", func(t *testing.T) {
		r := pypsrp(t, ts, ts.httpURL, "wsman", "execute_cmd")
		if r["rc"] != 0.0 || !strings.Contains(fmt.Sprint(r["stdout"]), "contoso.test") {
			t.Fatalf("Client.execute_cmd = %s", dump(r))
		}
	})

	t.Run("command metadata", func(t *testing.T) {
		r := run(t, "command_metadata")
		names := fmt.Sprint(r["names"])
		if !strings.Contains(names, "Get-CsTenant") || !strings.Contains(names, "Get-CsOnlineUser") {
			t.Fatalf("get_command_metadata = %s", dump(r))
		}
	})

	t.Run("bad password", func(t *testing.T) {
		r := run(t, "bad_password")
		if r["error"] != "AuthenticationError" {
			t.Fatalf("bad password = %s", dump(r))
		}
	})
}

// TestPypsrpManyObjects streams 10,000 objects: many fragments over many
// Receives.
func TestPypsrpManyObjects(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	tn, err := ts.Store().TenantByName(ctx, server.DemoTenant)
	if err != nil {
		t.Fatal(err)
	}
	const extra = 10000
	for i := range extra {
		upn := fmt.Sprintf("bulk%05d@contoso.test", i)
		if _, err := ts.Store().CreateUser(ctx, store.User{TenantID: tn.ID, UPN: upn, DisplayName: upn, Enabled: true}); err != nil {
			t.Fatal(err)
		}
	}
	r := pypsrp(t, ts, ts.httpURL, "powershell", "many")
	if r["count"] != float64(extra+6) || r["last"] != "bulk09999@contoso.test" || r["had_errors"] != false {
		t.Fatalf("10,000 objects = %s", dump(r))
	}
	t.Logf("pypsrp received %v objects in %vs", r["count"], r["seconds"])
}
