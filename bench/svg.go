package main

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
)

// bar is one server's value in a panel; NA bars are drawn as "n/a".
type bar struct {
	Series string
	Value  float64
	Label  string
	NA     bool
}

// panel is one small bar chart with its own scale, since requests/s of a
// 612 B file and a 1 MiB file differ by orders of magnitude.
type panel struct {
	Title string
	Bars  []bar
}

// chartRow is one scenario: a requests/s panel and a CPU/request panel.
type chartRow struct {
	Scenario string
	Panels   []panel
}

// Layout of the chart, in SVG user units.
const (
	svgPanelW  = 400
	svgPanelH  = 170
	svgPad     = 20
	svgTitleH  = 40
	svgLegendH = 30
	svgRowHead = 22
	svgPlotTop = 24 // panel title band
	svgPlotBot = 22 // label band under the bars
)

// svgPalette colours series in order; gale gets the first colour.
var svgPalette = []string{"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"}

// chartRows builds one row per throughput scenario from outcomes, with a
// bar per server in the order the outcomes list them.
func chartRows(outs []Outcome) []chartRow {
	var rows []chartRow
	index := make(map[string]int)
	for _, o := range outs {
		if sc, _ := scenarioByName(o.Scenario); sc.Kind != KindWrk {
			continue
		}
		i, ok := index[o.Scenario]
		if !ok {
			i = len(rows)
			index[o.Scenario] = i
			rows = append(rows, chartRow{Scenario: o.Scenario, Panels: []panel{
				{Title: "requests/s (median)"}, {Title: "server CPU µs/request"}}})
		}
		s := summarize(o)
		na := s.NA != ""
		rows[i].Panels[0].Bars = append(rows[i].Panels[0].Bars,
			bar{Series: o.Server, Value: s.RPS.Median, Label: thousands(s.RPS.Median), NA: na})
		rows[i].Panels[1].Bars = append(rows[i].Panels[1].Bars,
			bar{Series: o.Server, Value: s.CPUPerReq, Label: fmt.Sprintf("%.1f", s.CPUPerReq), NA: na})
	}
	return rows
}

// writeSVG draws rows as small multiples with a legend of series.
func writeSVG(w io.Writer, title string, series []string, rows []chartRow) error {
	bw := bufio.NewWriter(w)
	width := 2*svgPanelW + 3*svgPad
	height := svgTitleH + svgLegendH + len(rows)*(svgRowHead+svgPanelH+svgPad) + svgPad
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		width, height, width, height)
	fmt.Fprintf(bw, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	svgText(bw, svgPad, 26, "start", `font-size="16" font-weight="bold"`, title)
	colour := make(map[string]string)
	x := svgPad
	for i, s := range series {
		colour[s] = svgPalette[i%len(svgPalette)]
		fmt.Fprintf(bw, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/>`+"\n", x, svgTitleH+4, colour[s])
		svgText(bw, x+16, svgTitleH+14, "start", "", s)
		x += 24 + 8*len(s) + 16
	}
	y := svgTitleH + svgLegendH
	for _, r := range rows {
		svgText(bw, svgPad, y+16, "start", `font-size="13" font-weight="bold"`, r.Scenario)
		for i, p := range r.Panels {
			writePanel(bw, svgPad+i*(svgPanelW+svgPad), y+svgRowHead, p, colour)
		}
		y += svgRowHead + svgPanelH + svgPad
	}
	bw.WriteString("</svg>\n")
	return bw.Flush()
}

// writePanel draws one panel with its top-left corner at (x0, y0).
func writePanel(w *bufio.Writer, x0, y0 int, p panel, colour map[string]string) {
	fmt.Fprintf(w, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#ccc"/>`+"\n", x0, y0, svgPanelW, svgPanelH)
	svgText(w, x0+8, y0+16, "start", `fill="#444"`, p.Title)
	maxV := 0.0
	for _, b := range p.Bars {
		if !b.NA && b.Value > maxV {
			maxV = b.Value
		}
	}
	plotH := float64(svgPanelH - svgPlotTop - svgPlotBot - 14) // 14: value label above the bar
	base := y0 + svgPanelH - svgPlotBot
	slot := float64(svgPanelW-20) / float64(max(len(p.Bars), 1))
	for i, b := range p.Bars {
		cx := float64(x0+10) + slot*(float64(i)+0.5)
		bw := slot * 0.7
		svgText(w, int(cx), base+15, "middle", "", b.Series)
		if b.NA {
			svgText(w, int(cx), base-4, "middle", `fill="#888"`, "n/a")
			continue
		}
		h := 0.0
		if maxV > 0 {
			h = b.Value / maxV * plotH
		}
		fmt.Fprintf(w, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n",
			cx-bw/2, float64(base)-h, bw, h, colour[b.Series])
		svgText(w, int(cx), base-int(h)-4, "middle", "", b.Label)
	}
	fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", x0+6, base, x0+svgPanelW-6, base)
}

// svgText writes a <text> element with its content XML-escaped.
func svgText(w *bufio.Writer, x, y int, anchor, attrs, s string) {
	fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="%s" %s>`, x, y, anchor, attrs)
	_ = xml.EscapeText(w, []byte(s))
	w.WriteString("</text>\n")
}
