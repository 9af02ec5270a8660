package module

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/psgate/psgate/engine"
)

const examplePath = "../examples/widgets/widgets.json"

func TestExampleModuleLoads(t *testing.T) {
	m, err := Load(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range m.Cmdlets {
		names = append(names, c.Name)
	}
	if got, want := strings.Join(names, " "), "Get-Widget New-Widget Set-Widget Remove-Widget"; got != want {
		t.Errorf("cmdlets = %s, want %s", got, want)
	}
	get := m.Cmdlets[0]
	if get.Paging == nil || get.Paging.NextLink != "nextLink" || get.Request.Result != "items" || len(get.Request.Paths) != 2 {
		t.Errorf("Get-Widget request = %+v, paging %+v", get.Request, get.Paging)
	}
	if b := get.Backend; b.Audience != "urn:contoso:widgets" || b.Timeout.String() != "10s" || b.Retries != 2 {
		t.Errorf("backend = %+v", b)
	}
	if id := get.Parameters[0]; id.Position != 0 || !id.ValueFromPipelineByPropertyName || id.ValidatePattern == nil || !id.ValidatePattern.MatchString("W-12") {
		t.Errorf("Get-Widget -Id = %+v", id)
	}
	if m.Cmdlets[2].ShouldProcess == nil || m.Cmdlets[0].ShouldProcess != nil {
		t.Error("Set-Widget must support -WhatIf and Get-Widget not")
	}
	cat := engine.NewCatalog()
	if _, err := Register(cat, []*Module{m}, Config{Tokens: newTokenService(t).tokens}); err != nil {
		t.Fatal(err)
	}
	cmd, ok := cat.Lookup("set-widget")
	if !ok || !cmd.SupportsShouldProcess || cmd.OutputType[0] != "Contoso.Widget" {
		t.Fatalf("Set-Widget in the catalog = %+v", cmd)
	}
	if _, err := Register(cat, []*Module{m}, Config{Tokens: newTokenService(t).tokens}); err == nil || !strings.Contains(err.Error(), "widgets.json:") {
		t.Errorf("registering twice: %v, want the file and line of the taken name", err)
	}
}

// TestSchemaCoversExample checks that schema.json parses and declares
// every field the example uses, so that editors validating against it
// accept what psgate accepts.
func TestSchemaCoversExample(t *testing.T) {
	schemaText, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema any
	if err := json.Unmarshal(schemaText, &schema); err != nil {
		t.Fatalf("schema.json: %v", err)
	}
	declared := map[string]bool{}
	var walkSchema func(v any)
	walkSchema = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if props, ok := x["properties"].(map[string]any); ok {
				for k := range props {
					declared[k] = true
				}
			}
			for _, e := range x {
				walkSchema(e)
			}
		case []any:
			for _, e := range x {
				walkSchema(e)
			}
		}
	}
	walkSchema(schema)
	exampleText, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	root, err := parseTree(exampleText)
	if err != nil {
		t.Fatal(err)
	}
	// Keys of maps keyed by the operator's names are not fields.
	free := map[string]bool{"backends": true, "types": true, "query": true, "body": true, "properties": true}
	var missing []string
	var walk func(n *node, parent string)
	walk = func(n *node, parent string) {
		for i, k := range n.keys {
			if !free[parent] && !declared[k] {
				missing = append(missing, k)
			}
			walk(n.vals[i], k)
		}
		for _, e := range n.elems {
			walk(e, parent)
		}
	}
	walk(root, "")
	for _, v := range root.vals {
		if v.kind == kindObject {
			for _, vv := range v.vals {
				walk(vv, "")
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("schema.json does not declare %v", missing)
	}
}

const minimal = `{
  "name": "Test.Mod",
  "backends": {"svc": {"baseUrl": "http://127.0.0.1:9/api"}},
  "cmdlets": [
    {
      "name": "Get-Thing",
      "synopsis": "Gets things.",
      "parameters": [{"name": "Id", "type": "string"}],
      "request": {"method": "GET", "path": ["/things/{Id}", "/things"]}
    }
  ]
}`

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name       string
		old, new   string // replace old by new in minimal
		old2, new2 string // and old2 by new2
		text       string // or the whole text
		wantPrefix string // file:line:col: field
		wantMsg    string
	}{
		{name: "not JSON", text: "{\n  \"name\": \"x\",\n  oops\n}", wantPrefix: "m.json:3:", wantMsg: "invalid JSON"},
		{name: "truncated", text: "{\n  \"name\": \"x\",", wantPrefix: "m.json:2:", wantMsg: "ends in the middle"},
		{name: "duplicate key", old: `"name": "Test.Mod",`, new: `"name": "Test.Mod", "name": "Again",`, wantPrefix: "m.json:2:23", wantMsg: `"name" appears twice`},
		{name: "unknown field", old: `"synopsis": "Gets things.",`, new: `"synopsis": "Gets things.", "synopis": "x",`, wantPrefix: "m.json:7:35: cmdlets[0](Get-Thing).synopis", wantMsg: "unknown field"},
		{name: "unapproved verb", old: `"name": "Get-Thing"`, new: `"name": "Fetch-Thing"`, wantPrefix: "m.json:6:15: cmdlets[0](Fetch-Thing).name", wantMsg: "not an approved PowerShell verb"},
		{name: "verb case", old: `"name": "Get-Thing"`, new: `"name": "get-Thing"`, wantPrefix: "m.json:6:15", wantMsg: "Get-Thing"},
		{name: "bad type", old: `"type": "string"`, new: `"type": "strng"`, wantPrefix: "m.json:8:45: cmdlets[0](Get-Thing).parameters[0](Id).type", wantMsg: `unknown type "strng"`},
		{name: "missing synopsis", old: `"synopsis": "Gets things.",`, new: ``, wantPrefix: "m.json:5:5: cmdlets[0](Get-Thing).synopsis", wantMsg: "is required"},
		{name: "placeholder names nothing", old: `/things/{Id}`, new: `/things/{Ident}`, wantPrefix: "m.json:9:", wantMsg: "{Ident} names no declared parameter"},
		{name: "unused parameter", old: `"path": ["/things/{Id}", "/things"]`, new: `"path": "/things"`, wantPrefix: "m.json:5:5: cmdlets[0](Get-Thing).parameters[0](Id)", wantMsg: "never sends"},
		{name: "optional placeholder only", old: `"path": ["/things/{Id}", "/things"]`, new: `"path": "/things/{Id}"`, wantMsg: "make its parameters mandatory"},
		{name: "plain http elsewhere", old: `http://127.0.0.1:9/api`, new: `http://widgets.example/api`, wantPrefix: "m.json:3:35: backends.svc.baseUrl", wantMsg: "use https"},
		{name: "POST without WhatIf", old: `"method": "GET"`, new: `"method": "POST"`, wantMsg: "must support -WhatIf"},
		{name: "unknown backend", old: `"synopsis": "Gets things.",`, new: `"synopsis": "Gets things.", "backend": "nope",`, wantMsg: `no backend "nope"`},
		{name: "range on string", old: `"type": "string"`, new: `"type": "string", "validateRange": {"min": 1, "max": 2}`, wantMsg: "needs an int, long or double"},
		{name: "bad pattern", old: `"type": "string"`, new: `"type": "string", "validatePattern": "(["`, wantMsg: "is not a regular expression"},
		{name: "common parameter", old: `{"name": "Id", "type": "string"}`, new: `{"name": "Verbose", "type": "string"}`, old2: `{Id}`, new2: `{Verbose}`, wantMsg: "already used by common parameter Verbose"},
		{name: "paging without result", old: `"path": ["/things/{Id}", "/things"]}`, new: `"path": ["/things/{Id}", "/things"]}, "paging": {"nextLink": "next"}`, wantMsg: "set request.result"},
		{name: "wrong kind", text: strings.Replace(minimal, `"type": "string"}`, `"type": "string", "mandatory": "yes"}`, 1), wantMsg: "must be true or false, not a string"},
		{name: "gateway audience", old: `"baseUrl": "http://127.0.0.1:9/api"`, new: `"baseUrl": "http://127.0.0.1:9/api", "audience": "urn:psgate:gateway"`, wantMsg: "psgate's own"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := tt.text
			if text == "" {
				if !strings.Contains(minimal, tt.old) {
					t.Fatalf("minimal has no %q", tt.old)
				}
				text = strings.Replace(minimal, tt.old, tt.new, 1)
				if tt.old2 != "" {
					text = strings.Replace(text, tt.old2, tt.new2, 1)
				}
			}
			_, err := Parse("m.json", []byte(text))
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("Parse = %v, want an *Error", err)
			}
			for _, p := range me.Problems {
				s := p.String()
				if strings.HasPrefix(s, tt.wantPrefix) && strings.Contains(s, tt.wantMsg) {
					return
				}
			}
			t.Errorf("problems:\n%v\nwant one starting %q containing %q", me, problemsText(me), tt.wantPrefix+" ... "+tt.wantMsg)
		})
	}
}

func problemsText(e *Error) string {
	var b strings.Builder
	for _, p := range e.Problems {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func TestParseMinimal(t *testing.T) {
	m, err := Parse("m.json", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Cmdlets[0]; c.Backend == nil || c.Backend.Name != "svc" || c.Backend.Audience != "http://127.0.0.1:9/api" {
		t.Errorf("the only backend is the default one, with its URL as the audience: %+v", c.Backend)
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a.json", minimal)
	write("notes.txt", "not a module")
	mods, err := LoadDir(dir)
	if err != nil || len(mods) != 1 {
		t.Fatalf("LoadDir = %v, %v", mods, err)
	}
	write("b.json", strings.Replace(minimal, "Test.Mod", "Other.Mod", 1))
	_, err = LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), "b.json:5:5: Get-Thing: Get-Thing is also declared by "+filepath.Join(dir, "a.json")) {
		t.Errorf("two modules declaring Get-Thing: %v", err)
	}
	write("b.json", "{")
	if _, err = LoadDir(dir); err == nil || !strings.Contains(err.Error(), "b.json:1:2") {
		t.Errorf("a broken module: %v", err)
	}
}

func TestLoadTLSFiles(t *testing.T) {
	dir := t.TempDir()
	text := strings.Replace(minimal, `"baseUrl": "http://127.0.0.1:9/api"`, `"baseUrl": "https://svc.example/api", "caFile": "ca.pem"`, 1)
	file := filepath.Join(dir, "m.json")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(file)
	if err == nil || !strings.Contains(err.Error(), "m.json:3:16: backends.svc: cannot read the CA file") {
		t.Errorf("missing CA file: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(file); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("bad CA file: %v", err)
	}
}
