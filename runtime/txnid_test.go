package runtime

import (
	"strings"
	"testing"
)

// TestTransactionalID pins the identity of exactly-once producers: stable
// for a state directory across restarts, different for a second live
// process sharing it, and different for another state directory.
func TestTransactionalID(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	a, releaseA, err := transactionalID("g", dirA)
	if err != nil {
		t.Fatal(err)
	}
	second, releaseSecond, err := transactionalID("g", dirA)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseSecond()
	if a == second {
		t.Errorf("two live processes of one state directory share transactional.id %q", a)
	}
	other, releaseOther, err := transactionalID("g", dirB)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseOther()
	if other == a || other == second {
		t.Errorf("another state directory got a used transactional.id %q", other)
	}
	releaseA()
	again, releaseAgain, err := transactionalID("g", dirA)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseAgain()
	if again != a {
		t.Errorf("a restarted process got %q, want its previous %q", again, a)
	}
	if !strings.HasPrefix(a, "g-") || !strings.HasSuffix(a, "-0") || !strings.HasSuffix(second, "-1") {
		t.Errorf("ids %q, %q: want {group}-{host}-{dir}-{slot}", a, second)
	}
}
