package runtime

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestCheckQuixDeployment pins Quix Streams' warnings for a stateful app
// deployed on Quix Cloud.
func TestCheckQuixDeployment(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		stateDir string
		want     []string
	}{
		{"not deployed", map[string]string{}, "state", nil},
		{"deployed as expected", map[string]string{"Quix__Deployment__Id": "d1", "Quix__Deployment__State__Enabled": "true"}, "/app/state", nil},
		{"state management off", map[string]string{"Quix__Deployment__Id": "d1"}, "/app/state", []string{"State Management feature is disabled"}},
		{"state elsewhere", map[string]string{"Quix__Deployment__Id": "d1", "Quix__Deployment__State__Enabled": "true"}, "state", []string{"does not match the state directory on Quix Cloud"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			checkQuixDeployment(func(k string) string { return tc.env[k] }, tc.stateDir, slog.New(slog.NewTextHandler(&logs, nil)))
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
