package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cpuGroup is a CPU-accounting cgroup holding a server and its backend, for
// cgi-hello: fcgiwrap's wrappers ignore SIGCHLD, so the kernel reaps its
// scripts itself and their CPU reaches no parent's cutime (TreeCPU cannot
// see it); a cgroup counts every task that ever ran in it. One method for
// every row of the scenario: gale's and lighttpd's scripts are counted the
// same way.
type cpuGroup struct {
	dir string
	v2  bool // cgroup v2: cpu.stat usage_usec; v1: cpuacct.usage (ns)
}

// cgroupRoots are where a CPU-accounting hierarchy may be mounted.
var cgroupRoots = []struct {
	dir string
	v2  bool
}{
	{"/sys/fs/cgroup/cpuacct", false},
	{"/sys/fs/cgroup/cpu,cpuacct", false},
	{"/sys/fs/cgroup/unified", true},
	{"/sys/fs/cgroup", true},
}

// newCPUGroup creates a cgroup named name, or says why it cannot (not root,
// no hierarchy with CPU accounting).
func newCPUGroup(name string) (*cpuGroup, error) {
	var errs []string
	for _, r := range cgroupRoots {
		usage := "cpuacct.usage"
		if r.v2 {
			usage = "cpu.stat"
		}
		if _, err := os.Stat(filepath.Join(r.dir, usage)); err != nil && !r.v2 {
			continue
		}
		if r.v2 {
			if _, err := os.Stat(filepath.Join(r.dir, "cgroup.controllers")); err != nil {
				continue
			}
		}
		dir := filepath.Join(r.dir, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		return &cpuGroup{dir: dir, v2: r.v2}, nil
	}
	if len(errs) == 0 {
		errs = append(errs, "no cgroup hierarchy with CPU accounting")
	}
	return nil, fmt.Errorf("cgroup: %s", strings.Join(errs, "; "))
}

// adopt moves the process trees of roots into the group; what they fork
// later is born in it.
func (g *cpuGroup) adopt(roots ...int) error {
	for _, root := range roots {
		for _, st := range processTree(root) {
			err := os.WriteFile(filepath.Join(g.dir, "cgroup.procs"), []byte(strconv.Itoa(st.PID)), 0o644)
			if err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("cgroup: move %d: %w", st.PID, err)
			}
		}
	}
	return nil
}

// usage is the CPU time every task of the group used so far.
func (g *cpuGroup) usage() time.Duration {
	if !g.v2 {
		b, err := os.ReadFile(filepath.Join(g.dir, "cpuacct.usage"))
		if err != nil {
			return 0
		}
		ns, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		return time.Duration(ns)
	}
	return g.stat("usage_usec")
}

// sysUsage is the kernel part of usage: cgroup v2's system_usec; 0 on
// cgroup v1, whose cpuacct.usage does not split it.
func (g *cpuGroup) sysUsage() time.Duration {
	if !g.v2 {
		return 0
	}
	return g.stat("system_usec")
}

// stat reads one microsecond field of a cgroup v2 cpu.stat; 0 if absent.
func (g *cpuGroup) stat(key string) time.Duration {
	b, err := os.ReadFile(filepath.Join(g.dir, "cpu.stat"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			us, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return time.Duration(us) * time.Microsecond
		}
	}
	return 0
}

// remove deletes the group once its processes are gone (they were stopped
// first); a straggler is moved to the parent so the directory can go.
func (g *cpuGroup) remove() {
	for range 50 {
		if os.Remove(g.dir) == nil {
			return
		}
		if b, err := os.ReadFile(filepath.Join(g.dir, "cgroup.procs")); err == nil {
			for _, pid := range strings.Fields(string(b)) {
				_ = os.WriteFile(filepath.Join(filepath.Dir(g.dir), "cgroup.procs"), []byte(pid), 0o644)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}
