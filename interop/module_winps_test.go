package interop

import (
	"strings"
	"testing"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/server"
)

// TestModuleErrorsWindowsShaped runs Get-Widget through the PSRP messages
// Windows PowerShell's Invoke-Command sends, and checks each HTTP error
// class as that client decodes it: the record's category, error id and
// psgate code; written records complete the pipeline, the others fail it.
func TestModuleErrorsWindowsShaped(t *testing.T) {
	rig := startModuleRig(t, 50)
	c := newWinPSClient(t, winURL(rig.ts.httpURL, ""), server.DemoAdmin, adminPassword)
	c.open("WinRM2")
	defer c.delete()
	tests := []struct {
		id       string
		code     psgate.Code
		category psrp.ErrorCategory
		fqid     string
		failed   bool
	}{
		{"w-404", psgate.CodeBackendNotFound, psrp.CategoryObjectNotFound, "ObjectNotFound,Get-Widget", false},
		{"w-403", psgate.CodeBackendDenied, psrp.CategoryPermissionDenied, "PermissionDenied,Get-Widget", false},
		{"w-409", psgate.CodeBackendConflict, psrp.ErrorCategory(20) /* ResourceExists */, "ResourceExists,Get-Widget", false},
		{"w-422", psgate.CodeBackendInvalid, psrp.CategoryInvalidArgument, "InvalidArgument,Get-Widget", false},
		{"w-429", psgate.CodeBackendBusy, psrp.CategoryLimitsExceeded, "BackendBusy,Get-Widget", true},
		{"w-503", psgate.CodeBackendBusy, psrp.CategoryLimitsExceeded, "BackendBusy,Get-Widget", true},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			r := c.invoke(createPipeline(true, 15, []winCmd{{cmd: "Get-Widget", args: []winArg{{"Id", str(tt.id)}}}}))
			var rec *psrp.ErrorRecord
			if tt.failed {
				if r.state != psrp.PipelineFailed {
					t.Fatalf("state %v, want Failed", r.state)
				}
				o, ok := prop(r.stateObj, "ExceptionAsErrorRecord").(*psobject.Object)
				if !ok {
					t.Fatalf("the Failed state has no error record: %v", r.stateObj)
				}
				rec = psrp.ErrorRecordOf(o)
			} else {
				if r.state != psrp.PipelineCompleted {
					t.Fatalf("state %v, want Completed: the error is written, not thrown", r.state)
				}
				recs := r.of(psrp.MsgErrorRecord)
				if len(recs) != 1 {
					t.Fatalf("%d ERROR_RECORD messages, want 1", len(recs))
				}
				var err error
				if rec, err = psrp.ParseErrorRecord(recs[0].Data, clixml.Limits{}); err != nil {
					t.Fatal(err)
				}
			}
			if rec.Code != string(tt.code) || rec.Category != tt.category || rec.FullyQualifiedErrorID != tt.fqid || !tt.failed && tt.id != "w-404" && !strings.Contains(rec.Message, "Injected") {
				t.Errorf("record %+v\nwant code %s, category %v, id %s", rec, tt.code, tt.category, tt.fqid)
			}
		})
	}
}
