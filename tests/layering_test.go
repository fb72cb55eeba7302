package tests

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/qstar-dev/qstar"

// TestLayering pins the dependency direction of DESIGN.md: engine, builtins
// and serde never reach the packages above them or the Kafka client, even
// indirectly; engine and builtins never reach package state (engine
// declares the state interfaces it uses, runtime plugs state in); record
// and quixcloud are leaves; only package kafka imports confluent-kafka-go
// or kfake, and only package state imports grocksdb.
func TestLayering(t *testing.T) {
	transitive := map[string][]string{
		"serde":    {mod + "/engine", mod + "/builtins", mod + "/runtime", mod + "/kafka", "confluent-kafka-go", "franz-go"},
		"engine":   {mod + "/builtins", mod + "/runtime", mod + "/kafka", mod + "/state", "confluent-kafka-go", "franz-go", "grocksdb"},
		"builtins": {mod + "/runtime", mod + "/kafka", mod + "/state", "confluent-kafka-go", "franz-go", "grocksdb"},
		"kafka":    {mod + "/engine", mod + "/builtins", mod + "/runtime", mod + "/state"},
		"state":    {mod + "/engine", mod + "/builtins", mod + "/runtime", mod + "/kafka", "confluent-kafka-go", "franz-go"},
		// Python's library, under builtins, needs nothing of the engine or above.
		"builtins/python": {mod + "/engine", mod + "/builtins", mod + "/runtime", mod + "/kafka", mod + "/state", "confluent-kafka-go", "franz-go", "grocksdb"},
		// The built-in sinks and sources sit under builtins: their
		// clients (pgx, go-redis, files), no Kafka client (runtime hands
		// a source its producer) and nothing above them.
		"sinks":   {mod + "/builtins", mod + "/runtime", mod + "/kafka", mod + "/state", "confluent-kafka-go", "franz-go", "grocksdb"},
		"sources": {mod + "/builtins", mod + "/runtime", mod + "/kafka", mod + "/state", mod + "/engine", "confluent-kafka-go", "franz-go", "grocksdb", "starlark"},
		// The record vocabulary is a leaf every layer shares.
		"record": {mod + "/", "confluent-kafka-go", "franz-go", "grocksdb", "starlark"},
		// The Portal API client needs nothing but the standard library.
		"quixcloud": {mod + "/", "confluent-kafka-go", "franz-go", "starlark"},
	}
	for pkg, bad := range transitive {
		for _, dep := range goList(t, "-deps", mod+"/"+pkg) {
			if dep == mod+"/"+pkg {
				continue
			}
			for _, b := range bad {
				if strings.HasPrefix(dep, b) || strings.Contains(dep, "/"+b) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
	// Direct imports of every package in the module.
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}: {{join .Imports " "}}`, mod+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ": ")
		for _, imp := range strings.Fields(imports) {
			if (strings.Contains(imp, "confluent-kafka-go") || strings.Contains(imp, "franz-go")) && pkg != mod+"/kafka" {
				t.Errorf("%s imports %s; only %s/kafka may", pkg, imp, mod)
			}
			if strings.Contains(imp, "grocksdb") && pkg != mod+"/state" {
				t.Errorf("%s imports %s; only %s/state may", pkg, imp, mod)
			}
		}
	}
}

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list %v: %v\n%s", args, err, out)
	}
	return strings.Fields(string(out))
}
