package extract

import (
	"regexp"
	"strings"

	"github.com/afterlife-watch/afterlife/configs"
)

// Round 7 (lead, issue 14): a weak name of a registry dataset that stands in an enumeration of
// benchmark datasets is that dataset, even without the context words its alias rule requires
// ("experiments on several benchmark datasets including Pascal VOC 07+12, MS COCO and Brainwash",
// "using the LFWA, Celeb-A, SCFace and UCCS datasets"). The cues are the "round 7" block of `cues` in
// configs/relations.yaml; the hook is one condition in filter (collect.go).

type ruleSetR7 struct {
	peer, word *configs.Cue
}

var rulesR7 = mustRulesR7()

func mustRulesR7() *ruleSetR7 {
	c := embeddedRelations().Cues
	return &ruleSetR7{peer: c["benchmark_peer_r7"], word: c["benchmark_word_r7"]}
}

const (
	listSentenceReach = 300 // bytes searched each side of the name for the sentence's ends
	listGapMax        = 160 // bytes between the name and a listed benchmark
	listItemWords     = 4   // words in one item of the enumeration between them
)

// listSep splits the text between two enumerated names into its items.
var listSep = regexp.MustCompile(`,|&|/|\band\b|\bor\b`)

// weakInBenchmarkList reports whether the weak-name occurrence h is an item of an enumeration that
// also lists a well-known benchmark (benchmark_peer_r7), in a sentence that calls the items datasets
// or benchmarks (benchmark_word_r7) or lists two such benchmarks. Between the name and the benchmark
// there may be only other short items and the separators of a list (",", "and", "or", "&", "/"): no
// sentence punctuation, at most listGapMax bytes.
func weakInBenchmarkList(h *hit) bool {
	if h.field != fText && h.field != fTitle {
		return false
	}
	sent, off := sentenceAround(h.src, h.start, h.end)
	lo := strings.ToLower(sent)
	if !rulesR7.peer.MatchString(lo) {
		return false
	}
	peers := rulesR7.peer.Regexp().FindAllStringIndex(lo, -1)
	hs, he := h.start-off, h.end-off
	listed := false
	for _, p := range peers {
		if p[1] <= hs {
			listed = listed || enumerationGap(lo[p[1]:hs])
		} else if p[0] >= he {
			listed = listed || enumerationGap(lo[he:p[0]])
		}
	}
	return listed && (len(peers) >= 2 || rulesR7.word.MatchString(lo))
}

// sentenceStops end a sentence for sentenceAround.
var sentenceStops = []string{". ", ".\n", "; ", "? ", "! ", "\n\n"}

// sentenceAround returns the sentence of src around [start, end) (cut at ". ", "; ", "? ", "! " and
// blank lines, at most listSentenceReach bytes each side) and its offset in src.
func sentenceAround(src string, start, end int) (string, int) {
	from := max(0, start-listSentenceReach)
	to := min(len(src), end+listSentenceReach)
	before := src[from:start]
	for _, stop := range sentenceStops {
		if i := strings.LastIndex(before, stop); i >= 0 {
			from += i + len(stop)
			before = src[from:start]
		}
	}
	after := src[end:to]
	for _, stop := range sentenceStops {
		if i := strings.Index(after, stop); i >= 0 {
			after = after[:i]
		}
	}
	if strings.HasSuffix(after, ".") {
		after = after[:len(after)-1]
	}
	return src[from : end+len(after)], from
}

// enumerationGap reports whether gap, the lower-cased text between two names, is the inside of an
// enumeration: at least one list separator, only short items, no sentence punctuation.
func enumerationGap(gap string) bool {
	if len(gap) > listGapMax || strings.ContainsAny(gap, ".;:!?()[]{}\n") {
		return false
	}
	if !listSep.MatchString(gap) {
		return false
	}
	for _, item := range listSep.Split(gap, -1) {
		if len(strings.Fields(item)) > listItemWords {
			return false
		}
	}
	return true
}

// r7Cues adjusts the cues of one occurrence of a name (called after the round-6 hooks in cues):
// "such as" makes the name background ("unlike X", "datasets such as X" in related work), but not
// when it introduces the enumeration of the text's own evaluation or training benchmarks that the
// name is an item of ("SN outperforms its counterparts on various challenging benchmarks, such as
// ImageNet, COCO, CityScapes, ADE20K, MegaFace, and Kinetics"): the part before "such as" calls
// them benchmarks or datasets and has an evaluation, training or use cue, and no other background
// word. Round 5 handled the name right after "such as" in a training or using sentence.
func r7Cues(s *signal, before, after string) {
	if s.cues&cBackground == 0 {
		return
	}
	b := strings.TrimRight(before, " ")
	i := strings.LastIndex(b, "such as")
	if i < 0 {
		return
	}
	head, items := b[:i], b[i+len("such as"):]
	if !enumerationItems(items) || rules.background.MatchString(head) || rules.bgAfter.MatchString(after) {
		return
	}
	if !rulesR7.word.MatchString(head) {
		return
	}
	if rules.eval.MatchString(head) || rules.train.MatchString(head) || rules.use.MatchString(head) {
		s.cues &^= cBackground
	}
}

// enumerationItems reports whether items, the lower-cased text between "such as" and a name, holds
// only earlier items of the same enumeration: short items and list separators, no sentence
// punctuation.
func enumerationItems(items string) bool {
	if len(items) > listGapMax || strings.ContainsAny(items, ".;:!?()[]{}\n") {
		return false
	}
	for _, item := range listSep.Split(items, -1) {
		if len(strings.Fields(item)) > listItemWords {
			return false
		}
	}
	return true
}
