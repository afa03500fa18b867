package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// decodeSVG checks that b is well-formed XML and returns its element names
// and character data.
func decodeSVG(t *testing.T, b []byte) (elems map[string]int, text string) {
	t.Helper()
	elems = make(map[string]int)
	var sb strings.Builder
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, b)
		}
		switch v := tok.(type) {
		case xml.StartElement:
			elems[v.Name.Local]++
		case xml.CharData:
			sb.Write(v)
			sb.WriteByte('\n')
		}
	}
	return elems, sb.String()
}

func TestWriteSVG(t *testing.T) {
	rows := []chartRow{
		{Scenario: "static-4k <&>", Panels: []panel{
			{Title: "requests/s", Bars: []bar{{Series: "gale", Value: 100, Label: "100"}, {Series: "nginx", Value: 50, Label: "50"}, {Series: "caddy", NA: true}}},
			{Title: "CPU µs/req", Bars: []bar{{Series: "gale", Value: 5, Label: "5.0"}, {Series: "nginx", Value: 0, Label: "0.0"}, {Series: "caddy", NA: true}}},
		}},
	}
	var buf bytes.Buffer
	if err := writeSVG(&buf, `bench "quoted" & <tagged>`, []string{"gale", "nginx", "caddy"}, rows); err != nil {
		t.Fatal(err)
	}
	elems, text := decodeSVG(t, buf.Bytes())
	if elems["svg"] != 1 {
		t.Errorf("svg elements = %d, want 1", elems["svg"])
	}
	// background + 3 legend swatches + 2 panel frames + 4 non-n/a bars.
	if elems["rect"] != 1+3+2+4 {
		t.Errorf("rect elements = %d, want 10", elems["rect"])
	}
	for _, want := range []string{`bench "quoted" & <tagged>`, "static-4k <&>", "n/a", "CPU µs/req", "gale", "caddy"} {
		if !strings.Contains(text, want) {
			t.Errorf("SVG text lacks %q", want)
		}
	}
}

func TestChartRowsFromOutcomes(t *testing.T) {
	ok := Run{Wrk: WrkResult{RPS: 1234, Requests: 100, Percentiles: map[string]time.Duration{}}, ServerCPU: time.Millisecond}
	outs := []Outcome{
		{Scenario: "static-4k", Server: "nginx", Runs: []Run{ok}},
		{Scenario: "static-4k", Server: "caddy", NA: "caddy not installed"},
		{Scenario: "idle-10k", Server: "nginx", Mem: &MemResult{}},
	}
	rows := chartRows(outs)
	if len(rows) != 1 || rows[0].Scenario != "static-4k" {
		t.Fatalf("rows = %+v", rows)
	}
	rps := rows[0].Panels[0].Bars
	if len(rps) != 2 || rps[0].Value != 1234 || rps[0].Label != "1,234" || !rps[1].NA {
		t.Errorf("rps bars = %+v", rps)
	}
	if cpu := rows[0].Panels[1].Bars[0]; cpu.Value != 10 {
		t.Errorf("cpu bar = %+v, want 10 µs/req", cpu)
	}
	var buf bytes.Buffer
	if err := writeSVG(&buf, "t", []string{"nginx", "caddy"}, rows); err != nil {
		t.Fatal(err)
	}
	decodeSVG(t, buf.Bytes())
}
