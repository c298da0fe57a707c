package crawler

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
)

type nopSource struct{ name string }

func (s nopSource) Name() string { return s.name }
func (s nopSource) Plan(context.Context, []*configs.Dataset) ([]Job, error) {
	return nil, nil
}
func (s nopSource) Handle(context.Context, Job, Fetcher) (Result, error) { return Result{}, nil }

// A second adapter under a name already registered is refused (which one ran would depend on init
// order), and Registered lists names sorted.
func TestRegisterRefusesDuplicateNamesAndListsSorted(t *testing.T) {
	for _, n := range []string{"test-zeta", "test-alpha", "test-mu"} {
		n := n
		Register(n, func(configs.SourceConfig, Env) (Source, error) { return nopSource{n}, nil })
	}
	t.Cleanup(func() {
		factoriesMu.Lock()
		defer factoriesMu.Unlock()
		for _, n := range []string{"test-zeta", "test-alpha", "test-mu"} {
			delete(factories, n)
		}
	})
	func() {
		defer func() {
			r := recover()
			if r == nil || !strings.Contains(r.(string), `"test-mu" registered twice`) {
				t.Fatalf("second Register of test-mu: recover() = %v, want a panic naming the duplicate", r)
			}
		}()
		Register("test-mu", func(configs.SourceConfig, Env) (Source, error) { return nopSource{"other"}, nil })
	}()
	names := Registered()
	if !sort.StringsAreSorted(names) {
		t.Fatalf("Registered() = %v, not sorted", names)
	}
	f, ok := Factory("test-mu")
	if !ok {
		t.Fatal("test-mu lost")
	}
	if src, _ := f(configs.SourceConfig{}, nil); src.Name() != "test-mu" {
		t.Fatalf("test-mu's factory was replaced: %s", src.Name())
	}
}
