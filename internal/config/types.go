package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as Go writes durations: "30s",
// "1m30s", "500ms". A bare number is refused: its unit would be a guess.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d as it would be written in the file.
func (d Duration) String() string { return time.Duration(d).String() }

func (d *Duration) parse(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("bad duration %q (want e.g. 500ms, 30s, 2m)", s)
	}
	if v < 0 {
		return fmt.Errorf("negative duration %q", s)
	}
	*d = Duration(v)
	return nil
}

// Size is a number of bytes, written as a number or with a binary suffix:
// 512KiB, 10MiB, 1GiB (K, M, G, KB, MB, GB mean the same powers of 1024).
type Size int64

// String formats s with the largest suffix that divides it.
func (s Size) String() string {
	for _, u := range []struct {
		suffix string
		n      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if s != 0 && int64(s)%u.n == 0 {
			return strconv.FormatInt(int64(s)/u.n, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

var sizeSuffixes = []struct {
	suffix string
	shift  uint
}{
	{"KiB", 10}, {"MiB", 20}, {"GiB", 30},
	{"KB", 10}, {"MB", 20}, {"GB", 30},
	{"K", 10}, {"M", 20}, {"G", 30},
	{"B", 0},
}

// ParseSize parses a size as the file writes it: bytes, or 512KiB, 10MiB.
func ParseSize(text string) (Size, error) {
	var s Size
	err := s.parse(text)
	return s, err
}

func (s *Size) parse(text string) error {
	num, shift := strings.TrimSpace(text), uint(0)
	for _, u := range sizeSuffixes {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, shift = strings.TrimSpace(n), u.shift
			break
		}
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("bad size %q (want bytes or e.g. 512KiB, 10MiB)", text)
	}
	if v > (1<<62)>>shift {
		return fmt.Errorf("size %q too large", text)
	}
	*s = Size(v << shift)
	return nil
}

// scalar is implemented by the types the decoder parses from text.
type scalar interface{ parse(string) error }
