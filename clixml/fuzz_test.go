package clixml

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzUnmarshal checks that Unmarshal never panics and that whatever it
// accepts can be encoded and decoded again to the same value.
func FuzzUnmarshal(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "recorded", "*.xml"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`<Obj RefId="0"><TN RefId="0"><T>X</T></TN><LST><Ref RefId="0" /></LST></Obj>`))
	f.Add([]byte(`<S>_x005F_x000A_ _xD83D__xDE00_</S>`))
	lim := Limits{MaxBytes: 1 << 20, MaxObjects: 5000, MaxDepth: 40}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Unmarshal(data, lim)
		if err != nil {
			return
		}
		e := Encoder{MaxDepth: 1000}
		if err := e.Encode(v); err != nil {
			t.Fatalf("decoded value does not encode: %v", err)
		}
		back, err := Unmarshal(e.Bytes(), Limits{MaxDepth: 1000, MaxObjects: 1 << 30})
		if err != nil {
			t.Fatalf("re-encoded value does not decode: %v\n%s", err, e.Bytes())
		}
		if diff := cmp.Diff(back, v, cmpValues); diff != "" {
			t.Fatalf("value changed on re-encoding (-got +want):\n%s", diff)
		}
	})
}
