package reports

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/extract"
)

// BenchmarkStoreSettle is the store's share of a crawl's settle, shaped like a demo-world scan
// (bench/storediag): per settle, 8 finished jobs' writes held back until the run loop's Sync —
// 7 listings of scopes never listed, 6 of them empty (searches that find nothing) and one with 3
// members, and one artifact with a finding — then the Sync. Reported per job.
func BenchmarkStoreSettle(b *testing.B) {
	for _, shape := range []string{"crawl", "empty-sync"} {
		b.Run(shape, func(b *testing.B) {
			ctx := context.Background()
			dctx := DeferUntilSync(ctx)
			s := openTest(b)
			begin(b, s, "r1", t0)
			pad := strings.Repeat("x", 50)
			b.ResetTimer()
			jobs := 0
			for i := 0; i < b.N; i++ {
				if shape == "empty-sync" {
					if _, err := s.RecordListing(dctx, "r1", fmt.Sprintf("hf:q=%d:%s", i, pad), nil, t0, 2); err != nil {
						b.Fatal(err)
					}
					jobs++
				} else {
					for j := 0; j < 7; j++ {
						var ids []string
						if j == 0 {
							ids = []string{fmt.Sprintf("hf:model:org/m%d-a", i), fmt.Sprintf("hf:model:org/m%d-b", i), fmt.Sprintf("hf:model:org/m%d-c", i)}
						}
						if _, err := s.RecordListing(dctx, "r1", fmt.Sprintf("hf:q=%d/%d:%s", i, j, pad), ids, t0, 2); err != nil {
							b.Fatal(err)
						}
					}
					a := model(fmt.Sprintf("org/m%d-a", i))
					a.Text = strings.Repeat("a model card trained on laion-5b ", 20)
					obs := []Observation{{Artifact: a, Findings: []extract.Finding{finding(a, "laion-5b", extract.TrainedOn)}}}
					if err := s.RecordBatchLater(dctx, "r1", t0, obs, nil); err != nil {
						b.Fatal(err)
					}
					jobs += 8
				}
				if err := s.Sync(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(jobs), "µs/job")
		})
	}
}
