package manifest

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written as "2s", "500ms".
type Duration time.Duration

var durationType = reflect.TypeOf(Duration(0))

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration such as 2s or 500ms", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// ByteSize is a size written as "32MiB", "512KiB", "1GiB" or plain bytes.
type ByteSize int64

var byteSizeType = reflect.TypeOf(ByteSize(0))

var units = []struct {
	suffix string
	mult   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}

// UnmarshalYAML parses a size with an optional unit.
func (s *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*s = v
	return nil
}

// MarshalYAML writes the size in MiB when whole, else in bytes.
func (s ByteSize) MarshalYAML() (any, error) {
	if s%(1<<20) == 0 {
		return fmt.Sprintf("%dMiB", s>>20), nil
	}
	return int64(s), nil
}

// ParseByteSize parses "32MiB", "64 MiB", "1048576".
func ParseByteSize(str string) (ByteSize, error) {
	t := strings.TrimSpace(str)
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size such as 32MiB", str)
	}
	return ByteSize(n * mult), nil
}
