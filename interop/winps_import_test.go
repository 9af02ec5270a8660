package interop

// Import-PSSession by the Windows PowerShell stand-in (see winps_test.go:
// no Windows client can run here; every rule cites the client's source).
// [IR] is [PS51] src/Microsoft.PowerShell.Commands.Utility/commands/
// utility/ImplicitRemotingCommands.cs.

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/server"
)

// isSafeNameOrIdentifier is CommandMetadata.isSafeNameOrIdentifierRegex
// ([IR] l.1147–1158).
var safeName = regexp.MustCompile(`^[-._:\\\p{Ll}\p{Lu}\p{Lt}\p{Lo}\p{Nd}\p{Lm}]{1,100}$`)

// commonParameters is Cmdlet.CommonParameters in 5.1 ([PS51]
// engine/cmdlet.cs l.52–66); IsProxyForCmdlet wants every one ([IR]
// l.1345–1359).
var commonParameters = []string{"Verbose", "Debug", "ErrorAction", "WarningAction", "InformationAction",
	"ErrorVariable", "WarningVariable", "OutVariable", "OutBuffer", "PipelineVariable", "InformationVariable"}

// localCommands stands for ExistingCommands, every command of the importing
// console ([IR] l.880–898). This is a subset of a default Windows
// PowerShell 5.1 session: its core, utility and management cmdlets and
// default functions that a remoting server might also list.
var localCommands = strings.Fields(`ForEach-Object Where-Object Get-Command Get-Help Out-Default Out-Null Out-Host
	Out-String Exit-PSSession Enter-PSSession Invoke-Command Import-PSSession Get-Module Import-Module
	Format-List Format-Table Format-Wide Format-Custom Select-Object Sort-Object Group-Object Measure-Object
	Compare-Object Tee-Object Get-Member Get-Date Start-Sleep Invoke-Expression Get-FormatData Write-Output
	Write-Host Write-Error Write-Warning Write-Verbose Write-Debug Write-Information Write-Progress
	ConvertTo-Json ConvertFrom-Json Get-Item Get-ChildItem Get-Process Get-Service Set-Location Get-Location
	prompt TabExpansion2 Clear-Host help mkdir more`)

// importSession is what Import-PSSession decides from the metadata.
type importSession struct {
	imported  []string
	shadowing []string // the warning's list: commands not imported because they exist locally
	skipped   []string // skipped by the server's declaration
	proxies   map[string]bool
}

func TestWinpsImportPSSession(t *testing.T) {
	ts := startServer(t)
	c := newWinPSClient(t, winURL(ts.httpURL, ""), server.DemoAdmin, adminPassword)
	c.open("WinRM4")

	// 1. GetRemoteCommandMetadata ([IR] l.1695–1800): Get-Command
	// -CommandType <All but Application, Script, ExternalScript> -Name *
	// -Module @() -ArgumentList $null | Select-Object …, sent as
	// GET_COMMAND_METADATA (IsGetCommandMetadataSpecialPipeline, l.1752) by
	// RemotingEncoder.GenerateGetCommandMetadata ([PS51] remoting/common/
	// WireDataFormat/EncodeAndDecode.cs l.1016–1075): Name string[]{"*"},
	// CommandType 399 (5.1 still has Workflow), Namespace @() as an empty
	// string[], FullyQualifiedModule and ArgumentList null.
	pid := newPID(t)
	c.runCommand(pid, c.message(psrp.MsgGetCommandMetadata, pid,
		getCommandMetadata([]string{"*"}, 399, "Alias, Function, Filter, Cmdlet, Workflow, Configuration", []string{})))
	r := c.receiveCommand(pid)
	c.signal(pid, signalTerminate).mustOK(t, "Signal terminate")
	r.completed(t, "GET_COMMAND_METADATA *")
	out := r.outputs(t)
	if len(out) < 2 {
		t.Fatalf("got %d objects, want the count and commands", len(out))
	}
	// The first object's Count is read with GetPropertyValue<int>.
	count, ok := out[0].(*psobject.Object)
	if !ok || intOf(prop(count, "Count")) != int64(len(out)-1) {
		t.Fatalf("count object %#v, want Count = %d (the objects that follow)", out[0], len(out)-1)
	}

	// The skip list: APD ImplicitRemoting.CommandsToSkip replaces the
	// default seven ([IR] CommandSkipListFromServer l.950–988).
	skip := []string{"Get-Command", "Get-FormatData", "Get-Help", "Select-Object", "Measure-Object", "Exit-PSSession", "Out-Default"}
	if v, ok := c.apdPath("ImplicitRemoting", "CommandsToSkip"); ok {
		skip = nil
		list, _ := v.([]any)
		for _, e := range list {
			skip = append(skip, fmt.Sprint(e))
		}
	}
	imp := importSession{proxies: map[string]bool{}}
	local := map[string]bool{}
	for _, n := range localCommands {
		local[strings.ToLower(n)] = true
	}
	for _, v := range out[1:] {
		o, ok := v.(*psobject.Object)
		if !ok {
			t.Fatalf("command metadata %#v is not an object", v)
		}
		name, isProxy := rehydrateCommandMetadata(t, o)
		// AddRemoteCommandMetadata ([IR] l.1440–1470): unsafe names are
		// dropped, then the server's skip list, then shadowing.
		if !safeName.MatchString(name) {
			t.Errorf("command name %q would be skipped as unsafe", name)
			continue
		}
		if containsFold(skip, name) {
			imp.skipped = append(imp.skipped, name)
			continue
		}
		// IsCommandNameAllowedForImport without -AllowClobber ([IR]
		// l.923–943): an existing name is skipped and listed in the
		// warning.
		if local[strings.ToLower(name)] {
			imp.shadowing = append(imp.shadowing, name)
			continue
		}
		imp.imported = append(imp.imported, name)
		imp.proxies[name] = isProxy
	}
	sort.Strings(imp.imported)
	var tenant []string
	for _, v := range out[1:] {
		name, _ := prop(v.(*psobject.Object), "Name").(string)
		if regexp.MustCompile(`^[A-Z][a-z]+-Cs[A-Za-z]+$`).MatchString(name) {
			tenant = append(tenant, name)
		}
	}
	sort.Strings(tenant)
	if len(tenant) == 0 {
		t.Fatal("the server lists no Verb-Cs* tenant cmdlets")
	}
	for _, n := range tenant {
		if !imp.proxies[n] {
			t.Errorf("%s: the proxy is not cmdlet-binding (IsProxyForCmdlet: a 5.1 common parameter is missing)", n)
		}
	}
	// The server's ImplicitRemoting.CommandsToSkip in
	// APPLICATION_PRIVATE_DATA (winps-client.md §2 item 2) keeps its
	// utility built-ins out: without it the client's default list lets them
	// through, every import warns that they "would shadow" local commands
	// and -AllowClobber replaces the user's own cmdlets and prompt.
	if len(imp.shadowing) > 0 {
		t.Errorf("Import-PSSession warns that %d commands would shadow local ones (is ImplicitRemoting.CommandsToSkip missing?): %v", len(imp.shadowing), imp.shadowing)
	}
	var nonTenant []string
	for _, n := range imp.imported {
		if !containsFold(tenant, n) {
			nonTenant = append(nonTenant, n)
		}
	}
	if strings.Join(imp.imported, " ") != strings.Join(tenant, " ") {
		t.Errorf("Import-PSSession imports %v\nwant only the tenant cmdlets %v\nextra: %v", imp.imported, tenant, nonTenant)
	}

	// 2 and 3. GetRemoteFormatData ([IR] l.1605–1690): BuildPowerShellForGetFormatData
	// adds -TypeName * and, for a server of 5.1 or later
	// (RemoteRunspace.ServerVersion, from APD PSVersionTable.PSVersion),
	// -PowerShellVersion $PSVersionTable.PSVersion, by AddParameter, so the
	// names have no dash. CountRemoteObjects first pipes it to
	// Measure-Object (l.1527–1575). Both run through PowerShell.Invoke:
	// RemoteStreamOptions AddInvocationInfo.
	fd := winCmd{cmd: "Get-FormatData", args: []winArg{{"TypeName", func(x *cx) string { return x.strings("V", "*") }}}}
	if v, ok := c.apdPath("PSVersionTable", "PSVersion"); ok && versionAtLeast(fmt.Sprint(v), 5, 1) {
		fd.args = append(fd.args, winArg{"PowerShellVersion", lit(`<Version N="V">` + winpsVersion + `</Version>`)})
	} else {
		t.Errorf("APD PSVersionTable.PSVersion = %v: the client would leave out -PowerShellVersion", v)
	}
	r = c.invoke(createPipelineFor(pipelineSpec{noInput: true, streamOptions: 15}, []winCmd{fd, {cmd: "Measure-Object"}}))
	r.completed(t, "Get-FormatData | Measure-Object")
	mo := r.outputs(t)
	if len(mo) != 1 {
		t.Fatalf("Measure-Object returned %d objects, want 1", len(mo))
	}
	if o, ok := mo[0].(*psobject.Object); !ok || intOf(prop(o, "Count")) < 0 {
		t.Fatalf("Measure-Object returned %#v, want an object with Count", mo[0])
	}
	r = c.invoke(createPipelineFor(pipelineSpec{noInput: true, streamOptions: 15}, []winCmd{fd}))
	r.completed(t, "Get-FormatData")
	if got, want := len(r.outputs(t)), int(intOf(prop(mo[0].(*psobject.Object), "Count"))); got != want {
		t.Errorf("Get-FormatData returned %d objects after Measure-Object counted %d", got, want)
	}

	// The imported proxies, called as the user types them.
	t.Run("Get-CsOnlineUser carol -ErrorAction Stop", func(t *testing.T) {
		r := c.invoke(remotePipeline(true, proxyPipeline(t, "Get-CsOnlineUser",
			[]winArg{{"ErrorAction", actionPreference("Stop")}}, []func(*cx) string{str("carol@contoso.test")})))
		r.completed(t, "proxy Get-CsOnlineUser")
		if got := r.outputs(t); len(got) != 1 {
			t.Fatalf("proxy returned %d objects, want 1", len(got))
		}
	})
	t.Run("Set-CsUser -Identity carol -Department Proxied -PassThru -Verbose", func(t *testing.T) {
		r := c.invoke(remotePipeline(true, proxyPipeline(t, "Set-CsUser", []winArg{
			{"Identity", str("carol@contoso.test")}, {"Department", str("Proxied")},
			{"PassThru", switchParameter(true)}, {"Verbose", switchParameter(true)}}, nil)))
		r.completed(t, "proxy Set-CsUser")
		got := r.outputs(t)
		if len(got) != 1 {
			t.Fatalf("Set-CsUser -PassThru returned %d objects, want the user", len(got))
		}
		if o, ok := got[0].(*psobject.Object); !ok || prop(o, "Department") != "Proxied" {
			t.Fatalf("Set-CsUser -PassThru returned %#v, want Department Proxied", got[0])
		}
	})
	t.Run("Get-CsOnlineUser nobody -ErrorAction Stop fails the pipeline", func(t *testing.T) {
		r := c.invoke(remotePipeline(true, proxyPipeline(t, "Get-CsOnlineUser",
			[]winArg{{"ErrorAction", actionPreference("Stop")}}, []func(*cx) string{str("nobody@contoso.test")})))
		if r.state != psrp.PipelineFailed {
			t.Fatalf("state %v, want Failed", r.state)
		}
	})
}

// rehydrateCommandMetadata is RehydrateCommandMetadata ([IR] l.1361–1401)
// with RehydrateParameterMetadata (l.1300–1340): it fails the test where
// Import-PSSession reports malformed data, and returns the name and
// whether the proxy is cmdlet-binding.
func rehydrateCommandMetadata(t *testing.T, o *psobject.Object) (string, bool) {
	t.Helper()
	name, ok := prop(o, "Name").(string)
	if !ok {
		t.Fatalf("command metadata without a Name: %v", o)
	}
	if ct := intOf(prop(o, "CommandType")); ct < 0 {
		t.Errorf("%s: CommandType %v does not convert to CommandTypes", name, prop(o, "CommandType"))
	}
	params, ok := prop(o, "Parameters").(*psobject.Dict)
	if !ok {
		t.Fatalf("%s: Parameters is %T, want a dictionary", name, prop(o, "Parameters"))
	}
	have := map[string]bool{}
	for _, en := range params.Entries {
		key := fmt.Sprint(en.Key)
		have[key] = true
		pm, ok := en.Value.(*psobject.Object)
		if !ok {
			t.Fatalf("%s -%s: metadata %T", name, key, en.Value)
		}
		for _, f := range []string{"Name", "IsDynamic", "SwitchParameter"} {
			if _, ok := pm.Get(f); !ok {
				t.Errorf("%s -%s lacks %s: Import-PSSession reports malformed data", name, key, f)
			}
		}
		// IsSafeParameterName (l.1160–1168).
		if strings.Contains(key, ":") || !safeName.MatchString(key) {
			t.Errorf("%s: parameter name %q is not safe", name, key)
		}
	}
	for _, p := range commonParameters {
		if !have[p] {
			return name, false
		}
	}
	return name, true
}

func containsFold(list []string, s string) bool {
	for _, e := range list {
		if strings.EqualFold(e, s) {
			return true
		}
	}
	return false
}
