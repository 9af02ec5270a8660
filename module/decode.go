package module

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/psgate/psgate/engine"
)

// Problem is one thing wrong with a module file, where it is.
type Problem struct {
	File         string
	Line, Column int
	// Field is the JSON path of the value, e.g.
	// cmdlets[1](Set-Widget).parameters[0].type.
	Field string
	Msg   string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Line, p.Column)
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error lists every problem found in one or more module files.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	if len(e.Problems) == 0 {
		return "module: invalid module"
	}
	s := "module: " + e.Problems[0].String()
	if n := len(e.Problems) - 1; n > 0 {
		s += fmt.Sprintf(" (and %d more problem", n)
		if n > 1 {
			s += "s"
		}
		s += ")"
	}
	return s
}

// decoder walks a parsed module file and collects problems.
type decoder struct {
	file     string
	src      []byte
	problems []Problem
}

func (d *decoder) fail(off int, field, format string, args ...any) {
	line, col := position(d.src, off)
	d.problems = append(d.problems, Problem{File: d.file, Line: line, Column: col, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// object walks n's members: each known key gets its handler, an unknown
// key is a problem at the key, a missing required key one at the object.
func (d *decoder) object(n *node, path string, handlers map[string]func(*node, string), required ...string) bool {
	if n.kind != kindObject {
		d.fail(n.off, path, "must be an object, not %s", n.kind)
		return false
	}
	for i, k := range n.keys {
		h, ok := handlers[k]
		switch {
		case ok:
			h(n.vals[i], join(path, k))
		case strings.HasPrefix(k, "$comment") || (path == "" && k == "$schema"):
		default:
			known := make([]string, 0, len(handlers))
			for k := range handlers {
				known = append(known, k)
			}
			sort.Strings(known)
			d.fail(n.keyOff[i], join(path, k), "unknown field (known fields: %s)", strings.Join(known, ", "))
		}
	}
	for _, k := range required {
		if _, ok := n.member(k); !ok {
			d.fail(n.off, join(path, k), "is required")
		}
	}
	return true
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (d *decoder) str(n *node, path string) string {
	if n.kind != kindString {
		d.fail(n.off, path, "must be a string, not %s", n.kind)
		return ""
	}
	return n.text
}

// text is a non-empty string without control characters.
func (d *decoder) text(n *node, path string) string {
	s := d.str(n, path)
	if n.kind == kindString && strings.TrimSpace(s) == "" {
		d.fail(n.off, path, "must not be empty")
	}
	return s
}

func (d *decoder) boolean(n *node, path string) bool {
	if n.kind != kindBool {
		d.fail(n.off, path, "must be true or false, not %s", n.kind)
	}
	return n.b
}

func (d *decoder) integer(n *node, path string, lo, hi int64) int64 {
	if n.kind != kindNumber {
		d.fail(n.off, path, "must be a whole number, not %s", n.kind)
		return lo
	}
	v, err := strconv.ParseInt(n.text, 10, 64)
	if err != nil || v < lo || v > hi {
		d.fail(n.off, path, "must be a whole number from %d to %d, not %s", lo, hi, n.text)
		return lo
	}
	return v
}

func (d *decoder) strings(n *node, path string) []string {
	if n.kind != kindArray {
		d.fail(n.off, path, "must be an array of strings, not %s", n.kind)
		return nil
	}
	out := make([]string, 0, len(n.elems))
	for i, e := range n.elems {
		out = append(out, d.text(e, fmt.Sprintf("%s[%d]", path, i)))
	}
	return out
}

// decodeModule checks a parsed module file and builds the Module.
func (d *decoder) decodeModule(root *node) *Module {
	m := &Module{File: d.file, Backends: map[string]*Backend{}, Types: map[string]*TypeDef{}, src: d.src}
	var cmdletsNode *node
	d.object(root, "", map[string]func(*node, string){
		"name": func(n *node, p string) {
			m.Name = d.text(n, p)
			if m.Name != "" && !moduleNameRE.MatchString(m.Name) {
				d.fail(n.off, p, "%q is not a module name: use letters, digits, '.', '-' and '_', such as Contoso.Widgets", m.Name)
			}
		},
		"description": func(n *node, p string) { m.Description = d.str(n, p) },
		"version": func(n *node, p string) {
			if v := d.text(n, p); v != "" && !versionRE.MatchString(v) {
				d.fail(n.off, p, "%q is not a version such as 1.0 or 1.2.3", v)
			}
		},
		"backends": func(n *node, p string) { d.backends(n, p, m) },
		"types":    func(n *node, p string) { d.types(n, p, m) },
		"cmdlets":  func(n *node, p string) { cmdletsNode = n },
	}, "name", "backends", "cmdlets")
	if cmdletsNode != nil {
		d.cmdlets(cmdletsNode, "cmdlets", m)
	}
	return m
}

var (
	moduleNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]{0,127}$`)
	versionRE    = regexp.MustCompile(`^[0-9]+(\.[0-9]+){1,3}$`)
	backendRE    = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	typeNameRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)
	fieldRE      = regexp.MustCompile(`^[^.\s]+(\.[^.\s]+)*$`)
	wireRE       = regexp.MustCompile(`^[A-Za-z0-9_.~\-\[\]$]{1,128}$`)
)

func (d *decoder) backends(n *node, path string, m *Module) {
	if n.kind != kindObject {
		d.fail(n.off, path, "must be an object naming each backend, such as {\"widgets\": {\"baseUrl\": ...}}")
		return
	}
	if len(n.keys) == 0 {
		d.fail(n.off, path, "declares no backend")
	}
	for i, name := range n.keys {
		p := join(path, name)
		if !backendRE.MatchString(name) {
			d.fail(n.keyOff[i], p, "a backend name is lower-case letters, digits and '-', starting with a letter")
		}
		b := &Backend{Name: name, Timeout: DefaultTimeout, Retries: DefaultRetries, off: n.keyOff[i]}
		var baseOff int
		d.object(n.vals[i], p, map[string]func(*node, string){
			"baseUrl": func(v *node, fp string) {
				baseOff = v.off
				b.BaseURL = d.text(v, fp)
				if b.BaseURL != "" {
					if err := checkBaseURL(b.BaseURL); err != nil {
						d.fail(v.off, fp, "%v", err)
					}
				}
				b.BaseURL = strings.TrimRight(b.BaseURL, "/")
			},
			"audience": func(v *node, fp string) { b.Audience = d.text(v, fp) },
			"timeout": func(v *node, fp string) {
				s := d.text(v, fp)
				if s == "" {
					return
				}
				t, err := time.ParseDuration(s)
				if err != nil || t <= 0 || t > MaxTimeout {
					d.fail(v.off, fp, "%q is not a duration from 1ms to %v, such as \"10s\"", s, MaxTimeout)
					return
				}
				b.Timeout = t
			},
			"retries":           func(v *node, fp string) { b.Retries = int(d.integer(v, fp, 0, MaxRetries)) },
			"caFile":            func(v *node, fp string) { b.CAFile = d.text(v, fp) },
			"clientCertificate": func(v *node, fp string) { b.ClientCert = d.text(v, fp) },
			"clientKey":         func(v *node, fp string) { b.ClientKey = d.text(v, fp) },
		}, "baseUrl")
		if (b.ClientCert == "") != (b.ClientKey == "") {
			d.fail(n.vals[i].off, p, "clientCertificate and clientKey go together: give both or neither")
		}
		if b.Audience == "" {
			b.Audience = b.BaseURL
		}
		if strings.EqualFold(b.Audience, "urn:psgate:gateway") {
			d.fail(baseOff, p+".audience", "the audience %q is psgate's own: tokens for it would open psgate to the backend", b.Audience)
		}
		m.Backends[name] = b
	}
}

// checkBaseURL accepts https URLs, and http only to loopback hosts: the
// calls carry the caller's token.
func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%q is not an absolute URL such as https://widgets.example/api", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q must have no query, fragment or user: requests add their own path and query", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
		return fmt.Errorf("%q is plain http to another host: the calls carry the caller's token, so use https (http is allowed to loopback only)", s)
	}
	return fmt.Errorf("%q must be an http(s) URL", s)
}

func (d *decoder) types(n *node, path string, m *Module) {
	if n.kind != kindObject {
		d.fail(n.off, path, "must be an object naming each output type, such as {\"Contoso.Widget\": {...}}")
		return
	}
	for i, name := range n.keys {
		p := join(path, name)
		if !typeNameRE.MatchString(name) {
			d.fail(n.keyOff[i], p, "%q is not a .NET-style type name such as Contoso.Widget", name)
		}
		t := &TypeDef{Name: name, Properties: map[string]PropType{}}
		d.object(n.vals[i], p, map[string]func(*node, string){
			"displayProperties": func(v *node, fp string) { t.DisplayProperties = d.strings(v, fp) },
			"toString":          func(v *node, fp string) { t.ToString = d.text(v, fp) },
			"properties": func(v *node, fp string) {
				if v.kind != kindObject {
					d.fail(v.off, fp, "must be an object mapping property names to types")
					return
				}
				for j, prop := range v.keys {
					s := d.str(v.vals[j], join(fp, prop))
					switch pt := PropType(s); pt {
					case PropString, PropInt, PropLong, PropDouble, PropBool, PropDateTime, PropGUID:
						t.Properties[prop] = pt
					default:
						d.fail(v.vals[j].off, join(fp, prop), "unknown property type %q (known: string, int, long, double, bool, datetime, guid)", s)
					}
				}
			},
		})
		m.Types[name] = t
	}
}

func (d *decoder) cmdlets(n *node, path string, m *Module) {
	if n.kind != kindArray {
		d.fail(n.off, path, "must be an array of cmdlets")
		return
	}
	if len(n.elems) == 0 {
		d.fail(n.off, path, "declares no cmdlet")
	}
	names := map[string]bool{}
	for i, e := range n.elems {
		c := d.cmdlet(e, fmt.Sprintf("%s[%d]", path, i), m)
		if c == nil {
			continue
		}
		key := strings.ToLower(c.Name)
		if c.Name != "" && names[key] {
			d.fail(e.off, fmt.Sprintf("%s[%d].name", path, i), "%s is declared twice", c.Name)
		}
		names[key] = true
		m.Cmdlets = append(m.Cmdlets, c)
	}
}

func (d *decoder) cmdlet(n *node, path string, m *Module) *Cmdlet {
	c := &Cmdlet{off: n.off}
	if n.kind == kindObject {
		if v, ok := n.member("name"); ok && v.kind == kindString && v.text != "" {
			path += "(" + v.text + ")"
		}
	}
	var reqNode, pagingNode, spNode *node
	var backendName string
	backendOff := n.off
	ok := d.object(n, path, map[string]func(*node, string){
		"name": func(v *node, p string) {
			c.Name = d.text(v, p)
			if c.Name != "" {
				if err := checkCmdletName(c.Name); err != nil {
					d.fail(v.off, p, "%v", err)
				}
			}
		},
		"synopsis":    func(v *node, p string) { c.Synopsis = d.text(v, p) },
		"description": func(v *node, p string) { c.Description = d.str(v, p) },
		"examples":    func(v *node, p string) { c.Examples = d.examples(v, p) },
		"backend":     func(v *node, p string) { backendName, backendOff = d.text(v, p), v.off },
		"outputType": func(v *node, p string) {
			c.OutputType = d.text(v, p)
			if c.OutputType != "" && !typeNameRE.MatchString(c.OutputType) {
				d.fail(v.off, p, "%q is not a .NET-style type name such as Contoso.Widget", c.OutputType)
			}
		},
		"parameters":    func(v *node, p string) { c.Parameters = d.params(v, p) },
		"request":       func(v *node, p string) { reqNode = v },
		"paging":        func(v *node, p string) { pagingNode = v },
		"shouldProcess": func(v *node, p string) { spNode = v },
	}, "name", "synopsis", "request")
	if !ok {
		return nil
	}
	// The backend: named, or the module's only one.
	switch {
	case backendName != "":
		if c.Backend = m.Backends[backendName]; c.Backend == nil {
			d.fail(backendOff, join(path, "backend"), "no backend %q is declared in backends", backendName)
		}
	case len(m.Backends) == 0:
		// Reported at backends.
	case len(m.Backends) == 1:
		for _, b := range m.Backends {
			c.Backend = b
		}
	default:
		d.fail(n.off, join(path, "backend"), "is required when the module declares several backends")
	}
	params := map[string]*Param{}
	for _, p := range c.Parameters {
		params[strings.ToLower(p.Name)] = p
	}
	used := map[string]bool{}
	if reqNode != nil {
		d.request(reqNode, join(path, "request"), c, params, used)
	}
	for i, p := range c.Parameters {
		if !used[strings.ToLower(p.Name)] {
			d.fail(n.off, fmt.Sprintf("%s.parameters[%d](%s)", path, i, p.Name), "the request never sends this parameter: use it in request.path, request.query or request.body")
		}
	}
	if pagingNode != nil {
		c.Paging = d.paging(pagingNode, join(path, "paging"), c)
	}
	if spNode != nil {
		c.ShouldProcess = d.shouldProcess(spNode, join(path, "shouldProcess"), c, params)
	}
	changes := c.Request.Method != "" && c.Request.Method != "GET"
	switch {
	case changes && c.ShouldProcess == nil:
		d.fail(n.off, join(path, "shouldProcess"), "is required for a %s request: a cmdlet that changes state must support -WhatIf, e.g. {\"action\": \"Set widget\", \"target\": \"{Id}\"}", c.Request.Method)
	case !changes && c.ShouldProcess != nil && c.Request.Method != "":
		d.fail(spNode.off, join(path, "shouldProcess"), "a GET request changes nothing, so it takes no -WhatIf: remove shouldProcess")
	}
	if c.Name != "" {
		// The engine's own checks (common parameter names, positions,
		// pipeline parameters...) on what Register will see.
		if err := engine.NewCatalog().Register(c.command(nil)); err != nil {
			_, msg, _ := strings.Cut(err.Error(), c.Name+": ")
			d.fail(n.off, path, "%s", msg)
		}
	}
	return c
}

// checkCmdletName accepts Verb-Noun with an approved verb.
func checkCmdletName(name string) error {
	verb, noun, ok := strings.Cut(name, "-")
	if !ok || noun == "" || !cmdletNounRE.MatchString(noun) {
		return fmt.Errorf("%q is not a Verb-Noun cmdlet name such as Get-Widget", name)
	}
	approved, ok := approvedVerbs[strings.ToLower(verb)]
	if !ok {
		return fmt.Errorf("%q is not an approved PowerShell verb (Get-Verb lists them: Get, Set, New, Remove, Add, Update, Invoke, ...)", verb)
	}
	if approved != verb {
		return fmt.Errorf("write the verb as PowerShell does: %s-%s", approved, noun)
	}
	return nil
}

var cmdletNounRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,63}$`)

func (d *decoder) examples(n *node, path string) []engine.Example {
	if n.kind != kindArray {
		d.fail(n.off, path, "must be an array of {\"code\": ..., \"remarks\": ...}")
		return nil
	}
	var out []engine.Example
	for i, e := range n.elems {
		var ex engine.Example
		d.object(e, fmt.Sprintf("%s[%d]", path, i), map[string]func(*node, string){
			"code":    func(v *node, p string) { ex.Code = d.text(v, p) },
			"remarks": func(v *node, p string) { ex.Remarks = d.str(v, p) },
		}, "code")
		out = append(out, ex)
	}
	return out
}

func (d *decoder) params(n *node, path string) []*Param {
	if n.kind != kindArray {
		d.fail(n.off, path, "must be an array of parameters")
		return nil
	}
	var out []*Param
	for i, e := range n.elems {
		p := &Param{Position: engine.NotPositional}
		pp := fmt.Sprintf("%s[%d]", path, i)
		if v, ok := e.member("name"); ok && e.kind == kindObject && v.kind == kindString {
			pp += "(" + v.text + ")"
		}
		var setNode, rangeNode, patternNode *node
		typeName := "string"
		d.object(e, pp, map[string]func(*node, string){
			"name": func(v *node, fp string) {
				p.Name = d.text(v, fp)
				if p.Name != "" && !paramNameRE.MatchString(p.Name) {
					d.fail(v.off, fp, "%q is not a parameter name: letters and digits, starting with a letter", p.Name)
				}
			},
			"type": func(v *node, fp string) {
				typeName = d.text(v, fp)
				if _, ok := paramTypes[typeName]; !ok && v.kind == kindString {
					d.fail(v.off, fp, "unknown type %q (known: string, string[], int, long, double, bool, switch, datetime)", typeName)
				}
			},
			"aliases":                         func(v *node, fp string) { p.Aliases = d.strings(v, fp) },
			"mandatory":                       func(v *node, fp string) { p.Mandatory = d.boolean(v, fp) },
			"position":                        func(v *node, fp string) { p.Position = int(d.integer(v, fp, 0, 31)) },
			"valueFromPipeline":               func(v *node, fp string) { p.ValueFromPipeline = d.boolean(v, fp) },
			"valueFromPipelineByPropertyName": func(v *node, fp string) { p.ValueFromPipelineByPropertyName = d.boolean(v, fp) },
			"validateSet":                     func(v *node, fp string) { setNode = v; p.ValidateSet = d.strings(v, fp) },
			"validateRange":                   func(v *node, fp string) { rangeNode = v },
			"validatePattern":                 func(v *node, fp string) { patternNode = v },
			"sensitive":                       func(v *node, fp string) { p.Sensitive = d.boolean(v, fp) },
			"help":                            func(v *node, fp string) { p.Help = d.str(v, fp) },
		}, "name")
		p.Type = paramTypes[typeName]
		if p.Type == 0 {
			p.Type = engine.TypeString
		}
		stringy := p.Type == engine.TypeString || p.Type == engine.TypeStringArray
		numeric := p.Type == engine.TypeInt || p.Type == engine.TypeLong || p.Type == engine.TypeDouble
		if setNode != nil && !stringy {
			d.fail(setNode.off, pp+".validateSet", "needs a string or string[] parameter, not %s", typeName)
		}
		if rangeNode != nil {
			fp := pp + ".validateRange"
			if !numeric {
				d.fail(rangeNode.off, fp, "needs an int, long or double parameter, not %s", typeName)
			}
			r := &engine.Range{Min: math.MinInt64, Max: math.MaxInt64}
			d.object(rangeNode, fp, map[string]func(*node, string){
				"min": func(v *node, f string) { r.Min = d.integer(v, f, math.MinInt64, math.MaxInt64) },
				"max": func(v *node, f string) { r.Max = d.integer(v, f, math.MinInt64, math.MaxInt64) },
			})
			if r.Min > r.Max {
				d.fail(rangeNode.off, fp, "min %d is above max %d", r.Min, r.Max)
			}
			p.ValidateRange = r
		}
		if patternNode != nil {
			fp := pp + ".validatePattern"
			if !stringy {
				d.fail(patternNode.off, fp, "needs a string or string[] parameter, not %s", typeName)
			}
			if s := d.text(patternNode, fp); s != "" {
				re, err := regexp.Compile("(?i)" + s)
				if err != nil {
					d.fail(patternNode.off, fp, "is not a regular expression (Go RE2 syntax): %v", err)
				}
				p.ValidatePattern = re
			}
		}
		if p.Type == engine.TypeSwitch && p.Mandatory {
			d.fail(e.off, pp+".mandatory", "a switch cannot be mandatory")
		}
		out = append(out, p)
	}
	return out
}

var paramNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,63}$`)

func (d *decoder) request(n *node, path string, c *Cmdlet, params map[string]*Param, used map[string]bool) {
	r := &c.Request
	d.object(n, path, map[string]func(*node, string){
		"method": func(v *node, p string) {
			r.Method = strings.ToUpper(d.text(v, p))
			switch r.Method {
			case "", "GET", "POST", "PUT", "PATCH", "DELETE":
			default:
				d.fail(v.off, p, "unknown method %q (known: GET, POST, PUT, PATCH, DELETE)", r.Method)
				r.Method = "" // nothing more to say about an unknown method
			}
		},
		"path": func(v *node, p string) {
			var list []*node
			switch v.kind {
			case kindString:
				list = []*node{v}
			case kindArray:
				list = v.elems
				if len(list) == 0 {
					d.fail(v.off, p, "lists no path")
				}
			default:
				d.fail(v.off, p, "must be a path template such as \"/widgets/{Id}\", or an array of them")
			}
			for i, e := range list {
				ep := p
				if v.kind == kindArray {
					ep = fmt.Sprintf("%s[%d]", p, i)
				}
				s := d.text(e, ep)
				if s == "" {
					continue
				}
				if !strings.HasPrefix(s, "/") || strings.ContainsAny(s, "?#") || strings.Contains(s, "..") {
					d.fail(e.off, ep, "%q must start with / and hold no query (?), fragment (#) or '..': the query comes from request.query", s)
					continue
				}
				t, err := parseTemplate(s)
				if err != nil {
					d.fail(e.off, ep, "%v", err)
					continue
				}
				for _, name := range t.Params {
					if params[strings.ToLower(name)] == nil {
						d.fail(e.off, ep, "the placeholder {%s} names no declared parameter", name)
					}
					used[strings.ToLower(name)] = true
				}
				r.Paths = append(r.Paths, t)
			}
		},
		"query":  func(v *node, p string) { r.Query = d.bindings(v, p, params, used) },
		"body":   func(v *node, p string) { r.Body = d.bindings(v, p, params, used) },
		"result": func(v *node, p string) { r.Result = d.field(v, p) },
	}, "method", "path")
	if len(r.Body) > 0 && (r.Method == "GET" || r.Method == "DELETE") {
		d.fail(n.off, join(path, "body"), "a %s request has no body: send these parameters in request.query", r.Method)
	}
	if len(r.Paths) > 0 {
		ok := false
		for _, t := range r.Paths {
			all := true
			for _, name := range t.Params {
				p := params[strings.ToLower(name)]
				if p == nil {
					ok = true // reported at the path already
				}
				if p == nil || !p.Mandatory {
					all = false
				}
			}
			ok = ok || all
		}
		if !ok {
			d.fail(n.off, join(path, "path"), "every path needs a parameter that may be left out: make its parameters mandatory, or add a path without them (\"path\": [\"/widgets/{Id}\", \"/widgets\"])")
		}
	}
}

func (d *decoder) field(n *node, path string) string {
	s := d.text(n, path)
	if s != "" && !fieldRE.MatchString(s) {
		d.fail(n.off, path, "%q is not a field name or a dotted path such as data.items", s)
	}
	return s
}

func (d *decoder) bindings(n *node, path string, params map[string]*Param, used map[string]bool) []Binding {
	if n.kind != kindObject {
		d.fail(n.off, path, "must be an object mapping wire names to parameters, such as {\"color\": \"Color\"}")
		return nil
	}
	var out []Binding
	for i, wire := range n.keys {
		p := join(path, wire)
		if !wireRE.MatchString(wire) {
			d.fail(n.keyOff[i], p, "%q is not a usable wire name (letters, digits, _ . - ~ [ ] $)", wire)
		}
		name := d.text(n.vals[i], p)
		if name == "" {
			continue
		}
		param := params[strings.ToLower(name)]
		if param == nil {
			d.fail(n.vals[i].off, p, "%q names no declared parameter", name)
			continue
		}
		used[strings.ToLower(name)] = true
		out = append(out, Binding{Wire: wire, Param: param.Name})
	}
	return out
}

func (d *decoder) paging(n *node, path string, c *Cmdlet) *Paging {
	pg := &Paging{}
	d.object(n, path, map[string]func(*node, string){
		"nextLink":          func(v *node, p string) { pg.NextLink = d.field(v, p) },
		"continuationToken": func(v *node, p string) { pg.Token = d.field(v, p) },
		"tokenQuery": func(v *node, p string) {
			pg.TokenQuery = d.text(v, p)
			if pg.TokenQuery != "" && !wireRE.MatchString(pg.TokenQuery) {
				d.fail(v.off, p, "%q is not a usable query parameter name", pg.TokenQuery)
			}
		},
	})
	switch {
	case pg.NextLink == "" && pg.Token == "":
		d.fail(n.off, path, "needs nextLink (the field holding the next page's URL) or continuationToken (the field holding the token)")
	case pg.NextLink != "" && pg.Token != "":
		d.fail(n.off, path, "give nextLink or continuationToken, not both")
	case pg.Token != "" && pg.TokenQuery == "":
		d.fail(n.off, path+".tokenQuery", "is required with continuationToken: the query parameter that sends the token back")
	case pg.NextLink != "" && pg.TokenQuery != "":
		d.fail(n.off, path+".tokenQuery", "goes with continuationToken, not nextLink")
	}
	if c.Request.Result == "" {
		d.fail(n.off, path, "a paged answer is an object: set request.result to the field holding each page's items")
	}
	if c.Request.Method != "" && c.Request.Method != "GET" {
		d.fail(n.off, path, "only GET requests are paged")
	}
	return pg
}

func (d *decoder) shouldProcess(n *node, path string, c *Cmdlet, params map[string]*Param) *ShouldProcess {
	sp := &ShouldProcess{}
	d.object(n, path, map[string]func(*node, string){
		"action": func(v *node, p string) { sp.Action = d.text(v, p) },
		"target": func(v *node, p string) {
			s := d.text(v, p)
			t, err := parseTemplate(s)
			if err != nil {
				d.fail(v.off, p, "%v", err)
				return
			}
			for _, name := range t.Params {
				if params[strings.ToLower(name)] == nil {
					d.fail(v.off, p, "the placeholder {%s} names no declared parameter", name)
				}
			}
			sp.Target = t
		},
	})
	if sp.Action == "" {
		sp.Action = c.Name
	}
	return sp
}
