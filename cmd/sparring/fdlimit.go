package main

import "syscall"

// raiseFileLimit lifts the soft open-file limit to the hard one: every
// WebSocket is a file descriptor, and the usual soft limit (1024) would cap
// a server or a load generator far below 10,000 sessions. It returns the
// limit now in force.
func raiseFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return 0, err
		}
	}
	return l.Cur, nil
}
