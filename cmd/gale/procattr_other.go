//go:build !linux

package main

import "syscall"

// childProcAttr has no parent-death signal outside Linux: a child outlives
// a gale killed with SIGKILL there.
func childProcAttr() *syscall.SysProcAttr { return nil }
