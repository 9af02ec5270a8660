package module

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// FromOpenAPI drafts a module from an OpenAPI 3 document (JSON): a cmdlet
// per operation, named with an approved verb from the operation id or the
// method and a noun from prefix and the resource, parameters from the
// path, query and JSON body, output types from the response schemas and
// paging from a next-link field. GET operations of one resource that
// differ only by a trailing {id} become one cmdlet with two paths, as
// Get-Widget and Get-Widget -Id do. The draft always loads (Parse is run
// on it); warnings say what was left out and what to edit, such as a base
// URL the document does not give. The operator reviews and edits it.
func FromOpenAPI(doc []byte, prefix string) (module []byte, warnings []string, err error) {
	if !nounPrefixRE.MatchString(prefix) {
		return nil, nil, fmt.Errorf("module: the prefix %q must be a word such as Contoso (letters and digits)", prefix)
	}
	var d oaDoc
	dec := json.NewDecoder(bytes.NewReader(doc))
	if err := dec.Decode(&d); err != nil {
		return nil, nil, fmt.Errorf("module: the OpenAPI document is not JSON (%v); convert a YAML document to JSON first", err)
	}
	if !strings.HasPrefix(d.OpenAPI, "3.") {
		return nil, nil, fmt.Errorf("module: want an OpenAPI 3 document, not %q (Swagger 2.0 documents can be converted)", d.OpenAPI)
	}
	g := &generator{doc: &d, prefix: prefix, types: map[string]*genType{}}
	out := g.run()
	text, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	text = append(text, '\n')
	if _, err := Parse("generated.json", text); err != nil {
		return nil, g.warnings, fmt.Errorf("module: the draft does not load: %w", err)
	}
	return text, g.warnings, nil
}

var nounPrefixRE = regexp.MustCompile(`^[A-Z][A-Za-z0-9]{0,31}$`)

// The subset of OpenAPI 3 the generator reads.
type oaDoc struct {
	OpenAPI string `json:"openapi"`
	Info    struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		Version     string `json:"version"`
	} `json:"info"`
	Servers    []struct{ URL string }                `json:"servers"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas    map[string]*oaSchema `json:"schemas"`
		Parameters map[string]*oaParam  `json:"parameters"`
	} `json:"components"`
}

type oaOp struct {
	OperationID string     `json:"operationId"`
	Summary     string     `json:"summary"`
	Description string     `json:"description"`
	Parameters  []*oaParam `json:"parameters"`
	RequestBody *struct {
		Required bool                   `json:"required"`
		Content  map[string]oaMediaType `json:"content"`
	} `json:"requestBody"`
	Responses map[string]struct {
		Content map[string]oaMediaType `json:"content"`
	} `json:"responses"`
}

type oaMediaType struct {
	Schema *oaSchema `json:"schema"`
}

type oaParam struct {
	Ref         string    `json:"$ref"`
	Name        string    `json:"name"`
	In          string    `json:"in"`
	Description string    `json:"description"`
	Required    bool      `json:"required"`
	Schema      *oaSchema `json:"schema"`
}

type oaSchema struct {
	Ref         string               `json:"$ref"`
	Type        any                  `json:"type"` // a string, or a list in 3.1
	Format      string               `json:"format"`
	Enum        []any                `json:"enum"`
	Minimum     *float64             `json:"minimum"`
	Maximum     *float64             `json:"maximum"`
	Pattern     string               `json:"pattern"`
	Items       *oaSchema            `json:"items"`
	Properties  map[string]*oaSchema `json:"properties"`
	Required    []string             `json:"required"`
	Description string               `json:"description"`
}

// typ returns the schema's type, the first non-null one of a 3.1 list.
func (s *oaSchema) typ() string {
	switch t := s.Type.(type) {
	case string:
		return t
	case []any:
		for _, e := range t {
			if v, ok := e.(string); ok && v != "null" {
				return v
			}
		}
	}
	if len(s.Properties) > 0 {
		return "object"
	}
	return ""
}

// The draft, in the module file's shape (field order as documented).
type genModule struct {
	Name        string                `json:"name"`
	Version     string                `json:"version,omitempty"`
	Description string                `json:"description,omitempty"`
	Backends    map[string]genBackend `json:"backends"`
	Types       map[string]*genType   `json:"types,omitempty"`
	Cmdlets     []*genCmdlet          `json:"cmdlets"`
}

type genBackend struct {
	BaseURL string `json:"baseUrl"`
}

type genType struct {
	DisplayProperties []string          `json:"displayProperties,omitempty"`
	Properties        map[string]string `json:"properties,omitempty"`
}

type genCmdlet struct {
	Name          string            `json:"name"`
	Synopsis      string            `json:"synopsis"`
	Description   string            `json:"description,omitempty"`
	OutputType    string            `json:"outputType,omitempty"`
	Parameters    []*genParam       `json:"parameters,omitempty"`
	Request       genRequest        `json:"request"`
	Paging        map[string]string `json:"paging,omitempty"`
	ShouldProcess map[string]string `json:"shouldProcess,omitempty"`

	method string
}

type genParam struct {
	Name                            string   `json:"name"`
	Type                            string   `json:"type,omitempty"`
	Mandatory                       bool     `json:"mandatory,omitempty"`
	Position                        *int     `json:"position,omitempty"`
	ValueFromPipelineByPropertyName bool     `json:"valueFromPipelineByPropertyName,omitempty"`
	ValidateSet                     []string `json:"validateSet,omitempty"`
	ValidateRange                   *struct {
		Min int64 `json:"min"`
		Max int64 `json:"max"`
	} `json:"validateRange,omitempty"`
	ValidatePattern string `json:"validatePattern,omitempty"`
	Help            string `json:"help,omitempty"`
}

type genRequest struct {
	Method string            `json:"method"`
	Path   any               `json:"path"` // a string or a list
	Query  map[string]string `json:"query,omitempty"`
	Body   map[string]string `json:"body,omitempty"`
	Result string            `json:"result,omitempty"`
}

type generator struct {
	doc      *oaDoc
	prefix   string
	types    map[string]*genType
	warnings []string
}

func (g *generator) warn(format string, args ...any) {
	g.warnings = append(g.warnings, fmt.Sprintf(format, args...))
}

var methodOrder = []string{"get", "post", "put", "patch", "delete"}

func (g *generator) run() *genModule {
	m := &genModule{Name: g.prefix + "." + pascal(firstNonEmpty(g.doc.Info.Title, "Api")), Description: g.doc.Info.Description}
	if !moduleNameRE.MatchString(m.Name) {
		m.Name = g.prefix + ".Api"
	}
	if versionRE.MatchString(g.doc.Info.Version) {
		m.Version = g.doc.Info.Version
	}
	base := ""
	if len(g.doc.Servers) > 0 {
		base = strings.TrimRight(g.doc.Servers[0].URL, "/")
	}
	if base == "" || checkBaseURL(base) != nil {
		g.warn("backends.api.baseUrl: the document gives no usable server URL (%q); set the service's https URL", base)
		base = "https://api.example.invalid"
	}
	m.Backends = map[string]genBackend{"api": {BaseURL: base}}
	byName := map[string]*genCmdlet{}
	paths := make([]string, 0, len(g.doc.Paths))
	for p := range g.doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		item := g.doc.Paths[p]
		var shared []*oaParam
		if raw, ok := item["parameters"]; ok {
			_ = json.Unmarshal(raw, &shared)
		}
		for _, method := range methodOrder {
			raw, ok := item[method]
			if !ok {
				continue
			}
			var op oaOp
			if err := json.Unmarshal(raw, &op); err != nil {
				g.warn("%s %s: skipped: %v", strings.ToUpper(method), p, err)
				continue
			}
			c := g.cmdlet(p, method, &op, shared)
			if c == nil {
				continue
			}
			if prev, ok := byName[strings.ToLower(c.Name)]; ok {
				if merged := mergePaths(prev, c); merged {
					continue
				}
				c.Name += pascal(strings.Trim(strings.ReplaceAll(p, "/", " "), " {}"))
				if _, taken := byName[strings.ToLower(c.Name)]; taken || checkCmdletName(c.Name) != nil {
					g.warn("%s %s: skipped: its cmdlet name clashes with another operation's", strings.ToUpper(method), p)
					continue
				}
			}
			byName[strings.ToLower(c.Name)] = c
			m.Cmdlets = append(m.Cmdlets, c)
		}
	}
	if len(g.types) > 0 {
		m.Types = g.types
	}
	if len(m.Cmdlets) == 0 {
		g.warn("the document has no operation psgate can serve")
	}
	return m
}

// mergePaths folds a GET of one item (/widgets/{id}) and of the list
// (/widgets) into one cmdlet; it reports whether it did.
func mergePaths(a, b *genCmdlet) bool {
	pa, okA := a.Request.Path.(string)
	pb, okB := b.Request.Path.(string)
	if !okA || !okB || a.method != "get" || b.method != "get" {
		return false
	}
	long, short, item, list := pa, pb, a, b
	if len(pb) > len(pa) {
		long, short, item, list = pb, pa, b, a
	}
	if !strings.HasPrefix(long, short+"/{") || strings.Count(long[len(short)+1:], "/") > 0 {
		return false
	}
	// The item's path parameter becomes optional; the list's query
	// parameters, result and paging join it.
	merged := *list
	merged.Request.Path = []string{long, short}
	var params []*genParam
	for _, p := range item.Parameters {
		if _, isQuery := item.Request.Query[p.Name]; !isQuery {
			q := *p
			q.Mandatory = false
			params = append(params, &q)
		}
	}
	for _, p := range list.Parameters {
		if p.Position != nil {
			p.Position = nil // the item's id takes position 0
		}
		params = append(params, p)
	}
	merged.Parameters = params
	if merged.OutputType == "" {
		merged.OutputType = item.OutputType
	}
	*a = merged
	return true
}

func (g *generator) cmdlet(path, method string, op *oaOp, shared []*oaParam) *genCmdlet {
	verb, noun := g.name(path, method, op.OperationID)
	c := &genCmdlet{
		Name:        verb + "-" + g.prefix + noun,
		Synopsis:    firstNonEmpty(oneLine(op.Summary), oneLine(op.Description), fmt.Sprintf("Calls %s %s.", strings.ToUpper(method), path)),
		Description: op.Description,
		Request:     genRequest{Method: strings.ToUpper(method), Path: path},
		method:      method,
	}
	if checkCmdletName(c.Name) != nil {
		g.warn("%s %s: skipped: no usable cmdlet name (%s)", strings.ToUpper(method), path, c.Name)
		return nil
	}
	seen := map[string]bool{}
	pos := 0
	add := func(p *genParam, wire, in string) {
		key := strings.ToLower(p.Name)
		if seen[key] || !paramNameRE.MatchString(p.Name) || isCommonParameter(p.Name) {
			g.warn("%s: the %s parameter %q is left out (name clash or unusable name)", c.Name, in, wire)
			return
		}
		seen[key] = true
		c.Parameters = append(c.Parameters, p)
		switch in {
		case "query":
			if c.Request.Query == nil {
				c.Request.Query = map[string]string{}
			}
			c.Request.Query[wire] = p.Name
		case "body":
			if c.Request.Body == nil {
				c.Request.Body = map[string]string{}
			}
			c.Request.Body[wire] = p.Name
		}
	}
	tmpl := path
	for _, op := range append(append([]*oaParam{}, shared...), op.Parameters...) {
		prm := g.param(op)
		if prm == nil || prm.In != "path" && prm.In != "query" {
			continue
		}
		p := g.genParam(prm.Name, prm.Schema, prm.Required || prm.In == "path", prm.Description, c.Name)
		if p == nil {
			continue
		}
		if prm.In == "path" {
			tmpl = strings.ReplaceAll(tmpl, "{"+prm.Name+"}", "{"+p.Name+"}")
			at := pos
			p.Position = &at
			pos++
			p.ValueFromPipelineByPropertyName = true
		}
		add(p, prm.Name, prm.In)
	}
	c.Request.Path = tmpl
	if t, err := parseTemplate(tmpl); err != nil || len(t.Params) != strings.Count(tmpl, "{") {
		g.warn("%s %s: skipped: the path template is not usable", strings.ToUpper(method), path)
		return nil
	} else {
		for _, name := range t.Params {
			if !seen[strings.ToLower(name)] {
				g.warn("%s %s: skipped: the path parameter {%s} is not declared", strings.ToUpper(method), path, name)
				return nil
			}
		}
	}
	if op.RequestBody != nil && method != "get" && method != "delete" {
		if mt, ok := op.RequestBody.Content["application/json"]; ok && mt.Schema != nil {
			s := g.resolve(mt.Schema)
			names := sortedKeys(s.Properties)
			for _, name := range names {
				mandatory := contains(s.Required, name) && method == "post"
				if p := g.genParam(name, s.Properties[name], mandatory, s.Properties[name].Description, c.Name); p != nil {
					add(p, name, "body")
				}
			}
		} else {
			g.warn("%s: the request body is not an application/json object; only its parameters are sent", c.Name)
		}
	}
	g.output(c, op)
	if method != "get" {
		target := path
		if i := strings.LastIndexByte(tmpl, '{'); i >= 0 {
			target = tmpl[i:]
		}
		c.ShouldProcess = map[string]string{"action": verb + " " + strings.ToLower(noun), "target": target}
	}
	return c
}

func isCommonParameter(name string) bool {
	switch strings.ToLower(name) {
	case "verbose", "debug", "erroraction", "warningaction", "informationaction", "progressaction", "errorvariable",
		"warningvariable", "informationvariable", "outvariable", "outbuffer", "pipelinevariable", "whatif", "confirm":
		return true
	}
	return false
}

// name derives the verb and noun of an operation.
func (g *generator) name(path, method, operationID string) (verb, noun string) {
	words := splitWords(operationID)
	if len(words) > 0 {
		if v, ok := verbFromWord(words[0]); ok {
			verb, words = v, words[1:]
		}
	}
	if verb == "" {
		verb = map[string]string{"get": "Get", "post": "New", "put": "Set", "patch": "Update", "delete": "Remove"}[method]
	}
	// Drop a trailing "By Id" and keep the resource's name.
	for i, w := range words {
		if strings.EqualFold(w, "by") && i > 0 {
			words = words[:i]
			break
		}
	}
	if len(words) == 0 {
		for _, seg := range strings.Split(path, "/") {
			if seg != "" && !strings.HasPrefix(seg, "{") {
				words = splitWords(seg)
			}
		}
	}
	for _, w := range words {
		noun += pascal(w)
	}
	return verb, singular(noun)
}

// verbFromWord maps the first word of an operation id to an approved verb.
func verbFromWord(w string) (string, bool) {
	switch strings.ToLower(w) {
	case "list", "fetch", "retrieve", "read", "query", "show":
		return "Get", true
	case "create", "insert":
		return "New", true
	case "delete", "destroy":
		return "Remove", true
	case "replace", "put":
		return "Set", true
	case "patch", "modify":
		return "Update", true
	}
	v, ok := approvedVerbs[strings.ToLower(w)]
	return v, ok
}

func (g *generator) param(p *oaParam) *oaParam {
	for i := 0; p != nil && p.Ref != "" && i < 8; i++ {
		name := strings.TrimPrefix(p.Ref, "#/components/parameters/")
		p = g.doc.Components.Parameters[name]
	}
	return p
}

func (g *generator) resolve(s *oaSchema) *oaSchema {
	for i := 0; s != nil && s.Ref != "" && i < 8; i++ {
		s = g.doc.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
	}
	if s == nil {
		return &oaSchema{}
	}
	return s
}

// genParam maps a schema to a parameter; nil for a type a parameter
// cannot take (objects, arrays of objects).
func (g *generator) genParam(wire string, schema *oaSchema, mandatory bool, help, cmdlet string) *genParam {
	p := &genParam{Name: pascal(wire), Mandatory: mandatory, Help: oneLine(help)}
	s := g.resolve(schema)
	switch s.typ() {
	case "string", "":
		if s.Format == "date-time" || s.Format == "date" {
			p.Type = "datetime"
			break
		}
		for _, e := range s.Enum {
			if v, ok := e.(string); ok && strings.TrimSpace(v) != "" {
				p.ValidateSet = append(p.ValidateSet, v)
			}
		}
		if s.Pattern != "" {
			if _, err := regexp.Compile(s.Pattern); err == nil {
				p.ValidatePattern = s.Pattern
			}
		}
	case "integer":
		p.Type = "int"
		if s.Format == "int64" {
			p.Type = "long"
		}
		if s.Minimum != nil || s.Maximum != nil {
			r := &struct {
				Min int64 `json:"min"`
				Max int64 `json:"max"`
			}{Min: -1 << 31, Max: 1<<31 - 1}
			if s.Minimum != nil {
				r.Min = int64(*s.Minimum)
			}
			if s.Maximum != nil {
				r.Max = int64(*s.Maximum)
			}
			if r.Min <= r.Max {
				p.ValidateRange = r
			}
		}
	case "number":
		p.Type = "double"
	case "boolean":
		p.Type = "bool"
	case "array":
		if it := g.resolve(s.Items); it.typ() == "string" || it.typ() == "" {
			p.Type = "string[]"
			break
		}
		g.warn("%s: the parameter %q (an array of %s) is left out: only arrays of strings are supported", cmdlet, wire, g.resolve(s.Items).typ())
		return nil
	default:
		g.warn("%s: the parameter %q (%s) is left out: only scalar values and string arrays are supported", cmdlet, wire, s.typ())
		return nil
	}
	if p.Type == "string" {
		p.Type = ""
	}
	return p
}

// output sets the cmdlet's output type, result field and paging from its
// success response.
func (g *generator) output(c *genCmdlet, op *oaOp) {
	for _, code := range []string{"200", "201", "2XX", "default"} {
		resp, ok := op.Responses[code]
		if !ok {
			continue
		}
		mt, ok := resp.Content["application/json"]
		if !ok || mt.Schema == nil {
			return
		}
		s := mt.Schema
		if r := g.resolve(s); r.typ() == "object" && c.method == "get" {
			// A page: an object with one array of items and a next link.
			for _, name := range sortedKeys(r.Properties) {
				if g.resolve(r.Properties[name]).typ() == "array" {
					c.Request.Result = name
					s = r.Properties[name]
					break
				}
			}
			if c.Request.Result != "" {
				for _, name := range []string{"nextLink", "next", "@odata.nextLink", "next_link"} {
					if _, ok := r.Properties[name]; ok {
						c.Paging = map[string]string{"nextLink": name}
					}
				}
			}
		}
		if r := g.resolve(s); r.typ() == "array" {
			s = r.Items
		}
		if s != nil && s.Ref != "" {
			name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
			c.OutputType = g.prefix + "." + pascal(name)
			if !typeNameRE.MatchString(c.OutputType) {
				c.OutputType = ""
				return
			}
			g.outputType(c.OutputType, g.resolve(s))
		}
		return
	}
}

func (g *generator) outputType(name string, s *oaSchema) {
	if _, ok := g.types[name]; ok {
		return
	}
	t := &genType{Properties: map[string]string{}}
	for _, prop := range sortedKeys(s.Properties) {
		ps := g.resolve(s.Properties[prop])
		switch ps.typ() {
		case "string":
			if ps.Format == "date-time" || ps.Format == "date" {
				t.Properties[prop] = "datetime"
			} else if ps.Format == "uuid" {
				t.Properties[prop] = "guid"
			}
		case "integer":
			if ps.Format == "int64" {
				t.Properties[prop] = "long"
			}
		}
		if (ps.typ() == "string" || ps.typ() == "integer" || ps.typ() == "number" || ps.typ() == "boolean") && len(t.DisplayProperties) < 4 {
			t.DisplayProperties = append(t.DisplayProperties, prop)
		}
	}
	if len(t.Properties) == 0 {
		t.Properties = nil
	}
	g.types[name] = t
}

// splitWords splits camelCase, snake_case and kebab-case into words.
func splitWords(s string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = nil
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && len(cur) > 0 && (unicode.IsLower(cur[len(cur)-1]) || i+1 < len(rs) && unicode.IsLower(rs[i+1])):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return words
}

// pascal turns words into PascalCase ASCII letters and digits.
func pascal(s string) string {
	var b strings.Builder
	for _, w := range splitWords(s) {
		w = strings.Map(func(r rune) rune {
			if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
				return r
			}
			return -1
		}, w)
		if w == "" {
			continue
		}
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	out := b.String()
	for out != "" && !unicode.IsLetter(rune(out[0])) {
		out = out[1:]
	}
	return out
}

// singular makes a plural noun singular, as PowerShell nouns are.
func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies") && len(s) > 3:
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(s, "sses"), strings.HasSuffix(s, "shes"), strings.HasSuffix(s, "ches"), strings.HasSuffix(s, "xes"):
		return s[:len(s)-2]
	case strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "ss") && len(s) > 1:
		return s[:len(s)-1]
	}
	return s
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
