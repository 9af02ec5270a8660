package module

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psgate/psgate/psobject"
)

// TestFromOpenAPIRunsAgainstTheService generates a module from the
// widget service's OpenAPI document and runs its cmdlets against the
// service.
func TestFromOpenAPIRunsAgainstTheService(t *testing.T) {
	doc, err := os.ReadFile("../examples/widgets/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	text, warnings, err := FromOpenAPI(doc, "Contoso")
	if err != nil {
		t.Fatalf("FromOpenAPI: %v\nwarnings: %v", err, warnings)
	}
	ts := newTokenService(t)
	be := newBackend(t, ts, "urn:contoso:widgets", 1)
	s := strings.Replace(string(text), "http://127.0.0.1:8089/api", be.url+"/api", 1)
	s = strings.Replace(s, `"baseUrl": "`+be.url+`/api"`, `"baseUrl": "`+be.url+`/api", "audience": "urn:contoso:widgets"`, 1)
	file := filepath.Join(t.TempDir(), "gen.json")
	if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := Load(file)
	if err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	var names []string
	for _, c := range m.Cmdlets {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " "); got != "Get-ContosoWidget New-ContosoWidget Update-ContosoWidget Remove-ContosoWidget" {
		t.Fatalf("cmdlets = %s\n%s", got, s)
	}
	e := newEnv(t, ts, adele, m)
	e.mustRun(`New-ContosoWidget -Name Alpha -Color Red -Size 2 -Tags a,b`)
	e.mustRun(`New-ContosoWidget -Name Beta -Color red`)
	out := e.mustRun(`Get-ContosoWidget -Color Red`)
	if len(out.out) != 2 {
		t.Fatalf("Get-ContosoWidget -Color Red wrote %d objects (two pages of one)", len(out.out))
	}
	w := out.out[0].(*psobject.Object)
	if w.TypeName() != "Contoso.Widget" || len(w.DisplayProps) == 0 {
		t.Errorf("output %v display %v", w.TypeNames, w.DisplayProps)
	}
	out = e.mustRun(`Get-ContosoWidget w-2 | Update-ContosoWidget -Size 9`)
	if len(out.out) != 1 || prop(t, out.out[0], "Size") != int32(9) {
		t.Errorf("Update-ContosoWidget wrote %v", out.out)
	}
	out = e.mustRun(`Remove-ContosoWidget w-1 -WhatIf`)
	if len(out.host) != 1 || !strings.Contains(out.host[0], `on target "w-1"`) {
		t.Errorf("-WhatIf wrote %q", out.host)
	}
	e.mustRun(`Remove-ContosoWidget w-1`)
	if _, err := e.run(`Get-ContosoWidget x-1`); err == nil || !strings.Contains(err.Error(), "pattern") {
		t.Errorf("the id's pattern is kept: %v", err)
	}
	calls := be.takeCalls()
	var deletes int
	for _, c := range calls {
		if c.Method == "DELETE" {
			deletes++
		}
	}
	if deletes != 1 {
		t.Errorf("%d DELETE calls, want 1 (none from -WhatIf)", deletes)
	}
}

func TestFromOpenAPIPetstoreShape(t *testing.T) {
	doc := `{
  "openapi": "3.0.0",
  "info": {"title": "Swagger Petstore", "version": "1.0.0"},
  "servers": [{"url": "http://petstore.example/v1"}],
  "paths": {
    "/pets": {
      "get": {"summary": "List all pets", "operationId": "listPets",
        "parameters": [{"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "format": "int32", "maximum": 100}}],
        "responses": {"200": {"description": "A paged array of pets", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pets"}}}}}},
      "post": {"summary": "Create a pet", "operationId": "createPets",
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}, "required": true},
        "responses": {"201": {"description": "Null response"}}}
    },
    "/pets/{petId}": {
      "get": {"summary": "Info for a specific pet", "operationId": "showPetById",
        "parameters": [{"name": "petId", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "Expected response", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}}}
    }
  },
  "components": {"schemas": {
    "Pet": {"type": "object", "required": ["id", "name"], "properties": {"id": {"type": "integer", "format": "int64"}, "name": {"type": "string"}, "tag": {"type": "string"}}},
    "Pets": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}
  }}
}`
	text, warnings, err := FromOpenAPI([]byte(doc), "Contoso")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse("petstore.json", text)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range m.Cmdlets {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " "); got != "Get-ContosoPet New-ContosoPet" {
		t.Errorf("cmdlets = %s\n%s", got, text)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "baseUrl") {
		t.Errorf("warnings = %q, want the plain-http server refused", warnings)
	}
	// listPets and showPetById are one cmdlet: Get-ContosoPet [[-PetId] id].
	if get := m.Cmdlets[0]; get.OutputType != "Contoso.Pet" || len(get.Request.Paths) != 2 || get.Request.Paths[0].Text != "/pets/{PetId}" {
		t.Errorf("Get-ContosoPet = %+v, outputs %q", get.Request, get.OutputType)
	}
	if _, _, err := FromOpenAPI([]byte(`{"swagger": "2.0"}`), "Contoso"); err == nil {
		t.Error("a Swagger 2.0 document was accepted")
	}
	if _, _, err := FromOpenAPI([]byte(doc), "contoso"); err == nil {
		t.Error("a lower-case prefix was accepted")
	}
}

func FuzzFromOpenAPI(f *testing.F) {
	doc, err := os.ReadFile("../examples/widgets/openapi.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(doc, "Contoso")
	f.Add([]byte(`{"openapi": "3.1.0", "paths": {"/a/{b}": {"get": {"parameters": [{"name": "b", "in": "path", "schema": {"type": ["string", "null"]}}]}}}}`), "X")
	f.Fuzz(func(t *testing.T, doc []byte, prefix string) {
		text, _, err := FromOpenAPI(doc, prefix)
		if err != nil {
			return
		}
		// What the generator returns always loads.
		if _, err := Parse("gen.json", text); err != nil {
			t.Fatalf("generated module does not load: %v", err)
		}
	})
}
