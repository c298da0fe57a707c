package webapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

func registryDataset(t *testing.T, id string) *configs.Dataset {
	t.Helper()
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	d, ok := reg.Get(id)
	if !ok {
		t.Fatalf("%s not in the registry", id)
	}
	return d
}

// The registry's derivatives marked carries_data: false are not an afterlife (CIFAR-10/100 of
// Tiny Images, Re-LAION-5B, pile-uncopyrighted): no source searches for them.
func TestTermsLeaveOutDerivativesThatCarryNoData(t *testing.T) {
	for id, notAfterlife := range map[string]string{"tiny-images": "CIFAR-10 / CIFAR-100", "books3": "pile-uncopyrighted", "laion-5b": "Re-LAION-5B"} {
		d := registryDataset(t, id)
		terms := webapi.Terms(d, 3)
		for _, term := range terms {
			if strings.EqualFold(term, notAfterlife) {
				t.Errorf("%s: searched for %q, which the registry says carries no data", id, term)
			}
		}
		if len(terms) < 3 {
			t.Errorf("%s: terms %v", id, terms)
		}
	}
	// A derivative that carries the data is still searched.
	if terms := webapi.Terms(registryDataset(t, "ms-celeb-1m"), 3); !slices.Contains(terms, "faces_emore") {
		t.Errorf("ms-celeb-1m terms lack MS1MV2's faces_emore: %v", terms)
	}
}

// Hub dataset ids and tags: repo names and owner/name ids, never file names or domains.
func TestDatasetIDCandidate(t *testing.T) {
	for term, want := range map[string]bool{
		"the_pile_books3": true, "laion/laion2B-en": true, "MS-Celeb-1M": true, "faces_emore": true, "bookcorpus": true,
		"books3.tar.gz": false, "tiny_images.bin": false, "TownCentreXVID.avi": false, "ti_500K_pseudo_labeled.pickle": false,
		"books3.tar.gz.index.sqlite": false, "msceleb.org": false, "megaface.cs.washington.edu": false,
		"vision.cs.duke.edu/DukeMTMC": false, "Tiny Images": false, "a/b/c": false, "x": false,
	} {
		if got := webapi.DatasetIDCandidate(term); got != want {
			t.Errorf("DatasetIDCandidate(%q) = %v, want %v", term, got, want)
		}
	}
}
