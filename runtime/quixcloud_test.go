package runtime

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestCheckQuixDeployment pins Quix Streams' warnings for an app deployed
// on Quix Cloud: the state directory is checked for every app, state
// management for stateful ones.
func TestCheckQuixDeployment(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		stateDir string
		stateful bool
		want     []string
	}{
		{"not deployed", map[string]string{}, "state", true, nil},
		{"deployed as expected", map[string]string{"Quix__Deployment__Id": "d1", "Quix__Deployment__State__Enabled": "true"}, "/app/state", true, nil},
		{"state management off", map[string]string{"Quix__Deployment__Id": "d1"}, "/app/state", true, []string{"State Management feature is disabled"}},
		{"state management off, stateless", map[string]string{"Quix__Deployment__Id": "d1"}, "/app/state", false, nil},
		{"state elsewhere", map[string]string{"Quix__Deployment__Id": "d1", "Quix__Deployment__State__Enabled": "true"}, "state", true, []string{"does not match the state directory on Quix Cloud"}},
		{"state elsewhere, stateless", map[string]string{"Quix__Deployment__Id": "d1"}, "state", false, []string{"does not match the state directory on Quix Cloud"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			checkQuixDeployment(func(k string) string { return tc.env[k] }, tc.stateDir, tc.stateful, slog.New(slog.NewTextHandler(&logs, nil)))
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			if logs.Len() == 0 {
				lines = nil
			}
			if len(lines) != len(tc.want) {
				t.Fatalf("logged %q, want %d warnings", logs.String(), len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(lines[i], "level=WARN") || !strings.Contains(lines[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, lines[i], w)
				}
			}
		})
	}
}
