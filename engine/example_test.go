package engine_test

import (
	"context"
	"fmt"

	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/engine/builtin"
	"github.com/psgate/psgate/psobject"
)

// textSink prints what a pipeline produces.
type textSink struct{}

func (textSink) Output(obj any)                           { fmt.Println(psobject.Format(obj)) }
func (textSink) Error(rec *engine.ErrorRecord)            { fmt.Println("error:", rec.Message()) }
func (textSink) Warning(msg string)                       { fmt.Println("warning:", msg) }
func (textSink) Verbose(msg string)                       { fmt.Println("verbose:", msg) }
func (textSink) Debug(msg string)                         { fmt.Println("debug:", msg) }
func (textSink) Information(rec engine.InformationRecord) { fmt.Println("info:", rec.MessageData) }
func (textSink) Progress(engine.ProgressRecord)           {}

// An operator adds a cmdlet of their own to the catalog: metadata for
// binding, help and Get-Command, and a Run function that writes objects.
func ExampleCatalog_Register() {
	catalog := engine.NewCatalog()
	if err := builtin.Register(catalog); err != nil {
		panic(err)
	}
	err := catalog.Register(&engine.Command{
		Name:     "Get-Greeting",
		Synopsis: "Greets someone.",
		Parameters: []engine.Parameter{
			{Name: "Name", Type: engine.TypeString, Position: 0, Mandatory: true,
				ValueFromPipeline: true, Help: "Who to greet."},
			{Name: "Language", Type: engine.TypeString, Position: engine.NotPositional,
				ValidateSet: []string{"English", "French"}, Help: "The greeting's language."},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			greeting := "Hello"
			if inv.String("Language") == "French" {
				greeting = "Bonjour"
			}
			inv.Write(greeting + ", " + inv.String("Name") + "!")
			return nil
		},
	})
	if err != nil {
		panic(err)
	}

	rs := engine.NewRunspace(engine.RunspaceConfig{Catalog: catalog, Newline: "\n"})
	ctx := context.Background()
	_ = rs.RunScript(ctx, "Get-Greeting Ada; Write-Output Bob, Eve | Get-Greeting -Lang french", nil, textSink{})
	_ = rs.RunScript(ctx, "Get-Greeting Ada -Language Klingon", nil, textSink{})
	_ = rs.RunScript(ctx, "Get-Command -Name Get-Greeting -Syntax", nil, textSink{})
	// Output:
	// Hello, Ada!
	// Bonjour, Bob!
	// Bonjour, Eve!
	// error: Cannot validate argument on parameter 'Language'. The argument "Klingon" does not belong to the set "English,French" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.
	//
	// Get-Greeting [-Name] <string> [-Language {English | French}] [<CommonParameters>]
}
