package yamldoc_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/yamldoc"
)

// TestHostileMemory: the largest file relgate accepts, shaped to make the
// most nodes, stays far below 128 MiB of allocation while it is refused.
func TestHostileMemory(t *testing.T) {
	fill := func(unit string) string {
		n := (yamldoc.MaxFileSize - 10) / len(unit)
		return strings.Repeat(unit, n)
	}
	inputs := map[string]string{
		"flow sequence of one-digit numbers": "a: [" + fill("1,") + "1]\n",
		"many keys":                          fill("k: 1\n")[:0] + manyKeys(),
		"long block sequence":                "a:\n" + fill("- 1\n"),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			if len(in) > yamldoc.MaxFileSize {
				in = in[:yamldoc.MaxFileSize]
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := yamldoc.Parse([]byte(in))
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatal("accepted")
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 128<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			} else {
				t.Logf("allocated %d MiB: %v", alloc>>20, err)
			}
		})
	}
}

func manyKeys() string {
	var b strings.Builder
	for i := 0; b.Len() < yamldoc.MaxFileSize-20; i++ {
		b.WriteString("k")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(itoa(i))
		b.WriteString(": 1\n")
	}
	return b.String()
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var d []byte
	for ; i > 0; i /= 10 {
		d = append([]byte{byte('0' + i%10)}, d...)
	}
	return string(d)
}
