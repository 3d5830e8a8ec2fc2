package quarter

import (
	"fmt"
	"html"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	chartW, chartH = 640, 360
	plotL, plotR   = 70, 570 // plot area left and right
	plotT, plotB   = 70, 300 // plot area top and bottom
)

// Chart draws the trend as an SVG image: release count as bars on the left
// axis, success rate as a line on the right axis (0–100 %), and the target as
// a dashed line. Every number is formatted with fixed precision, so the same
// points give the same bytes. It opens in a browser and as an image on GitHub.
func Chart(points []Point, target *float64, m msg) string {
	e := html.EscapeString
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`+"\n",
		chartW, chartH, chartW, chartH, e(m.chartAlt))
	w(`<title>%s</title>`+"\n", e(m.chartAlt))
	b.WriteString(`<style>text{font-family:'Noto Sans CJK SC','Microsoft YaHei','PingFang SC',Arial,sans-serif;font-size:12px;fill:#333}.t{font-size:16px;font-weight:bold}</style>` + "\n")
	w(`<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`+"\n", chartW, chartH)
	w(`<text class="t" x="%d" y="28" text-anchor="middle">%s</text>`+"\n", chartW/2, e(m.chartTitle))

	maxCount := 0
	for _, p := range points {
		maxCount = max(maxCount, p.Releases)
	}
	step := niceStep(maxCount)
	top := step * 4
	plotH := float64(plotB - plotT)
	yCount := func(n int) float64 { return float64(plotB) - float64(n)/float64(top)*plotH }
	yRate := func(r float64) float64 { return float64(plotB) - r/100*plotH }

	// Grid and axes: left ticks are counts, right ticks percentages.
	for i := 0; i <= 4; i++ {
		y := float64(plotB) - float64(i)/4*plotH
		w(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e0e0e0"/>`+"\n", plotL, y, plotR, y)
		w(`<text x="%d" y="%.1f" text-anchor="end">%d</text>`+"\n", plotL-8, y+4, step*i)
		w(`<text x="%d" y="%.1f" text-anchor="start">%d %%</text>`+"\n", plotR+8, y+4, 25*i)
	}
	w(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", plotL, plotT, plotL, plotB)
	w(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", plotR, plotT, plotR, plotB)
	w(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", plotL, plotB, plotR, plotB)
	w(`<text x="18" y="%d" text-anchor="middle" transform="rotate(-90 18 %d)">%s</text>`+"\n", (plotT+plotB)/2, (plotT+plotB)/2, e(m.chartCount))
	w(`<text x="%d" y="%d" text-anchor="middle" transform="rotate(90 %d %d)">%s</text>`+"\n", chartW-14, (plotT+plotB)/2, chartW-14, (plotT+plotB)/2, e(m.chartRate))

	n := max(len(points), 1)
	slot := float64(plotR-plotL) / float64(n)
	center := func(i int) float64 { return float64(plotL) + slot*(float64(i)+0.5) }
	barW := slot * 0.4
	for i, p := range points {
		x := center(i)
		y := yCount(p.Releases)
		w(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#4c78a8"/>`+"\n", x-barW/2, y, barW, float64(plotB)-y)
		if float64(plotB)-y >= 22 {
			// Inside the bar's top, so it never meets the rate's label.
			w(`<text x="%.1f" y="%.1f" text-anchor="middle" style="fill:#ffffff">%d</text>`+"\n", x, y+16, p.Releases)
		} else {
			w(`<text x="%.1f" y="%.1f" text-anchor="middle">%d</text>`+"\n", x, y-6, p.Releases)
		}
		w(`<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x, plotB+20, e(p.Quarter))
	}
	if target != nil {
		y := yRate(min(max(*target, 0), 100))
		w(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#54a24b" stroke-width="2" stroke-dasharray="6 4"/>`+"\n", plotL, y, plotR, y)
		w(`<text x="%d" y="%.1f" text-anchor="start" style="fill:#54a24b">%s %.1f %%</text>`+"\n", plotL+6, y-6, e(m.chartTarget), *target)
	}
	// The rate line breaks at quarters without releases (no rate).
	var seg []string
	flush := func() {
		if len(seg) > 1 {
			w(`<polyline points="%s" fill="none" stroke="#f58518" stroke-width="3"/>`+"\n", strings.Join(seg, " "))
		}
		seg = nil
	}
	for i, p := range points {
		if p.Rate == nil {
			flush()
			continue
		}
		seg = append(seg, fmt.Sprintf("%.1f,%.1f", center(i), yRate(*p.Rate)))
	}
	flush()
	for i, p := range points {
		if p.Rate == nil {
			continue
		}
		x, y := center(i), yRate(*p.Rate)
		w(`<circle cx="%.1f" cy="%.1f" r="5" fill="#f58518"/>`+"\n", x, y)
		w(`<text x="%.1f" y="%.1f" text-anchor="start" style="fill:#b35806">%.1f %%</text>`+"\n", x+8, y-8, *p.Rate)
	}
	// Legend.
	ly := chartH - 18
	w(`<rect x="%d" y="%d" width="14" height="14" fill="#4c78a8"/>`+"\n", plotL, ly-11)
	w(`<text x="%d" y="%d">%s</text>`+"\n", plotL+20, ly, e(m.chartCount))
	w(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#f58518" stroke-width="3"/>`+"\n", plotL+150, ly-4, plotL+180, ly-4)
	w(`<text x="%d" y="%d">%s</text>`+"\n", plotL+186, ly, e(m.chartRate))
	if target != nil {
		w(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#54a24b" stroke-width="2" stroke-dasharray="6 4"/>`+"\n", plotL+330, ly-4, plotL+360, ly-4)
		w(`<text x="%d" y="%d">%s</text>`+"\n", plotL+366, ly, e(m.chartTarget))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// niceStep picks a tick step (1, 2 or 5 times a power of ten) so that four
// steps hold maxCount.
func niceStep(maxCount int) int {
	if maxCount <= 4 {
		return 1
	}
	for pow := 1; ; pow *= 10 {
		for _, f := range []int{1, 2, 5} {
			if f*pow*4 >= maxCount {
				return f * pow
			}
		}
	}
}
