package format

import (
	"fmt"
	"strings"
	"testing"

	"github.com/psgate/psgate/psobject"
)

func TestStreamMatchesDefault(t *testing.T) {
	var objs []any
	for i := range 2500 {
		objs = append(objs, psobject.New([]string{"T", "System.Object"},
			psobject.P("Name", fmt.Sprintf("user%04d", i)), psobject.P("Size", int32(i))))
	}
	objs = append(objs, "a scalar", psobject.New([]string{"Other"}, psobject.P("A", "x")))
	s := NewStream(Options{})
	var got strings.Builder
	for i, o := range objs {
		s.Add(o)
		if i%100 == 0 {
			got.WriteString(s.Text())
		}
	}
	got.WriteString(s.Close())
	if want := Default(objs, Options{}); got.String() != want {
		t.Fatalf("streamed text differs from Default:\n%.600s\n...\nwant\n%.600s", got.String(), want)
	}
	if n := strings.Count(got.String(), "Name     Size"); n != 1 {
		t.Fatalf("the 2,500-row table has %d headers, want 1", n)
	}
}

func TestStreamTextIsIncremental(t *testing.T) {
	s := NewStream(Options{Newline: "\n"})
	s.Add(psobject.New([]string{"A"}, psobject.P("X", "1")))
	if txt := s.Text(); txt != "" {
		t.Fatalf("an open table was written before it ended: %q", txt)
	}
	s.Add(psobject.New([]string{"B"}, psobject.P("Y", "2")))
	if txt := s.Text(); !strings.Contains(txt, "X") || strings.Contains(txt, "Y") {
		t.Fatalf("after a type change, Text = %q; want the first table only", txt)
	}
	if txt := s.Close(); !strings.Contains(txt, "Y") {
		t.Fatalf("Close = %q; want the second table", txt)
	}
}
