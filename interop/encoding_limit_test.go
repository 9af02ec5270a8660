package interop

import (
	"strings"
	"testing"

	"github.com/psgate/psgate/server"
)

// A client that accepts no envelope of WS-Management's minimum size (8192
// bytes) could read no answer: the request is refused with
// wsman.encoding-limit (w:EncodingLimit), as DSP0226 asks, before any
// work is done for it.
func TestMaxEnvelopeSizeBelowMinimum(t *testing.T) {
	ts := startServer(t)
	small := strings.Replace(string(envelope("0A6A2D44-2D2A-4F07-8E5D-0A0A0A0A0E01", actCreate, "", createBody)),
		`<w:MaxEnvelopeSize s:mustUnderstand="true">153600</w:MaxEnvelopeSize>`,
		`<w:MaxEnvelopeSize s:mustUnderstand="true">4096</w:MaxEnvelopeSize>`, 1)
	status, _, body := soapPost(t, ts.httpURL, server.DemoAdmin, adminPassword, []byte(small))
	f := parseFault(t, body)
	if status != 500 || f.PGCode != "wsman.encoding-limit" || f.Subcode != "w:EncodingLimit" ||
		!strings.Contains(f.Reason, "The MaxEnvelopeSize 4096 is below the minimum of 8192 bytes") {
		t.Fatalf("MaxEnvelopeSize 4096: HTTP %d %+v, want 500 wsman.encoding-limit", status, f)
	}
	if !strings.HasSuffix(f.RelatesTo, "0A6A2D44-2D2A-4F07-8E5D-0A0A0A0A0E01") {
		t.Errorf("the fault relates to %q, not the request", f.RelatesTo)
	}
	// 8192 itself is enough.
	ok := strings.Replace(small, ">4096<", ">8192<", 1)
	if status, _, body := soapPost(t, ts.httpURL, server.DemoAdmin, adminPassword, []byte(ok)); status != 200 {
		t.Fatalf("MaxEnvelopeSize 8192: HTTP %d\n%s", status, body)
	}
}
