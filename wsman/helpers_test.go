package wsman

import (
	"encoding/binary"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// Ids used by the synthetic PSRP payloads in testdata/requests (see the
// comment at the top of each fixture).
const (
	testRPID = "D5D3A3B1-0C6E-4F0A-9E5B-3C1D2A4B6E8F"
	testPID  = "A0B1C2D3-E4F5-4A6B-8C7D-9E0F1A2B3C4D"
	zeroGUID = "00000000-0000-0000-0000-000000000000"
)

// The CLIXML of the synthetic messages.
const (
	testCapabilityXML = `<Obj RefId="0"><MS><Version N="protocolversion">2.3</Version><Version N="PSVersion">2.0</Version><Version N="SerializationVersion">1.1.0.1</Version></MS></Obj>`
	testInitPoolXML   = `<Obj RefId="0"><MS><I32 N="MinRunspaces">1</I32><I32 N="MaxRunspaces">1</I32><Nil N="ApplicationArguments" /></MS></Obj>`
)

// psrpFragment builds one complete PSRP fragment ([MS-PSRP] §2.2.4)
// holding one message (§2.2.1) for the server, to state what Decode must
// return for the fixtures' base64 payloads.
func psrpFragment(t *testing.T, objectID uint64, msgType uint32, rpid, pid, data string) []byte {
	t.Helper()
	msg := binary.LittleEndian.AppendUint32(nil, 2)
	msg = binary.LittleEndian.AppendUint32(msg, msgType)
	msg = append(msg, guidLE(t, rpid)...)
	msg = append(msg, guidLE(t, pid)...)
	msg = append(msg, data...)
	f := binary.BigEndian.AppendUint64(nil, objectID)
	f = binary.BigEndian.AppendUint64(f, 0)
	f = append(f, 0x03)
	f = binary.BigEndian.AppendUint32(f, uint32(len(msg)))
	return append(f, msg...)
}

// guidLE returns a GUID in .NET byte order.
func guidLE(t *testing.T, g string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(g, "-", ""))
	if err != nil || len(b) != 16 {
		t.Fatalf("bad guid %q", g)
	}
	b[0], b[1], b[2], b[3] = b[3], b[2], b[1], b[0]
	b[4], b[5] = b[5], b[4]
	b[6], b[7] = b[7], b[6]
	return b
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func intPtr(v int) *int { return &v }
