package clixml_test

import (
	"testing"
	"time"

	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/psrp"
)

// The messages psgate's own client (package client, through psrp's
// builders) sends decode through the fast path, to the general path's
// value.
func TestFastUnmarshalPsgateClient(t *testing.T) {
	var rpid, pid psrp.GUID
	rpid[0], pid[0] = 1, 2
	msgs := []psrp.Message{psrp.NewClientSessionCapability(rpid)}
	add := func(m psrp.Message, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	add(psrp.NewInitRunspacePool(rpid, 1, 1))
	add(psrp.NewCreatePipeline(rpid, pid, psrp.CreatePipeline{
		NoInput:        true,
		ApartmentState: 2,
		PowerShell: psrp.PowerShell{Commands: []psrp.Command{
			{Cmd: "Get-CsOnlineUser", Args: []psrp.Arg{{Name: "Identity", Value: "alice@contoso.example"}, {Value: "positional"}}},
			{Cmd: "Select-Object", Args: []psrp.Arg{{Name: "First", Value: int32(1)}}},
		}},
	}))
	add(psrp.NewCreatePipeline(rpid, pid, psrp.CreatePipeline{
		ApartmentState: 2,
		PowerShell:     psrp.PowerShell{Commands: []psrp.Command{{Cmd: "Get-Date; 'a' | Out-String", IsScript: true}}},
	}))
	for _, v := range []any{
		"line\r\nwith _x escapes \U0001F600",
		int32(7),
		time.Date(2024, 5, 6, 7, 8, 9, 100, time.UTC),
		psobject.NewCustom(psobject.P("Name", "x"), psobject.P("List", []any{int32(1), "two", nil})),
		&psobject.Dict{Entries: []psobject.DictEntry{{Key: "k", Value: []byte{1, 2, 3}}}},
	} {
		add(psrp.NewPipelineInput(rpid, pid, v))
	}
	for _, m := range msgs {
		t.Run(m.Type.String(), func(t *testing.T) {
			if !clixml.CheckFastAgrees(t, m.Data, clixml.Limits{}) {
				t.Errorf("the fast path declined psgate's %s:\n%s", m.Type, m.Data)
			}
		})
	}
}
