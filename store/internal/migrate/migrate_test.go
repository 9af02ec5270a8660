package migrate

import (
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []Migration
		wantErr bool
	}{
		{
			name: "ordered by version",
			files: fstest.MapFS{
				"m/0002_more.sql": {Data: []byte("B")},
				"m/0001_init.sql": {Data: []byte("A")},
				"m/README":        {Data: []byte("ignored")},
			},
			want: []Migration{{1, "init", "A"}, {2, "more", "B"}},
		},
		{name: "gap", files: fstest.MapFS{"m/0001_a.sql": {}, "m/0003_c.sql": {}}, wantErr: true},
		{name: "no name", files: fstest.MapFS{"m/0001.sql": {}}, wantErr: true},
		{name: "bad number", files: fstest.MapFS{"m/x_a.sql": {}}, wantErr: true},
		{name: "zero", files: fstest.MapFS{"m/0000_a.sql": {}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(tt.files, "m")
			if (err != nil) != tt.wantErr {
				t.Fatalf("Load() error = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" && !tt.wantErr {
				t.Errorf("Load() (-got +want):\n%s", diff)
			}
		})
	}
}

// FuzzParseName checks that any file name either parses to a positive
// version with a name or is refused, never panics.
func FuzzParseName(f *testing.F) {
	f.Add("0001_init.sql")
	f.Fuzz(func(t *testing.T, file string) {
		m, err := parseName(file)
		if err == nil && (m.Version < 1 || m.Name == "") {
			t.Errorf("parseName(%q) = %+v, want a positive version and a name", file, m)
		}
	})
}
