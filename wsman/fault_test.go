package wsman

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDecodeFaultRoundTrip: the connector gets back every field psgate put
// in a fault, including the catalog code and its data.
func TestDecodeFaultRoundTrip(t *testing.T) {
	tests := []Fault{
		{Code: "s:Receiver", Subcode: "w:TimedOut", WSManCode: 2150858793,
			Reason: "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "},
		{Code: "s:Sender", Subcode: "w:QuotaLimit", WSManCode: 2150859173, Machine: "gw1",
			FaultDetail: "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/QuotaLimit",
			Reason:      "[admission.user-quota-exceeded] Too many shells.", ErrorCode: "admission.user-quota-exceeded",
			Data: []KV{{Key: "limit", Value: "3"}, {Key: "current", Value: "3"}}},
		{Code: "s:Sender", Subcode: "w:AccessDenied", WSManCode: 5, Reason: `Access is denied: <&> "x"`, Data: []KV{{Key: "role", Value: "reader"}}},
		{Code: "s:Receiver", WSManCode: 4294967295, Reason: "no subcode"},
	}
	for _, want := range tests {
		t.Run(want.Reason, func(t *testing.T) {
			got, err := DecodeFault(EncodeFault(Header{MessageID: respID, RelatesTo: reqID}, want))
			if err != nil {
				t.Fatalf("DecodeFault: %v", err)
			}
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeFaultFromWinRM(t *testing.T) {
	tests := []struct {
		file string
		want Fault
	}{
		{"winrm-timeout.xml", Fault{Code: "s:Receiver", Subcode: "w:TimedOut", WSManCode: 2150858793, Machine: "192.168.56.11",
			Reason: "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "}},
		{"winrm-invalid-selectors-provider.xml", Fault{Code: "s:Sender", Subcode: "w:InvalidSelectors", WSManCode: 2150858843, Machine: "127.0.0.1",
			FaultDetail: "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors",
			Reason:      "The WS-Management service cannot process the request because the request contained invalid selectors for the resource. "}},
		{"winrm-invalid-parameter-provider.xml", Fault{Code: "s:Sender", Subcode: "w:InvalidParameter", WSManCode: 87, Machine: "127.0.0.1",
			FaultDetail: "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidValue", Reason: "The parameter is incorrect. "}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := DecodeFault(readFile(t, "testdata/faults/"+tt.file))
			if err != nil {
				t.Fatalf("DecodeFault: %v", err)
			}
			if diff := cmp.Diff(&tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeFaultFallsBackToMessage(t *testing.T) {
	body := `<s:Envelope xmlns:s="` + NsSOAP + `"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value></s:Code><s:Detail>` +
		`<f:WSManFault xmlns:f="` + NsWSManFault + `" Code="0x803381A5" Machine="m"><f:Message><f:ProviderFault provider="p">quota <b>hit</b></f:ProviderFault></f:Message></f:WSManFault>` +
		`</s:Detail></s:Fault></s:Body></s:Envelope>`
	got, err := DecodeFault([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := &Fault{Code: "s:Sender", WSManCode: 0x803381A5, Machine: "m", Reason: "quota hit"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDecodeFaultErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
	}{
		{"not a fault", string(readFile(t, "testdata/golden/delete.xml")), ErrNoFault},
		{"not XML", "<html>502 Bad Gateway", ErrMalformed},
		{"SOAP 1.1", `<s:Envelope xmlns:s="` + NsSOAP11 + `"><s:Body><s:Fault/></s:Body></s:Envelope>`, ErrMalformed},
		{"empty", "", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := DecodeFault([]byte(tt.body))
			if f != nil || !errors.Is(err, tt.want) {
				t.Errorf("DecodeFault = %v, %v; want error %v", f, err, tt.want)
			}
		})
	}
}

func TestParseWSManCode(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want uint32
	}{
		{"2150858793", 2150858793}, {" 87 ", 87}, {"0x80338029", 0x80338029}, {"-2144108503", 0x80338029}, {"junk", 0}, {"", 0},
	} {
		if got := parseWSManCode(tt.in); got != tt.want {
			t.Errorf("parseWSManCode(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestFaultError(t *testing.T) {
	f := &Fault{Subcode: "w:QuotaLimit", WSManCode: 2150859173, Reason: " Too many shells. ", ErrorCode: "admission.user-quota-exceeded",
		Data: []KV{{Key: "limit", Value: "3"}}}
	if got, want := f.Error(), "wsman: fault [admission.user-quota-exceeded] w:QuotaLimit (code 2150859173): Too many shells."; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if v, ok := f.Value("limit"); v != "3" || !ok {
		t.Errorf("Value(limit) = %q, %v", v, ok)
	}
	if _, ok := f.Value("nope"); ok {
		t.Error("Value(nope) found")
	}
}
