package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/qstar-dev/qstar/builtins"
	"github.com/qstar-dev/qstar/kafka"
	"github.com/qstar-dev/qstar/quixcloud"
)

// quixStateDir is where Quix Cloud deployments mount their state volume.
const quixStateDir = "/app/state"

// quixCloudConnector returns the Registry.Connect of a script loaded to
// run: it connects to the Portal API of Quix__Portal__Api (default
// quixcloud.DefaultPortalAPI) in the workspace Quix__Workspace__Id (default:
// the token's only one), once per token, so a reload does not fetch the
// settings again.
func quixCloudConnector(getenv func(string) string, log *slog.Logger) func(string) (builtins.Platform, error) {
	var mu sync.Mutex
	workspaces := map[string]*quixcloud.Workspace{}
	return func(token string) (builtins.Platform, error) {
		mu.Lock()
		defer mu.Unlock()
		if w, ok := workspaces[token]; ok {
			return w, nil
		}
		w, err := quixcloud.Connect(context.Background(), quixcloud.Options{Token: token, PortalAPI: getenv(quixcloud.EnvPortalAPI), WorkspaceID: getenv(quixcloud.EnvWorkspaceID)})
		if err != nil {
			return nil, err
		}
		log.Info("connected to Quix Cloud", "portal", w.PortalAPI(), "workspace", w.ID(), "brokers", w.Brokers())
		workspaces[token] = w
		return w, nil
	}
}

// cloudTopicCreator creates topics through the Portal API. TopicConfig's
// retention.ms, retention.bytes and cleanup.policy are the settings the
// API takes (retention in minutes), as Quix Streams passes them.
func cloudTopicCreator(w *quixcloud.Workspace) topicCreator {
	return func(ctx context.Context, specs []kafka.TopicSpec) ([]string, error) {
		out := make([]quixcloud.TopicSpec, len(specs))
		for i, s := range specs {
			c := quixcloud.TopicSpec{Name: s.Name, Partitions: s.NumPartitions, ReplicationFactor: s.ReplicationFactor, CleanupPolicy: s.Config["cleanup.policy"]}
			for key, dst := range map[string]**int64{"retention.ms": &c.RetentionMinutes, "retention.bytes": &c.RetentionBytes} {
				v, ok := s.Config[key]
				if !ok {
					continue
				}
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("quix cloud: topic %q: %s=%q is not an integer", s.Name, key, v)
				}
				if key == "retention.ms" && n > 0 {
					n /= 60000
				}
				*dst = &n
			}
			out[i] = c
		}
		return w.CreateTopics(ctx, out)
	}
}

// checkQuixDeployment warns, as Quix Streams does, when a Quix Cloud
// deployment (Quix__Deployment__Id set) keeps its state directory where it
// is not shared between replicas, or a stateful one has state management
// disabled.
func checkQuixDeployment(getenv func(string) string, stateDir string, stateful bool, log *slog.Logger) {
	deployment := getenv(quixcloud.EnvDeploymentID)
	if deployment == "" {
		return
	}
	if stateful && getenv(quixcloud.EnvStateEnabled) != "true" {
		log.Warn("State Management feature is disabled for this Quix deployment; enable it in the deployment settings to share the state between replicas", "deployment", deployment)
	}
	if abs, err := filepath.Abs(stateDir); err == nil && abs != quixStateDir {
		log.Warn("the state directory does not match the state directory on Quix Cloud; the state will not be shared between replicas of this deployment, and it may be lost on restart", "state_dir", abs, "quix_state_dir", quixStateDir)
	}
}
