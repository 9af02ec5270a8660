package clixml

import (
	"testing"
	"time"
)

func TestAppendDateTime(t *testing.T) {
	pdt := time.FixedZone("", -7*3600)
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2008, 4, 11, 10, 42, 32, 273199300, pdt), "2008-04-11T10:42:32.2731993-07:00"},
		{time.Date(2018, 6, 13, 23, 46, 28, 5160000, time.FixedZone("", 0)), "2018-06-13T23:46:28.00516+00:00"},
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "2026-01-02T03:04:05Z"},
		{time.Date(2026, 1, 2, 3, 4, 5, 99, time.UTC), "2026-01-02T03:04:05Z"},
		{time.Date(2026, 1, 2, 3, 4, 5, 100, time.FixedZone("", 5*3600+30*60)), "2026-01-02T03:04:05.0000001+05:30"},
	}
	for _, tt := range tests {
		got, err := appendDateTime(nil, tt.in)
		if err != nil {
			t.Fatalf("appendDateTime(%v): %v", tt.in, err)
		}
		if string(got) != tt.want {
			t.Errorf("appendDateTime(%v) = %s, want %s", tt.in, got, tt.want)
		}
		back, err := parseDateTime(string(got))
		if err != nil {
			t.Fatalf("parseDateTime(%s): %v", got, err)
		}
		if !back.Equal(tt.in.Truncate(100)) {
			t.Errorf("parseDateTime(%s) = %v, want %v", got, back, tt.in)
		}
	}
	if _, err := appendDateTime(nil, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("year 10000 accepted")
	}
}

func TestParseDateTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2018-06-13T23:46:12.1316332+00:00", time.Date(2018, 6, 13, 23, 46, 12, 131633200, time.UTC), true},
		{"2018-06-13T23:46:12Z", time.Date(2018, 6, 13, 23, 46, 12, 0, time.UTC), true},
		{"2018-06-13T23:46:12", time.Date(2018, 6, 13, 23, 46, 12, 0, time.UTC), true},
		{"2018-06-13T23:46:12.123456789123-01:00", time.Date(2018, 6, 14, 0, 46, 12, 123456789, time.UTC), true},
		{"2018-02-30T00:00:00Z", time.Time{}, false},
		{"2018-06-13T24:00:00Z", time.Time{}, false},
		{"2018-06-13 23:46:12Z", time.Time{}, false},
		{"2018-06-13T23:46:12.Z", time.Time{}, false},
		{"2018-06-13T23:46:12+0100", time.Time{}, false},
		{"2018-06-13T23:46:12+15:00", time.Time{}, false},
		{"0000-01-01T00:00:00Z", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := parseDateTime(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("parseDateTime(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && !got.Equal(tt.want) {
			t.Errorf("parseDateTime(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestDuration(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "PT0S"},
		{time.Second, "PT1S"},
		{1500 * time.Millisecond, "PT1.5S"},
		{100 * time.Nanosecond, "PT0.0000001S"},
		{99 * time.Nanosecond, "PT0S"},
		{time.Hour, "PT1H"},
		{90 * time.Minute, "PT1H30M"},
		{day, "P1D"},
		{day + 2*time.Hour + 3*time.Minute + 4500*time.Millisecond, "P1DT2H3M4.5S"},
		{-(2*day + time.Second), "-P2DT1S"},
		{9026902600 * time.Nanosecond, "PT9.0269026S"},
	}
	for _, tt := range tests {
		got := string(appendDuration(nil, tt.in))
		if got != tt.want {
			t.Errorf("appendDuration(%v) = %s, want %s", tt.in, got, tt.want)
		}
		back, err := parseDuration(got)
		if err != nil {
			t.Fatalf("parseDuration(%s): %v", got, err)
		}
		if want := tt.in.Truncate(100); back != want {
			t.Errorf("parseDuration(%s) = %v, want %v", got, back, want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"PT7200.000S", 2 * time.Hour, true},
		{"P1Y", 365 * 24 * time.Hour, true},
		{"P1M2D", 32 * 24 * time.Hour, true},
		{"PT1M", time.Minute, true},
		{"P0DT0H0M0S", 0, true},
		{"-PT0.5S", -500 * time.Millisecond, true},
		{"P", 0, false},
		{"PT", 0, false},
		{"P1H", 0, false},
		{"PT1D", 0, false},
		{"PT1S2M", 0, false},
		{"PT1.5M", 0, false},
		{"P1DT", 0, false},
		{"1D", 0, false},
		{"PT.5S", 0, false},
		{"P999999999999D", 0, false},
		{"PT9999999999999999999S", 0, false},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("parseDuration(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && got != tt.want {
			t.Errorf("parseDuration(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
