# Chat assistant (core/chat, plugins/intent-*, plugins/kb-*; docs/chat.md).
#
#   make eval-chat   accuracy per intent and overall on testdata/chat/eval.jsonl (misses listed),
#                    (development, held-out and unseen splits), then latency of data questions at
#                    10,000 patients (one client: in-process and WASM plugins; 50 concurrent clients:
#                    WASM plugins, real audit log and history, CPU per question and plugin calls)

.PHONY: eval-chat

eval-chat: deps
	$(GO) test -count=1 -v -timeout 30m -run 'TestEval|TestLatency' ./core/chat/ -args -eval
