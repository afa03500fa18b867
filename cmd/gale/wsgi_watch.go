package main

import (
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// pyWatchEvery is how often -reload looks for changed *.py files. A scan
// of a project's sources takes well under a millisecond; polling follows
// editors that save by rename and trees on any filesystem, where inotify
// needs a watch per directory and misses moved-in trees.
const pyWatchEvery = 300 * time.Millisecond

// pyWatchMaxFiles bounds a scan: a tree with more *.py files than this is
// not one being edited by hand (a virtualenv, a vendored library).
const pyWatchMaxFiles = 20000

// pyWatcher calls changed when a *.py file below its directory is
// created, written or removed.
type pyWatcher struct {
	stop, done chan struct{}
}

// watchPython watches dir until Stop.
func watchPython(log *slog.Logger, dir string, changed func(file string)) *pyWatcher {
	w := &pyWatcher{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		last, truncated := scanPython(dir)
		if truncated {
			log.Warn("-reload watches only the first *.py files", "dir", dir, "files", pyWatchMaxFiles)
		}
		t := time.NewTicker(pyWatchEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-w.stop:
				return
			}
			now, _ := scanPython(dir)
			if file := firstChange(last, now); file != "" {
				changed(file)
			}
			last = now
		}
	}()
	return w
}

// Stop ends the watch.
func (w *pyWatcher) Stop() {
	close(w.stop)
	<-w.done
}

// pyStamp is what a scan notes of a file.
type pyStamp struct {
	mod  time.Time
	size int64
}

// scanPython maps the *.py files below dir to their stamps, skipping
// hidden directories, __pycache__, node_modules and virtualenvs.
func scanPython(dir string) (files map[string]pyStamp, truncated bool) {
	files = map[string]pyStamp{}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // vanished meanwhile, or unreadable: not ours to report
		}
		name := d.Name()
		if d.IsDir() {
			if path != dir && (strings.HasPrefix(name, ".") || name == "__pycache__" || name == "node_modules" || name == "site-packages") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "pyvenv.cfg")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".py") {
			return nil
		}
		if len(files) >= pyWatchMaxFiles {
			truncated = true
			return filepath.SkipAll
		}
		if info, err := d.Info(); err == nil {
			files[path] = pyStamp{mod: info.ModTime(), size: info.Size()}
		}
		return nil
	})
	return files, truncated
}

// firstChange names a file that differs between two scans ("" if none).
func firstChange(before, after map[string]pyStamp) string {
	for p, s := range after {
		if b, ok := before[p]; !ok || b != s {
			return p
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			return p
		}
	}
	return ""
}
