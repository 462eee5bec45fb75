// Package intent holds the value the plugin registry hands the assistant
// when an intent plugin claims a chat message. It imports only the SDK, so
// that core/chat can name a claim without importing the plugin host and,
// through it, the WASM and process runtimes.
package intent

// Match is the best claim on a chat message: which plugin answered, the
// intent it named, its score and the entities it extracted.
type Match struct {
	Plugin   string         `json:"plugin"`
	Intent   string         `json:"intent"`
	Score    float64        `json:"score"`
	Entities map[string]any `json:"entities,omitempty"`
}
