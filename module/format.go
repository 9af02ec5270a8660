package module

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/psgate/psgate/engine"
)

// Module is a loaded, checked module file.
type Module struct {
	// File is the path the module was read from.
	File        string
	Name        string
	Description string
	Backends    map[string]*Backend
	Types       map[string]*TypeDef
	Cmdlets     []*Cmdlet
	src         []byte
}

// Backend is the operator's HTTP service that a module's cmdlets call.
type Backend struct {
	Name string
	// BaseURL is the service's root; request paths are appended to it.
	BaseURL string
	// Audience is the aud of the tokens the service receives; it defaults
	// to BaseURL.
	Audience string
	// Timeout bounds one HTTP attempt (connection, request and the whole
	// answer); zero in the file means DefaultTimeout.
	Timeout time.Duration
	// Retries is how many times an idempotent call (GET, HEAD, PUT,
	// DELETE) is repeated after a connection failure, 429, 502, 503 or
	// 504; POST and PATCH are never repeated.
	Retries int
	// CAFile, ClientCert and ClientKey are PEM files, relative to the
	// module file.
	CAFile, ClientCert, ClientKey string

	tls *tls.Config // nil: the system roots, no client certificate
	off int         // where the backend is declared
}

// Defaults and bounds of a backend.
const (
	DefaultTimeout = 30 * time.Second
	MaxTimeout     = 5 * time.Minute
	DefaultRetries = 2
	MaxRetries     = 5
)

// TypeDef describes the objects of one output type.
type TypeDef struct {
	Name string
	// DisplayProperties is the default display property set: what
	// Format-Table and Format-List show when no property is chosen.
	DisplayProperties []string
	// Properties converts named JSON fields to a type (datetime, int...);
	// other fields keep the JSON type (string, number, boolean, object,
	// array).
	Properties map[string]PropType
	// ToString names the property whose text is the object's ToString.
	ToString string
}

// PropType is a declared output property type.
type PropType string

// Output property types.
const (
	PropString   PropType = "string"
	PropInt      PropType = "int"
	PropLong     PropType = "long"
	PropDouble   PropType = "double"
	PropBool     PropType = "bool"
	PropDateTime PropType = "datetime"
	PropGUID     PropType = "guid"
)

// Cmdlet is one declared cmdlet.
type Cmdlet struct {
	Name        string
	Synopsis    string
	Description string
	Examples    []engine.Example
	Backend     *Backend
	OutputType  string
	Parameters  []*Param
	Request     Request
	// Paging is nil when the service answers in one page.
	Paging *Paging
	// ShouldProcess is set for state-changing cmdlets: they get -WhatIf
	// and -Confirm, and -WhatIf makes no call.
	ShouldProcess *ShouldProcess

	off int // where the cmdlet is declared, for errors found later
}

// Param is one declared parameter.
type Param struct {
	Name                            string
	Type                            engine.Type
	Aliases                         []string
	Mandatory                       bool
	Position                        int
	ValueFromPipeline               bool
	ValueFromPipelineByPropertyName bool
	ValidateSet                     []string
	ValidateRange                   *engine.Range
	// ValidatePattern is matched case-insensitively, as PowerShell's
	// [ValidatePattern()] does.
	ValidatePattern *regexp.Regexp
	Sensitive       bool
	Help            string
}

// Request is the HTTP call a cmdlet makes.
type Request struct {
	Method string
	// Paths are alternative path templates such as /widgets/{Id}: the
	// first whose placeholders are all bound is used.
	Paths []Template
	// Query and Body send bound parameters: wire name → parameter.
	Query []Binding
	Body  []Binding
	// Result is the (dotted) field of the answer that holds the results;
	// empty means the whole answer (an array yields its elements).
	Result string
}

// Binding sends one parameter under a wire name.
type Binding struct {
	Wire, Param string
}

// Paging follows a service's pages: either a next link (a URL, absolute
// or relative to the base URL, on the backend's own origin) or a
// continuation token sent back as a query parameter.
type Paging struct {
	NextLink   string // dotted field holding the next page's URL
	Token      string // dotted field holding the continuation token
	TokenQuery string // the query parameter the token goes back in
}

// ShouldProcess is the -WhatIf text: "Performing the operation <Action>
// on target <Target>".
type ShouldProcess struct {
	Action string
	Target Template
}

// Template is a text with {Parameter} placeholders.
type Template struct {
	Text   string
	Params []string // the placeholders, in order
}

// parseTemplate splits a template into its placeholders.
func parseTemplate(s string) (Template, error) {
	t := Template{Text: s}
	rest := s
	for {
		i := strings.IndexAny(rest, "{}")
		if i < 0 {
			return t, nil
		}
		if rest[i] == '}' {
			return t, fmt.Errorf("a '}' without its '{'")
		}
		j := strings.IndexAny(rest[i+1:], "{}")
		if j < 0 || rest[i+1+j] == '{' {
			return t, fmt.Errorf("a '{' without its '}'")
		}
		name := rest[i+1 : i+1+j]
		if name == "" {
			return t, fmt.Errorf("an empty placeholder {}")
		}
		t.Params = append(t.Params, name)
		rest = rest[i+1+j+1:]
	}
}

// expand fills the placeholders with value(name).
func (t Template) expand(value func(string) string) string {
	var b strings.Builder
	rest := t.Text
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(rest)
			return b.String()
		}
		j := strings.IndexByte(rest[i:], '}')
		b.WriteString(rest[:i])
		b.WriteString(value(rest[i+1 : i+j]))
		rest = rest[i+j+1:]
	}
}

// approvedVerbs are PowerShell's approved verbs (Get-Verb).
var approvedVerbs = func() map[string]string {
	m := map[string]string{}
	for _, v := range strings.Fields(`Add Clear Close Copy Enter Exit Find Format Get Hide Join Lock Move New
		Open Optimize Pop Push Redo Remove Rename Reset Resize Search Select Set Show Skip Split Step
		Switch Undo Unlock Watch Backup Checkpoint Compare Compress Convert ConvertFrom ConvertTo
		Dismount Edit Expand Export Group Import Initialize Limit Merge Mount Out Publish Restore Save
		Sync Unpublish Update Approve Assert Build Complete Confirm Deny Deploy Disable Enable Install
		Invoke Register Request Restart Resume Start Stop Submit Suspend Uninstall Unregister Wait
		Debug Measure Ping Repair Resolve Test Trace Connect Disconnect Read Receive Send Write Block
		Grant Protect Revoke Unblock Unprotect Use`) {
		m[strings.ToLower(v)] = v
	}
	return m
}()

var paramTypes = map[string]engine.Type{
	"string":   engine.TypeString,
	"string[]": engine.TypeStringArray,
	"int":      engine.TypeInt,
	"long":     engine.TypeLong,
	"double":   engine.TypeDouble,
	"bool":     engine.TypeBool,
	"switch":   engine.TypeSwitch,
	"datetime": engine.TypeDateTime,
}

// loadTLS builds the backend's TLS configuration from its files.
func (b *Backend) loadTLS(read func(string) ([]byte, error)) error {
	if b.CAFile == "" && b.ClientCert == "" {
		return nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if b.CAFile != "" {
		pem, err := read(b.CAFile)
		if err != nil {
			return fmt.Errorf("cannot read the CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("the CA file %s holds no PEM certificate", b.CAFile)
		}
		cfg.RootCAs = pool
	}
	if b.ClientCert != "" {
		certPEM, err := read(b.ClientCert)
		if err != nil {
			return fmt.Errorf("cannot read the client certificate: %w", err)
		}
		keyPEM, err := read(b.ClientKey)
		if err != nil {
			return fmt.Errorf("cannot read the client key: %w", err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return fmt.Errorf("the client certificate and key do not make a pair: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	b.tls = cfg
	return nil
}
