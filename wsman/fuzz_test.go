package wsman

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzDecode: Decode never panics, reports failures as *DecodeError, and a
// decoded MessageID survives the trip into a:RelatesTo byte for byte.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/requests/*.xml")
	for _, file := range files {
		f.Add(readFile(f, file))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := Decode(body, Limits{MaxEnvelopeSize: 64 << 10})
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || env != nil {
				t.Fatalf("Decode returned %v, %v", env, err)
			}
			return
		}
		if env.Action == "" && !env.Identify {
			t.Fatal("decoded an envelope without Action")
		}
		out := EncodeEmptyResponse(Header{Action: ActionDeleteResponse, MessageID: respID, RelatesTo: env.MessageID}, BodyNone)
		if err := wellFormed(out); err != nil {
			t.Fatalf("response not well-formed: %v\n%s", err, out)
		}
		if env.MessageID == "" {
			return
		}
		root := parseElem(t, out)
		if got := root.find(q(NsSOAP, "Header"), q(NsAddressing, "RelatesTo")).text; got != env.MessageID {
			t.Fatalf("RelatesTo = %q, want %q", got, env.MessageID)
		}
	})
}

// FuzzDecodeFault: DecodeFault never panics, and whatever it decodes
// survives EncodeFault/DecodeFault unchanged.
func FuzzDecodeFault(f *testing.F) {
	for _, pattern := range []string{"testdata/faults/*.xml", "testdata/golden/fault-*.xml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			f.Add(readFile(f, file))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fault, err := DecodeFault(body)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || fault != nil {
				t.Fatalf("DecodeFault returned %v, %v", fault, err)
			}
			return
		}
		enc := EncodeFault(Header{MessageID: respID}, *fault)
		again, err := DecodeFault(enc)
		if err != nil {
			t.Fatalf("re-decoding: %v\n%s", err, enc)
		}
		want := *fault
		if want.Code == "" {
			want.Code = "s:Receiver"
		}
		if diff := cmp.Diff(&want, again); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s\n%s", diff, enc)
		}
	})
}

// FuzzParseDuration: ParseDuration never panics or returns a negative
// duration, and FormatDuration output always parses back.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"PT20S", "PT60.000S", "P0DT0H0M0S", "PT30M", "60", "P1Y2M3W4DT5H6M7.89S", "PT2147483.647S"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v", s, d)
		}
		back, err := ParseDuration(FormatDuration(d))
		if err != nil || back != d.Truncate(1e6) {
			t.Fatalf("round trip of %v: %v, %v", d, back, err)
		}
	})
}
