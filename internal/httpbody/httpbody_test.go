package httpbody

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		n          int64
		limit      int
		want       string
		err        error
	}{
		{"announced", "envelope", 8, 16, "envelope", nil},
		{"not announced", "envelope", -1, 16, "envelope", nil},
		{"not announced, too long: limit+1 bytes", "envelope", -1, 4, "envel", nil},
		{"announced too long: limit+1 bytes", "envelope", 8, 4, "envel", nil},
		{"shorter than announced", "env", 8, 16, "", io.ErrUnexpectedEOF},
	} {
		got, err := Read(strings.NewReader(tt.body), tt.n, tt.limit)
		if !errors.Is(err, tt.err) || (tt.err == nil && string(got) != tt.want) {
			t.Errorf("%s: Read = %q, %v; want %q, %v", tt.name, got, err, tt.want, tt.err)
		}
	}
	if got, _ := Read(strings.NewReader("abc"), 3, 8); cap(got) != 3 {
		t.Errorf("an announced body of 3 bytes was read into a buffer of %d, want one of its size", cap(got))
	}
}
