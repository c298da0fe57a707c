package webapi

import "fmt"

// MetaPartial marks a paginated query one of whose pages was cut to the page size (CapPage): its
// pages are no complete listing, so nothing is taken for gone from it.
const MetaPartial = "partial"

// CapPage keeps at most asked items of a page the adapter asked asked items for, and says how many
// it dropped. A hostile or broken server answering a search for 25 hits with 20,000 would otherwise
// turn every extra hit into an artifact or a follow-up job. asked <= 0 keeps everything.
func CapPage[T any](items []T, asked int) ([]T, int) {
	if asked <= 0 || len(items) <= asked {
		return items, 0
	}
	return items[:asked:asked], len(items) - asked
}

// CapNote is the source message for a page cut by CapPage.
func CapNote(source, kind, scope string, got, asked int) string {
	return fmt.Sprintf("%s: %s %s: the server answered %d items for a page of %d; kept the first %d (no listing for gone detection)",
		source, kind, scope, got, asked, asked)
}

// Partial reports whether this page or an earlier page of the same query was cut (MetaPartial).
func Partial(meta map[string]string, dropped int) bool { return dropped > 0 || meta[MetaPartial] != "" }

// MarkPartial sets MetaPartial in a next page's metadata (a copy) when the query is partial.
func MarkPartial(meta map[string]string, partial bool) map[string]string {
	if !partial {
		return meta
	}
	return CopyMeta(meta, MetaPartial, "1")
}
