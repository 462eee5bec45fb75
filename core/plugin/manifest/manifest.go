// Package manifest reads plugin-manifest.yaml: the list of installed
// plugins, what each provides and which capabilities it is granted.
//
// Decoding is strict: an unknown key, a bad value or an SDK version the
// host cannot serve refuses that one entry with an error naming the plugin
// and the field, and every other entry still loads. Checksums are verified
// separately (Verify), when an artifact is about to be loaded.
//
// Imported by core/plugin and the build tool cmd/pfinni-plugins;
// plugin authors do not import it.
package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	"go.yaml.in/yaml/v3"
)

// Schema is the only manifest schema this host reads.
const Schema = "pfinni/plugin-manifest/v1"

// Kind is how a plugin runs.
type Kind string

// Plugin kinds.
const (
	KindWASM    Kind = "wasm"
	KindProcess Kind = "process"
)

// Manifest is a decoded plugin-manifest.yaml. Plugins holds only the
// entries that passed validation.
type Manifest struct {
	Schema  string  `yaml:"schema"`
	Plugins []Entry `yaml:"plugins"`
}

// Entry is one plugin.
type Entry struct {
	Name         string         `yaml:"name"`
	Version      string         `yaml:"version"`
	Kind         Kind           `yaml:"kind"`
	Description  string         `yaml:"description,omitempty"`
	SDK          string         `yaml:"sdk"`
	Artifact     Artifact       `yaml:"artifact"`
	Provides     Provides       `yaml:"provides"`
	Capabilities []string       `yaml:"capabilities,omitempty"`
	Network      Network        `yaml:"network,omitempty"`
	Limits       Limits         `yaml:"limits,omitempty"`
	Config       map[string]any `yaml:"config,omitempty"`
	// Enabled is the default on first discovery; the admin's later choice
	// is persisted by the host and wins. Absent means true.
	Enabled *bool `yaml:"enabled,omitempty"`
}

// Artifact is the built plugin: a .wasm module or an executable.
type Artifact struct {
	Path   string `yaml:"path"`   // relative to the manifest's directory
	SHA256 string `yaml:"sha256"` // lowercase hex; `make plugins` refreshes it
}

// Provides says what the host may route to a plugin.
type Provides struct {
	Intents       []Intent `yaml:"intents,omitempty" json:"intents,omitempty"`
	ImportFormats []string `yaml:"importFormats,omitempty" json:"import_formats,omitempty"`
	KBTopics      []string `yaml:"kbTopics,omitempty" json:"kb_topics,omitempty"`
	Insurance     bool     `yaml:"insurance,omitempty" json:"insurance,omitempty"`
}

// Intent is one intent a handler recognises, with example utterances.
type Intent struct {
	Name     string   `yaml:"name" json:"name"`
	Examples []string `yaml:"examples,omitempty" json:"examples,omitempty"`
}

// Network is the outbound network a process plugin may use.
type Network struct {
	AllowedHosts []string `yaml:"allowedHosts,omitempty"`
}

// Limits bound one plugin. Zero values take the defaults below.
type Limits struct {
	Timeout     Duration `yaml:"timeout,omitempty"`     // per call
	Memory      ByteSize `yaml:"memory,omitempty"`      // WASM linear memory
	Concurrency int      `yaml:"concurrency,omitempty"` // warm instances / in-flight calls
	// Interruptible (default true) compiles the module with wazero's
	// context-done checks, so a runaway loop is stopped at its time limit.
	// They make a Go guest several times slower (measured: a C-CDA parse
	// 260-520 ms with them, 38-45 ms without). false is for first-party
	// plugins whose code is reviewed and fuzzed: their time limit is then
	// reported only when the call returns.
	Interruptible *bool `yaml:"interruptible,omitempty"`
}

// IsInterruptible reports whether calls can be stopped at their time limit.
func (l Limits) IsInterruptible() bool { return l.Interruptible == nil || *l.Interruptible }

// Defaults applied by WithDefaults.
const (
	DefaultTimeout     = 2 * time.Second
	DefaultMemory      = 64 << 20
	MinMemory          = 16 << 20 // a Go guest needs about 256 pages
	MaxMemory          = 1 << 30
	DefaultConcurrency = 2
	MaxConcurrency     = 64
)

// WithDefaults returns l with zero fields set to the defaults.
func (l Limits) WithDefaults() Limits {
	if l.Timeout == 0 {
		l.Timeout = Duration(DefaultTimeout)
	}
	if l.Memory == 0 {
		l.Memory = DefaultMemory
	}
	if l.Concurrency == 0 {
		l.Concurrency = DefaultConcurrency
	}
	return l
}

// IsEnabled reports the entry's first-discovery default.
func (e Entry) IsEnabled() bool { return e.Enabled == nil || *e.Enabled }

// Has reports whether the entry is granted capability c.
func (e Entry) Has(c string) bool {
	for _, g := range e.Capabilities {
		if g == c {
			return true
		}
	}
	return false
}

// EntryError refuses one manifest entry.
type EntryError struct {
	Plugin string // entry name, or "#N" (1-based) when the name is unusable
	Field  string // dotted path, e.g. "limits.timeout"
	Line   int    // line in the manifest, 0 if unknown
	Msg    string
}

func (e *EntryError) Error() string {
	loc := ""
	if e.Line > 0 {
		loc = fmt.Sprintf(" (line %d)", e.Line)
	}
	if e.Field == "" {
		return fmt.Sprintf("plugin %s%s: %s", e.Plugin, loc, e.Msg)
	}
	return fmt.Sprintf("plugin %s: field %s%s: %s", e.Plugin, e.Field, loc, e.Msg)
}

// ErrSchema means the file is not a manifest this host can read at all.
var ErrSchema = errors.New("unsupported manifest schema")

// Load reads and decodes the manifest at path. See Parse.
func Load(path string, hostSDK string) (*Manifest, []*EntryError, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read plugin manifest: %w", err)
	}
	m, errs, err := Parse(b, hostSDK)
	if err != nil {
		return nil, nil, fmt.Errorf("plugin manifest %s: %w", path, err)
	}
	return m, errs, nil
}

// Parse decodes a manifest for a host whose SDK version is hostSDK. The
// returned error is fatal (unreadable YAML, wrong schema); each refused
// entry is reported in the []*EntryError and left out of the Manifest.
func Parse(b []byte, hostSDK string) (*Manifest, []*EntryError, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("decode: %w", err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("decode: top level must be a mapping")
	}
	root := doc.Content[0]
	m := &Manifest{}
	var pluginsNode *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "schema":
			m.Schema = v.Value
		case "plugins":
			pluginsNode = v
		default:
			return nil, nil, fmt.Errorf("line %d: unknown key %q", k.Line, k.Value)
		}
	}
	if m.Schema != Schema {
		return nil, nil, fmt.Errorf("%w %q (want %q)", ErrSchema, m.Schema, Schema)
	}
	if pluginsNode == nil {
		return m, nil, nil
	}
	if pluginsNode.Kind != yaml.SequenceNode {
		return nil, nil, fmt.Errorf("line %d: plugins must be a list", pluginsNode.Line)
	}
	var errs []*EntryError
	seen := map[string]bool{}
	for i, n := range pluginsNode.Content {
		e, err := decodeEntry(i, n, hostSDK)
		if err == nil && seen[e.Name] {
			err = &EntryError{Plugin: e.Name, Field: "name", Line: n.Line, Msg: "duplicate plugin name"}
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		seen[e.Name] = true
		m.Plugins = append(m.Plugins, e)
	}
	return m, errs, nil
}

func decodeEntry(i int, n *yaml.Node, hostSDK string) (Entry, *EntryError) {
	label := fmt.Sprintf("#%d", i+1)
	if name := scalarField(n, "name"); nameRE.MatchString(name) {
		label = fmt.Sprintf("%q", name)
	}
	if n.Kind != yaml.MappingNode {
		return Entry{}, &EntryError{Plugin: label, Line: n.Line, Msg: "entry must be a mapping"}
	}
	if fe := checkKnown(n, entryType, ""); fe != nil {
		return Entry{}, &EntryError{Plugin: label, Field: fe.path, Line: fe.line, Msg: fe.msg}
	}
	var e Entry
	if err := n.Decode(&e); err != nil {
		return Entry{}, &EntryError{Plugin: label, Line: n.Line, Msg: cleanYAMLError(err)}
	}
	if fe := validate(&e, hostSDK); fe != nil {
		return Entry{}, &EntryError{Plugin: label, Field: fe.path, Line: lineOf(n, fe.path), Msg: fe.msg}
	}
	return e, nil
}
