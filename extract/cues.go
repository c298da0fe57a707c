package extract

import (
	"regexp"
	"strings"
)

// Context cues, matched on the lower-cased clause (sentence, table row or list item) around an
// occurrence. They decide use vs study vs mention, negation and hosting.
var (
	// Negation of use before the occurrence ("without the Books3 subset", "we did not use the older
	// Fall 2011 archive", "this is not the Oxford Town Centre footage").
	negBeforeRE = regexp.MustCompile(`\b(without|excluding|excluded|exclude[sd]?|except|minus|instead of|rather than|removed|remov(e|es|ing)|dropp(ed|ing)|free of|filtered out|other than|apart from|aside from|replacements? for|alternatives? to|not|never|no|nor|neither|isn't|wasn't|aren't|weren't|don't|didn't|doesn't|also (offers|provides|ships|has|supports|includes)|avoid(s|ed|ing)?|steer(s|ed|ing)? clear of|(kept|keep(s|ing)?|stay(s|ed|ing)?|stayed) (well |deliberately |purposely )?(away|clear) (from|of)|refrain(s|ed|ing)? from (using )?|opted (against|out of)|no (use|trace) of)\b`)
	// Negation after the occurrence ("... was not used", "are not in the training data").
	negAfterRE = regexp.MustCompile(`^[^;:]{0,100}?\b((is|are|was|were|been)\s+(not|never)\b|(is|are|was|were)\s+(removed|excluded|dropped|filtered out)\b|not (used|included|loaded)\b|, but (we|this|here|i)\b|\bbut we deliberately\b)`)
	// "not" phrases that state availability, not non-use ("is not available anymore").
	notAvailRE = regexp.MustCompile(`\b(not|no longer|never)\s+(publicly\s+)?(available|online|distributed|downloadable|accessible|hosted|maintained|supported|allowed|possible|work(s|ing)?|reachable|served|sure|shipped|redistributed|included here|included in this)\b`)

	trainRE  = regexp.MustCompile(`\b(train(s|ed|ing)?|pre-?train(s|ed|ing)?|fine-?tun(e|es|ed|ing)|finetun(e|es|ed|ing)|distill(ed|ing)?|initiali[sz](ed|ation|e)|learn(ed|t)? (on|from)|fitted|epochs?|backbone|outlier exposure|auxiliary)\b`)
	evalRE   = regexp.MustCompile(`\b(evaluat(e|es|ed|ing|ion)|benchmark(s|ed|ing)?|tested on|test(s)? on|experiments?|results? on|report(s|ed)? [a-z ]{0,30} on|protocol|accuracy|rank-1|tar@far|map\b|ablations?|identification|verification|probe|distractors?)\b`)
	useRE    = regexp.MustCompile(`\b(using|uses|used|use|relied on|rely on|based on|leverag(e|es|ed|ing)|employ(s|ed)?|adopt(s|ed)?|drawn from|sampled from|download|on the)\b`)
	numRowRE = regexp.MustCompile(`\|\s*[0-9]+\.[0-9]+\s*%?\s*\||\|\s*[0-9]+(\.[0-9]+)?\s*%\s*\|`)

	hostRE   = regexp.MustCompile(`\b(mirror(s|ed)?|cop(y|ies)|re-?upload(s|ed|ing)?|upload(ed|ing)?|re-?host(s|ed)?|re-?seed(ing|ed)?|seed(ing)?|archived?|backups?|keep (a copy|them)|here they are|here you go|unchanged|as downloaded|exactly as|original (archives?|files|release|shards|package)|repack(ed)?|re-?encoded|converted|parquet|recordio|put a copy|we host|hosted here|re-?chunked|tar parts|full release)\b`)
	deriveRE = regexp.MustCompile(`\b(subset|built from|derived from|taken from|crops? (from|of)|cropped|filtered|extracted from|sampled from|annotations? (for|of|on)|re-?annotat(ed|ion)|cleaned)\b`)

	// Background mentions: related work, lists of withdrawn datasets.
	backgroundRE = regexp.MustCompile(`\b(prior work|previous work|related work|earlier work|unlike|such as|e\.g\.|for example|have (since )?been withdrawn|has (since )?been withdrawn|were withdrawn|was withdrawn|withdrawn by|taken down|retracted|deprecated|decommissioned|deprecation|no formal notice|notice|statement|defunct)\b`)
	deprRE       = regexp.MustCompile(`\b(withdrawn|withdrew|deprecated|decommissioned|retracted|taken (down|offline)|removed from|notice|statement|defunct|takedown)\b`)

	// Study of a dataset (audits, critiques, measurement of its afterlife), artifact-wide.
	studyRE = regexp.MustCompile(`\b(audit(s|ed|ing)?|we (examine|analy[sz]e|study|measure|trace|survey|investigate|quantify) (how|what|the (use|usage|afterlife|persistence|citations?|documentation|captions|metadata|prevalence))|papers that cite|citing papers|persistence|afterlife|stewardship|deprecation notices|(did not|do not|without|never) (ever )?(obtain|download|process|inspect|view)(ing|ed)?|critiques?|critical (analysis|examination|reading)|close reading|(document|catalogu?e|catalog|trace|measure|quantify|study|studies|studied)(s|ed|ing)? the (harms?|damage)|harms (of|caused by|done by)|measurement study|census of|citation analysis|(repositories|papers|model cards|torrents|mirrors|artifacts|artefacts|projects|websites) that (still )?(reference|cite|host|mention|redistribute|link to)d?)\b`)
	// First-person use, which overrides a study context for the clause it is in.
	ownUseRE = regexp.MustCompile(`\bwe (train|fine-?tune|pre-?train|evaluate|test|benchmark|use)\b|\bour (model|method|approach|network|detector)\b`)

	weightsRE = regexp.MustCompile(`\.(pth|pt|ckpt|safetensors|onnx|h5|pb|tflite|gguf|params|caffemodel|pkl|npz)\b|releases/download|pretrained weights|checkpoints?\b|model zoo|weights\b`)
	// Links to places where data is shared.
	dataLinkRE = regexp.MustCompile(`(drive\.google\.com|docs\.google\.com|pan\.baidu\.com|academictorrents\.com/details|archive\.org/(download|details)|magnet:\?xt=|mega\.nz|dropbox\.com|onedrive\.live\.com|1drv\.ms|aliyundrive|weiyun\.com|huggingface\.co/datasets|kaggle\.com/datasets|zenodo\.org/record|figshare\.com|jbox\.sjtu|box\.com/s/)`)
	refusalRE  = regexp.MustCompile(`\b(can't|cannot|can not|are not allowed|aren't allowed|not permitted|won't|will not) (share|redistribute|host|upload|provide|send)|not allowed to (redistribute|share|host)|sorry, we can't\b`)
	disclaimRE = regexp.MustCompile(`\b(not affiliated with|no affiliation with|unrelated to|not to be confused with|has nothing to do with|contains none of|is \**not\** the|are \**not\** the|not the [a-z ]{0,20}(footage|dataset|data|video|release))\b`)
	productRE  = regexp.MustCompile(`^\s+(studio|app|pro|avatars?|inc|ltd|llc|gmbh|corp|filters?)\b`)
	// Lineage cues near a model name in a card ("fine-tuned from", "adapter for", "base model").
	lineageRE    = regexp.MustCompile(`\b(fine-?tun(e|ed|ing)|finetun(e|ed|ing)|adapter|lora|base[ _-]?model|based on|initiali[sz](ed|ation|e)|from_pretrained|checkpoint|pretrained ?=|derived from|merge[ds]?|quanti[sz](ed|ation)|gguf|distilled from|continued pre-?training|built on|on top of|starting from|init)\b`)
	codeFileRE   = regexp.MustCompile(`(?i)(\.(py|ipynb|ya?ml|json|cfg|ini|toml|sh|md|rst|txt|m|lua|js|ts|go|rs|c|cc|cpp|h|java|r|jl)$|(^|/)(readme|license|makefile|dockerfile)[^/]*$)`)
	weightFileRE = regexp.MustCompile(`(?i)\.(pth|pt|ckpt|safetensors|onnx|h5|pb|tflite|gguf|params|caffemodel|bin|pkl|npz|tar)$`)
)

// clause returns the bounds of the clause around [start, end) in s: a sentence, a table row or a list
// item, at most maxClause bytes each side.
const maxClause = 320

func clause(s string, start, end int) (int, int) {
	lo := start
	for lo > 0 && start-lo < maxClause {
		c := s[lo-1]
		if c == '\n' {
			// a blank line, a table row, a heading or a list item starts a new clause
			if lo-2 < 0 || s[lo-2] == '\n' || isBlockStart(s, lo) || lineStartsBlock(s, lo-1) {
				break
			}
		}
		if (c == '.' || c == '!' || c == '?' || c == ';') && lo < len(s) && (s[lo] == ' ' || s[lo] == '\n') {
			break
		}
		lo--
	}
	hi := end
	for hi < len(s) && hi-end < maxClause {
		c := s[hi]
		if c == '\n' && (hi+1 >= len(s) || s[hi+1] == '\n' || isBlockStart(s, hi+1) || lineStartsBlock(s, hi)) {
			break
		}
		if (c == '.' || c == '!' || c == '?' || c == ';') && (hi+1 >= len(s) || s[hi+1] == ' ' || s[hi+1] == '\n') {
			break
		}
		hi++
	}
	return lo, hi
}

// isBlockStart reports whether the line at off starts a block (table row, heading, list item, fence).
func isBlockStart(s string, off int) bool {
	for off < len(s) && (s[off] == ' ' || s[off] == '\t') {
		off++
	}
	if off >= len(s) {
		return true
	}
	switch s[off] {
	case '|', '#', '-', '*', '>', '`':
		return true
	}
	return off+1 < len(s) && s[off] >= '0' && s[off] <= '9' && (s[off+1] == '.' || s[off+1] == ')')
}

// lineStartsBlock reports whether the line that ends at the newline nl is itself a block line.
func lineStartsBlock(s string, nl int) bool {
	i := strings.LastIndexByte(s[:nl], '\n') + 1
	return isBlockStart(s, i)
}

// stripMarkup lower-cases s, drops emphasis and code marks and folds line breaks and runs of
// white space into one space, so cues see plain words even across a wrapped line ("kept
// away\nfrom VGGFace2").
func stripMarkup(s string) string {
	s = strings.ToLower(s)
	s = markupReplacer.Replace(s)
	if strings.ContainsAny(s, "\n\t\r") || strings.Contains(s, "  ") {
		s = foldSpace(s)
	}
	return s
}

var markupReplacer = strings.NewReplacer("**", "", "__", "", "`", "", "*", "")

// foldSpace replaces every run of white space with one space, keeping a leading and a trailing one.
func foldSpace(s string) string {
	b := make([]byte, 0, len(s))
	sp := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\n' || c == '\t' || c == '\r' {
			if !sp {
				b = append(b, ' ')
			}
			sp = true
			continue
		}
		sp = false
		b = append(b, c)
	}
	return string(b)
}

// negatedBefore reports a negation cue in the window before an occurrence.
func negatedBefore(before string) bool {
	if len(before) > 70 {
		before = before[len(before)-70:]
	}
	if gNotAvail.MatchString(before) {
		before = notAvailRE.ReplaceAllString(before, " ")
	}
	before = strings.ReplaceAll(before, "no longer", " ")
	before = strings.ReplaceAll(before, "not only", " ")
	return gNegBefore.MatchString(before)
}

// negatedAfter reports a negation cue after an occurrence in its clause.
func negatedAfter(after string) bool {
	if gNotAvail.MatchString(after) {
		after = notAvailRE.ReplaceAllString(after, " ")
	}
	return gNegAfter.MatchString(after)
}

var (
	afterUseRE        = regexp.MustCompile(`^\W*([a-z0-9-]+\W+){0,4}?(dataset|benchmark|for (training|evaluation|pre-?training|testing)|training set|test set|protocol|train split)\b`)
	backgroundAfterRE = regexp.MustCompile(`^[^.]{0,60}\b(have (since )?been withdrawn|has (since )?been withdrawn|were withdrawn|was withdrawn|both of which|which (were|was|have been) (withdrawn|taken down|retracted))\b`)
)

// Code shipped in a record: source files, archives named as code, "we release the training code".
var (
	sourceFileRE  = regexp.MustCompile(`\.(py|ipynb|sh|lua|m|c|cc|cpp|cu|h|go|rs|java|jl|r|js|ts)$`)
	codeArchiveRE = regexp.MustCompile(`(^|[^a-z])(code|src|source|scripts)([^a-z]|$).*\.(zip|tar|tar\.gz|tgz|tar\.xz|7z)$`)
	codeReleaseRE = regexp.MustCompile(`\b((we )?(release|releases|released|include|includes|contain|contains|containing|ship|ships)|(the )?(archive|record|zip) (contains|includes|holds)) (the |our |all )?(training |source |evaluation |experiment )?(and evaluation )?(code|scripts)\b|\bcode (release|and (trained |pretrained )?(checkpoints|weights|models))\b|\b(training|evaluation|source) (code|scripts) and\b`)
)

// Exclusive training on something else ("trained only on LFW", "trained on CASIA-WebFace only"):
// another dataset named in the same clause is not what the artifact was trained on.
var (
	exclOnlyRE = regexp.MustCompile(`\b(train(ed|s|ing)?|learn(ed|t)|fit(ted)?|built|developed)\s+([a-z0-9-]+\s+){0,2}?(only|exclusively|solely|purely|entirely)\s+(on|with|from|using)\b|\b(only|exclusively|solely)\s+(trained|learned|built)\s+(on|with|from)\b`)
	exclTailRE = regexp.MustCompile(`\b(train(ed|s|ing)?|learn(ed|t)|fit(ted)?)\s+(on|with)\s+[^.;:()]{1,40}?\s(only|alone|exclusively)\b`)
	exclBreak  = []string{";", ":", ",", " and ", " but ", " while ", " whereas ", " we ", " not ", " no "}
)

// exclusiveTraining reports whether a text states that its training was exclusive to one dataset.
func exclusiveTraining(low string) bool {
	if !strings.Contains(low, "only") && !strings.Contains(low, "exclusive") && !strings.Contains(low, "solely") &&
		!strings.Contains(low, "alone") && !strings.Contains(low, "purely") && !strings.Contains(low, "entirely") {
		return false
	}
	if !strings.Contains(low, "train") && !strings.Contains(low, "learn") && !strings.Contains(low, "fit") &&
		!strings.Contains(low, "built") && !strings.Contains(low, "developed") {
		return false
	}
	return exclOnlyRE.MatchString(low) || exclTailRE.MatchString(low)
}

// exclusiveElsewhere reports whether the clause says the training was exclusive to a dataset other
// than the occurrence between before and after.
func exclusiveElsewhere(before, after string) bool {
	if !strings.Contains(before, "only") && !strings.Contains(after, "only") && !strings.Contains(before, "exclusive") &&
		!strings.Contains(after, "exclusive") && !strings.Contains(before, "solely") && !strings.Contains(after, "solely") &&
		!strings.Contains(before, "alone") && !strings.Contains(after, "alone") {
		return false
	}
	if exclOnlyRE.MatchString(after) || exclTailRE.MatchString(after) || exclTailRE.MatchString(before) {
		return true
	}
	locs := exclOnlyRE.FindAllStringIndex(before, -1)
	if len(locs) == 0 {
		return false
	}
	between := before[locs[len(locs)-1][1]:]
	if len(between) > 40 {
		return true
	}
	for _, b := range exclBreak {
		if strings.Contains(between, b) {
			return true
		}
	}
	return false
}

// releasedWeightsRE finds links to released weights in a repository's text.
var releasedWeightsRE = regexp.MustCompile(`releases/download/\S+\.(pth|pt|ckpt|safetensors|onnx|h5|pb|tflite|gguf|bin)\b|huggingface\.co/[\w.-]+/[\w.-]+/(resolve|blob)/`)
