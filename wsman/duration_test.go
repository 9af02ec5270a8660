package wsman

import (
	"testing"
	"time"
)

func TestFormatDuration(t *testing.T) {
	for _, tt := range []struct {
		in   time.Duration
		want string
	}{
		{2 * time.Hour, "PT7200.000S"},
		{2147483647 * time.Millisecond, "PT2147483.647S"},
		{time.Minute, "PT60.000S"},
		{1500 * time.Millisecond, "PT1.500S"},
		{7 * time.Millisecond, "PT0.007S"},
		{999 * time.Microsecond, "PT0.000S"},
		{0, "PT0.000S"},
		{-time.Second, "PT0.000S"},
	} {
		if got := FormatDuration(tt.in); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAppendDayTime(t *testing.T) {
	for _, tt := range []struct {
		in   time.Duration
		want string
	}{
		{0, "P0DT0H0M0S"}, {9 * time.Second, "P0DT0H0M9S"}, {26*time.Hour + 3*time.Minute + 4500*time.Millisecond, "P1DT2H3M4S"}, {-time.Second, "P0DT0H0M0S"},
	} {
		if got := string(appendDayTime(nil, tt.in)); got != tt.want {
			t.Errorf("appendDayTime(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{
		{"PT20S", 20 * time.Second},
		{"PT60.000S", time.Minute},
		{"PT180.000S", 3 * time.Minute},
		{"PT1S", time.Second},
		{"PT30M", 30 * time.Minute},
		{"P0DT0H0M0S", 0},
		{"P0DT0H0M9S", 9 * time.Second},
		{"P1DT2H", 26 * time.Hour},
		{"P1W", 7 * 24 * time.Hour},
		{"P1Y2M", (365 + 60) * 24 * time.Hour},
		{"PT0.5S", 500 * time.Millisecond},
		{"PT2147483.647S", 2147483647 * time.Millisecond},
		{"PT1.0000000019S", time.Second + 1*time.Nanosecond},
		{"PT1.5M", 90 * time.Second},
		{"pt20s", 20 * time.Second},
		{" PT20S\n", 20 * time.Second},
		{"60", time.Minute},
		{"1.25", 1250 * time.Millisecond},
	} {
		got, err := ParseDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseDurationRejects(t *testing.T) {
	for _, in := range []string{
		"", "P", "PT", "P1DT", "T1S", "PTS", "PT1", "PT1X", "PT1S2S", "PT1S1M", "P1H", "PT1D", "-PT1S", "PT-1S",
		"PT1..2S", "PT.S", "abc", "1s", "P99999999999999999999Y", "PT9223372037S", "PT9223372036.9S", "P300000DT", "PT1.2.3S", "P1M1Y",
	} {
		if d, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, d)
		}
	}
}

func TestParseFormatRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{0, time.Millisecond, 2 * time.Hour, 2147483647 * time.Millisecond, 36 * time.Hour} {
		got, err := ParseDuration(FormatDuration(d))
		if err != nil || got != d {
			t.Errorf("ParseDuration(FormatDuration(%v)) = %v, %v", d, got, err)
		}
	}
}
