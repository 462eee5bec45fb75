# Job queue proofs and benchmarks (core/jobs, docs/jobs.md).
#
#   make proof-jobs  the queue's multi-process proofs at the issue's numbers, without -race: 10,000 probe
#                    jobs across two pfinni serve processes (2 workers each), one SIGKILLed 10 times; then
#                    cron once per tick, and a 10 s database outage, on pfinni db serve (numbers printed)
#   make bench-jobs  enqueue and claim throughput, enqueue-to-start p50/p99 (printed, not asserted)

.PHONY: proof-jobs bench-jobs

proof-jobs: deps
	PFINNI_PROOF_JOBS=10000 $(GO) test -count=1 -timeout 30m -v -run 'TestJobsSurviveSIGKILLOfAServeProcess|TestTwoServeProcessesOnDBServe' ./cmd/pfinni/

bench-jobs: deps
	$(GO) test -count=1 -run '^$$' -bench . -benchtime 2000x ./core/jobs/
