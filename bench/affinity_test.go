package main

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseCPUList(t *testing.T) {
	for in, want := range map[string][]int{"1": {1}, "0,2": {0, 2}, "0-3,6": {0, 1, 2, 3, 6}, " 4 ": {4}} {
		got, err := parseCPUList(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("parseCPUList(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "3-1", "1-", "1,,2"} {
		if _, err := parseCPUList(in); err == nil {
			t.Errorf("parseCPUList(%q): no error", in)
		}
	}
}

func TestPinSelf(t *testing.T) {
	var orig unix.CPUSet
	if err := unix.SchedGetaffinity(0, &orig); err != nil {
		t.Fatal(err)
	}
	var allowed []string
	for c := range 1024 {
		if orig.IsSet(c) {
			allowed = append(allowed, strconv.Itoa(c))
		}
	}
	defer func() {
		if err := pinSelf(strings.Join(allowed, ",")); err != nil {
			t.Error(err)
		}
	}()
	first := allowed[0]
	if err := pinSelf(first); err != nil {
		t.Fatal(err)
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		var got unix.CPUSet
		if err := unix.SchedGetaffinity(tid, &got); err != nil {
			continue // thread exited
		}
		if want, _ := strconv.Atoi(first); got.Count() != 1 || !got.IsSet(want) {
			t.Errorf("thread %d: %d CPUs allowed, want only CPU %s", tid, got.Count(), first)
		}
	}
}
