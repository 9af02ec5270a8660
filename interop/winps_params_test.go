package interop

import (
	"strings"
	"testing"

	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/server"
)

// TestWinpsParameterTokens sends CREATE_PIPELINE arguments the way Windows
// PowerShell writes them (winps-client.md §1.2, §1.3): ScriptBlock.
// GetPowerShell turns `-Name value` into {N:"-Name", V:Nil} then
// {N:Nil, V:value}, `-Name:value` into {N:"-Name:", V:value}, a bare switch
// into {N:"-Switch", V:Nil}; implicit-remoting proxies splat
// $PSBoundParameters as {N:"-Name:", V:value} with SwitchParameter objects
// and ActionPreference enums.
func TestWinpsParameterTokens(t *testing.T) {
	ts := startServer(t)
	c := newWinPSClient(t, winURL(ts.httpURL, ""), server.DemoAdmin, adminPassword)
	c.open("WinRM9")
	defer c.delete()

	nilV := lit(xNil("V"))
	switchParam := func(present bool) func(*cx) string {
		return func(x *cx) string {
			text := "False"
			if present {
				text = "True"
			}
			return x.obj("V", x.typeNames("System.Management.Automation.SwitchParameter", "System.ValueType", "System.Object")+
				"<ToString>"+text+"</ToString><Props>"+xB("IsPresent", present)+"</Props>")
		}
	}
	action := func(name string, v int) func(*cx) string {
		return func(x *cx) string { return x.enum("V", "System.Management.Automation.ActionPreference", name, v) }
	}
	run := func(cmd string, args ...winArg) pipeResult {
		t.Helper()
		return c.invoke(createPipeline(true, 15, []winCmd{{cmd: cmd, args: args}}))
	}
	failure := func(t *testing.T, r pipeResult) string {
		t.Helper()
		if r.state != psrp.PipelineFailed || !r.done {
			t.Fatalf("state %v, Done %v; want Failed; messages %v", r.state, r.done, r.msgs)
		}
		rec, _ := prop(r.stateObj, "ExceptionAsErrorRecord").(*psobject.Object)
		if rec == nil {
			t.Fatalf("PIPELINE_STATE Failed has no ExceptionAsErrorRecord: %v", r.stateObj)
		}
		assertErrorPackage(t, rec)
		exc, _ := prop(rec, "Exception").(*psobject.Object)
		msg, _ := prop(exc, "Message").(string)
		return msg
	}

	t.Run("-Identity then a positional value", func(t *testing.T) {
		o := oneUser(t, run("Get-CsOnlineUser", winArg{"-Identity", nilV}, winArg{"", str("carol@contoso.test")}), "icm { Get-CsOnlineUser -Identity carol }")
		if prop(o, "DisplayName") != "Carol Diaz" {
			t.Errorf("DisplayName = %v, want Carol Diaz", prop(o, "DisplayName"))
		}
	})

	t.Run("-Identity: value and -Identity: value", func(t *testing.T) {
		for _, name := range []string{"-Identity:", "-Identity: "} {
			o := oneUser(t, run("Get-CsOnlineUser", winArg{name, str("carol@contoso.test")}), name)
			if prop(o, "DisplayName") != "Carol Diaz" {
				t.Errorf("%q: DisplayName = %v, want Carol Diaz", name, prop(o, "DisplayName"))
			}
		}
	})

	t.Run("bare switch and name-only value parameters", func(t *testing.T) {
		// Set-CsUser -Identity carol -Department Winps -PassThru
		o := oneUser(t, run("Set-CsUser",
			winArg{"-Identity", nilV}, winArg{"", str("carol@contoso.test")},
			winArg{"-Department", nilV}, winArg{"", str("Winps")},
			winArg{"-PassThru", nilV}), "Set-CsUser -PassThru")
		if prop(o, "Department") != "Winps" {
			t.Errorf("Department = %v, want Winps", prop(o, "Department"))
		}
	})

	t.Run("Import-PSSession proxy splat", func(t *testing.T) {
		r := run("Set-CsUser",
			winArg{"-Identity:", str("carol@contoso.test")}, winArg{"-Department:", str("Proxied")},
			winArg{"-PassThru:", switchParam(true)},
			winArg{"-ErrorAction:", action("Stop", 1)}, winArg{"-WarningAction:", action("SilentlyContinue", 0)},
			winArg{"-InformationAction:", action("Continue", 2)}, winArg{"-ProgressAction:", action("SilentlyContinue", 0)})
		if o := oneUser(t, r, "proxy Set-CsUser"); prop(o, "Department") != "Proxied" {
			t.Errorf("Department = %v, want Proxied", prop(o, "Department"))
		}
		// A SwitchParameter that is not present: the command writes nothing.
		r = run("Set-CsUser", winArg{"-Identity:", str("carol@contoso.test")}, winArg{"-Department:", str("Quiet")},
			winArg{"-PassThru:", switchParam(false)})
		r.completed(t, "proxy Set-CsUser -PassThru:$false")
		if out := r.outputs(t); len(out) != 0 {
			t.Errorf("-PassThru:$false wrote %d objects", len(out))
		}
	})

	t.Run("-ErrorAction: Stop makes the error terminating", func(t *testing.T) {
		r := run("Get-CsOnlineUser", winArg{"-Identity:", str("nobody@contoso.test")})
		if r.state != psrp.PipelineCompleted || len(r.of(psrp.MsgErrorRecord)) != 1 {
			t.Fatalf("without -ErrorAction: state %v, %d error records; want Completed and 1", r.state, len(r.of(psrp.MsgErrorRecord)))
		}
		r = run("Get-CsOnlineUser", winArg{"-Identity:", str("nobody@contoso.test")}, winArg{"-ErrorAction:", action("Stop", 1)})
		if msg := failure(t, r); !strings.Contains(msg, "nobody@contoso.test") {
			t.Errorf("failed with %q, want the not-found error", msg)
		}
		if n := len(r.of(psrp.MsgErrorRecord)); n != 0 {
			t.Errorf("%d ERROR_RECORDs besides the failure", n)
		}
	})

	errors := []struct {
		what string
		cmd  string
		args []winArg
		msg  string
	}{
		{"name-only parameter at the end", "Get-CsOnlineUser", []winArg{{"-Identity", nilV}},
			"Missing an argument for parameter 'Identity'. Specify a parameter of type 'System.String' and try again."},
		{"unknown parameter", "Get-CsOnlineUser", []winArg{{"-Foo:", str("x")}},
			"A parameter cannot be found that matches parameter name 'Foo'."},
		{"ValidateSet", "Write-Error", []winArg{{"-Message:", str("boom")}, {"-Category", nilV}, {"", str("Sometimes")}},
			`Cannot validate argument on parameter 'Category'. The argument "Sometimes" does not belong to the set`},
	}
	for _, tt := range errors {
		t.Run(tt.what, func(t *testing.T) {
			if msg := failure(t, run(tt.cmd, tt.args...)); !strings.HasPrefix(msg, tt.msg) {
				t.Errorf("failed with %q, want %q", msg, tt.msg)
			}
		})
	}
}

// oneUser is the single user object a completed pipeline returned.
func oneUser(t *testing.T, r pipeResult, what string) *psobject.Object {
	t.Helper()
	r.completed(t, what)
	out := r.outputs(t)
	if len(out) != 1 {
		t.Fatalf("%s: %d outputs, want one user", what, len(out))
	}
	o, ok := out[0].(*psobject.Object)
	if !ok {
		t.Fatalf("%s: output %#v, want a user object", what, out[0])
	}
	return o
}
