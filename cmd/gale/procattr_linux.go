package main

import "syscall"

// childProcAttr makes the kernel send the child SIGTERM when gale dies,
// even by SIGKILL, so a supervised child is never left orphaned. (The
// signal follows the death of the thread that forked; the Go runtime does
// not end its threads, gnet's loops do not lock theirs.) The child gets a
// process group of its own so that a Ctrl-C in the terminal reaches gale
// only: gale drains its requests first, then stops the child.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
}
