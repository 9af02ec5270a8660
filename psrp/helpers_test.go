package psrp

import (
	"bufio"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
)

// recording holds the messages of one recorded pypsrp session against a
// real Windows Server, in order, per direction.
type recording struct {
	client, server []Message
	// blobs are the raw base64-decoded stream blobs, per direction.
	clientBlobs, serverBlobs [][]byte
}

// loadRecording reassembles testdata/recorded/<name>.txt.
func loadRecording(t testing.TB, name string) recording {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "recorded", name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rec recording
	var fromClient, fromServer Reassembler
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		dir, b64, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("%s: bad line %.40q", name, line)
		}
		blob, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		switch dir {
		case "C":
			msgs, err := fromClient.Write(blob)
			if err != nil {
				t.Fatalf("%s: client stream: %v", name, err)
			}
			rec.client = append(rec.client, msgs...)
			rec.clientBlobs = append(rec.clientBlobs, blob)
		case "S":
			msgs, err := fromServer.Write(blob)
			if err != nil {
				t.Fatalf("%s: server stream: %v", name, err)
			}
			rec.server = append(rec.server, msgs...)
			rec.serverBlobs = append(rec.serverBlobs, blob)
		default:
			t.Fatalf("%s: bad direction %q", name, dir)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if fromClient.Pending() != 0 || fromServer.Pending() != 0 {
		t.Fatalf("%s: messages left incomplete", name)
	}
	return rec
}

// ofType returns the messages of type mt.
func ofType(msgs []Message, mt MessageType) []Message {
	var out []Message
	for _, m := range msgs {
		if m.Type == mt {
			out = append(out, m)
		}
	}
	return out
}

// decode decodes a message's data for structural comparison.
func decode(t *testing.T, m Message) any {
	t.Helper()
	v, err := clixml.Unmarshal(m.Data, clixml.Limits{})
	if err != nil {
		t.Fatalf("%v: %v", m, err)
	}
	return v
}

// prop returns a property of a decoded object.
func prop(t *testing.T, v any, names ...string) any {
	t.Helper()
	for _, n := range names {
		o, ok := v.(*psobject.Object)
		if !ok {
			t.Fatalf("looking for %s in %T", n, v)
		}
		if v, ok = o.Get(n); !ok {
			t.Fatalf("no property %s", n)
		}
	}
	return v
}

func mustGUID(t testing.TB, s string) GUID {
	t.Helper()
	g, err := ParseGUID(s)
	if err != nil {
		t.Fatal(err)
	}
	return g
}
