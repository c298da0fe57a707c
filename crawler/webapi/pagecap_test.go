package webapi

import "testing"

func TestCapPageKeepsTheFirstItemsAskedForAndCountsTheRest(t *testing.T) {
	items := make([]int, 20000)
	for i := range items {
		items[i] = i
	}
	got, cut := CapPage(items, 25)
	if len(got) != 25 || cut != 19975 || got[24] != 24 {
		t.Fatalf("CapPage(20000, 25) = %d items, %d cut", len(got), cut)
	}
	if _, cut := CapPage(items[:10], 25); cut != 0 {
		t.Fatalf("a short page was cut by %d", cut)
	}
	if !Partial(map[string]string{MetaPartial: "1"}, 0) || Partial(nil, 0) || !Partial(nil, 1) {
		t.Fatal("Partial")
	}
}
