package httpcodec

import (
	"bytes"
	"testing"
)

func BenchmarkZZLines(b *testing.B) {
	buf := []byte(browserGET)
	for b.Loop() {
		i := 0
		c := 0
		for i < len(buf) {
			j := valueEnd(buf, i)
			i = j + 2
			c++
		}
		if c != 15 {
			b.Fatal(c)
		}
	}
}

func BenchmarkZZIndexLines(b *testing.B) {
	buf := []byte(browserGET)
	for b.Loop() {
		i := 0
		c := 0
		for i < len(buf) {
			j := bytes.IndexByte(buf[i:], '\n')
			i += j + 1
			c++
		}
		if c != 15 {
			b.Fatal(c)
		}
	}
}
