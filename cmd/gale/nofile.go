package main

import "syscall"

// raiseNofile raises the soft RLIMIT_NOFILE to the hard limit and returns
// the limit in force. Every client connection, file being sent, upstream
// connection and spool file is a file descriptor, and the soft limit is
// often 1024 under a hard one of a million or more. The Go runtime raises
// it at start too, but to one below the hard limit, and only where it
// thinks it safe; gale wants all of it. Children gale spawns inherit the
// raised limit (syscall.Setrlimit tells os/exec not to restore the one
// gale started with), as nginx's workers and children inherit
// worker_rlimit_nofile.
func raiseNofile() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		want := lim
		want.Cur = want.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			return lim.Cur, err
		}
		lim = want
	}
	return lim.Cur, nil
}
