package dashboard

import (
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"
)

// series is one colored part of a stacked bar chart.
type series struct {
	Name  string // CSS class suffix and legend label
	Label string
}

// barChart draws a small stacked bar chart as inline SVG (no script, no
// library): one bar per label, one segment per series. values[i][j] is
// bar i, series j. The SVG has a text alternative; the page also shows
// the numbers as a table for screen readers.
func barChart(title string, labels []string, ss []series, values [][]int) template.HTML {
	const w, h, top, bottom, left = 560, 180, 10, 24, 32
	maxV := 1
	for _, row := range values {
		sum := 0
		for _, v := range row {
			sum += v
		}
		maxV = max(maxV, sum)
	}
	maxV = niceCeil(maxV)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">`, w, h, html.EscapeString(title))
	plotH := float64(h - top - bottom)
	for _, frac := range []float64{0, 0.5, 1} {
		y := float64(top) + plotH*(1-frac)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, left, w, y, y)
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%d</text>`, left-4, y+4, int(float64(maxV)*frac))
	}
	n := max(len(labels), 1)
	slot := float64(w-left) / float64(n)
	barW := slot * 0.62
	for i, lab := range labels {
		x := float64(left) + slot*float64(i) + (slot-barW)/2
		y := float64(top) + plotH
		total := 0
		for j, s := range ss {
			v := 0
			if i < len(values) && j < len(values[i]) {
				v = values[i][j]
			}
			total += v
			if v == 0 {
				continue
			}
			bh := plotH * float64(v) / float64(maxV)
			y -= bh
			fmt.Fprintf(&b, `<rect class="bar bar-%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s %s: %d</title></rect>`,
				s.Name, x, y, barW, bh, html.EscapeString(lab), html.EscapeString(s.Label), v)
		}
		_ = total
		if n <= 12 || i%2 == 0 {
			fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x+barW/2, h-6, html.EscapeString(lab))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // numbers and escaped labels only
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten.
func niceCeil(n int) int {
	p := 1
	for {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
		p *= 10
	}
}

// weekLabel turns a bucket start (YYYY-MM-DD) into "Mar 4".
func weekLabel(start string) string {
	t, err := time.Parse(time.DateOnly, start)
	if err != nil {
		return start
	}
	return t.Format("Jan 2")
}
