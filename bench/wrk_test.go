package main

import (
	"errors"
	"os"
	"testing"
	"time"
)

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The testdata files are real wrk 4.1.0 output captured against nginx.
func TestParseWrk(t *testing.T) {
	tests := []struct {
		file string
		want WrkResult
	}{
		{"wrk_static.txt", WrkResult{
			Requests: 80363, Elapsed: 1100 * time.Millisecond, RPS: 73060.73, BytesRead: 332.39 * (1 << 20),
			LatencyAvg: 217850 * time.Nanosecond, LatencyMax: 2490 * time.Microsecond,
			Percentiles: map[string]time.Duration{"50": 199 * time.Microsecond, "75": 224 * time.Microsecond,
				"90": 271 * time.Microsecond, "99": 438 * time.Microsecond},
		}},
		{"wrk_non2xx.txt", WrkResult{
			Requests: 149116, Elapsed: 1100 * time.Millisecond, RPS: 135510.35, BytesRead: 53.19 * (1 << 20),
			LatencyAvg: 76390 * time.Nanosecond, LatencyMax: 2380 * time.Microsecond,
			Percentiles: map[string]time.Duration{"50": 56 * time.Microsecond, "75": 105 * time.Microsecond,
				"90": 109 * time.Microsecond, "99": 170 * time.Microsecond},
			Non2xx: 149116,
		}},
		{"wrk_sockerr.txt", WrkResult{
			Requests: 0, Elapsed: 1100 * time.Millisecond, RPS: 0, BytesRead: 0,
			Percentiles: map[string]time.Duration{"50": 0, "75": 0, "90": 0, "99": 0},
			Sock:        SocketErrors{Read: 22928},
		}},
		{"wrk_pipeline.txt", WrkResult{
			Requests: 79470, Elapsed: 1020 * time.Millisecond, RPS: 78211.50, BytesRead: 329.76 * (1 << 20),
			LatencyAvg: 7530 * time.Microsecond, LatencyMax: 33030 * time.Microsecond,
			Percentiles: map[string]time.Duration{"50": 6950 * time.Microsecond, "75": 10340 * time.Microsecond,
				"90": 13360 * time.Microsecond, "99": 23070 * time.Microsecond},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := parseWrk(readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			assertWrk(t, got, tt.want)
		})
	}
}

func assertWrk(t *testing.T, got, want WrkResult) {
	t.Helper()
	if got.Requests != want.Requests || got.RPS != want.RPS || got.Non2xx != want.Non2xx || got.Sock != want.Sock {
		t.Errorf("counts: got req=%d rps=%v non2xx=%d sock=%+v, want req=%d rps=%v non2xx=%d sock=%+v",
			got.Requests, got.RPS, got.Non2xx, got.Sock, want.Requests, want.RPS, want.Non2xx, want.Sock)
	}
	if !near(got.Elapsed, want.Elapsed) || !near(got.LatencyAvg, want.LatencyAvg) || !near(got.LatencyMax, want.LatencyMax) {
		t.Errorf("times: got elapsed=%v avg=%v max=%v, want %v %v %v",
			got.Elapsed, got.LatencyAvg, got.LatencyMax, want.Elapsed, want.LatencyAvg, want.LatencyMax)
	}
	if d := got.BytesRead - want.BytesRead; d > 1 || d < -1 {
		t.Errorf("bytes read = %v, want %v", got.BytesRead, want.BytesRead)
	}
	if len(got.Percentiles) != len(want.Percentiles) {
		t.Errorf("percentiles = %v, want %v", got.Percentiles, want.Percentiles)
	}
	for k, v := range want.Percentiles {
		if !near(got.Percentiles[k], v) {
			t.Errorf("p%s = %v, want %v", k, got.Percentiles[k], v)
		}
	}
	if got.Errors() != (want.Non2xx > 0 || want.Sock.Total() > 0) {
		t.Errorf("Errors() = %v", got.Errors())
	}
}

// near allows the float rounding of "217.85us" * 1000.
func near(a, b time.Duration) bool {
	d := a - b
	return d >= -1 && d <= 1
}

func TestParseWrkRefused(t *testing.T) {
	_, err := parseWrk(readTestdata(t, "wrk_refused.txt"))
	if !errors.Is(err, errNoSummary) {
		t.Fatalf("err = %v, want errNoSummary", err)
	}
}

func TestParseWrkBadInput(t *testing.T) {
	for _, in := range []string{
		"",
		"  12 requests in 1.00x, 1.00MB read",
		"  12 requests in 1.00s, 1.00QB read",
		"  Socket errors: connect 0, read x, write 0, timeout 0\n  1 requests in 1.00s, 1.00B read",
		"  Socket errors: connect 0, bogus 1\n  1 requests in 1.00s, 1.00B read",
		"  Latency Distribution\n     50%  1.00parsecs\n",
		"Requests/sec: lots\n  1 requests in 1.00s, 1.00B read",
	} {
		if _, err := parseWrk(in); err == nil {
			t.Errorf("parseWrk(%q): no error", in)
		}
	}
}

func TestParseWrkDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"199.00us": 199 * time.Microsecond, "2.49ms": 2490 * time.Microsecond,
		"1.10s": 1100 * time.Millisecond, "1.50m": 90 * time.Second, "2.00h": 2 * time.Hour,
	} {
		got, err := parseWrkDuration(in)
		if err != nil || !near(got, want) {
			t.Errorf("parseWrkDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestWrkSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		2 * time.Second: "2s", 500 * time.Millisecond: "1s", 2500 * time.Millisecond: "3s",
	} {
		if got := wrkSeconds(d); got != want {
			t.Errorf("wrkSeconds(%v) = %q, want %q", d, got, want)
		}
	}
}
