package nlu

import "testing"

// BenchmarkExtract measures understanding one typical data question.
func BenchmarkExtract(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Extract(Parse("Show ACTIVE pts of Dr Chen in Sprngfield under 40 without insurance since March"), today, vocab)
	}
}
