package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"time"

	"github.com/qstar-dev/qstar/engine"
)

// watch polls the script and the files it loads; on a change it loads the
// new version in a fresh environment and, when it is valid and compatible,
// asks the engine to switch to it at a checkpoint. An invalid or
// incompatible version leaves the running pipeline as it is and logs why.
type watch struct {
	running *Script
	log     *slog.Logger
	reloads chan<- engine.Reload
	stdout  io.Writer
	// setup creates the new version's missing topics.
	setup func(ctx context.Context, s *Script) error
	// switched runs once the engine runs the new version: the sources
	// restart with it.
	switched func(s *Script)
}

type fileStamp struct {
	mod  time.Time
	size int64
}

func stamps(files []string) map[string]fileStamp {
	out := make(map[string]fileStamp, len(files))
	for _, f := range files {
		if info, err := os.Stat(f); err == nil {
			out[f] = fileStamp{info.ModTime(), info.Size()}
		}
	}
	return out
}

func (w *watch) run(ctx context.Context) {
	seen := stamps(w.running.Files)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := stamps(w.running.Files)
		if reflect.DeepEqual(now, seen) {
			continue
		}
		changed := time.Now()
		time.Sleep(100 * time.Millisecond) // let the editor finish writing
		seen = stamps(w.running.Files)
		next, err := w.load()
		if err != nil {
			w.log.Error("reload: keeping the running pipeline", "error", err.Error())
			continue
		}
		done := make(chan error, 1)
		select {
		case w.reloads <- engine.Reload{Sources: next.App.Run().Sources, Done: done}:
		case <-ctx.Done():
			return
		}
		if err := <-done; err != nil {
			w.log.Error("reload: keeping the running pipeline", "error", err.Error())
			continue
		}
		w.running = next
		if w.switched != nil {
			w.switched(next)
		}
		seen = stamps(next.Files)
		w.log.Info("reloaded", "script", next.Filename, "took", time.Since(changed).Round(time.Millisecond))
	}
}

// load loads the new version and checks it can replace the running one:
// same consumer group, source topics and state stores.
func (w *watch) load() (*Script, error) {
	next, err := w.running.reload(w.stdout)
	if err != nil {
		var le *LoadError
		if errors.As(err, &le) {
			return nil, errors.New(le.Msg)
		}
		return nil, err
	}
	oldCfg, newCfg := w.running.App.Config(), next.App.Config()
	if oldCfg.ConsumerGroup != newCfg.ConsumerGroup {
		return nil, fmt.Errorf("incompatible change: the consumer group changed from %q to %q; restart the job", oldCfg.ConsumerGroup, newCfg.ConsumerGroup)
	}
	sourceNames := func(s *Script) []string {
		var out []string
		for _, src := range s.App.Run().Sources {
			out = append(out, src.Topic.Name)
		}
		return out
	}
	if a, b := sourceNames(w.running), sourceNames(next); !reflect.DeepEqual(a, b) {
		return nil, fmt.Errorf("incompatible change: the source topics changed from %v to %v; restart the job", a, b)
	}
	if a, b := w.running.App.Stores(), next.App.Stores(); !reflect.DeepEqual(a, b) {
		return nil, fmt.Errorf("incompatible change: the state stores (or windows) changed from %v to %v; restart the job (a new store starts empty)", a, b)
	}
	if err := w.setup(context.Background(), next); err != nil {
		return nil, err
	}
	return next, nil
}
