package fanout_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pfinni/pfinni/core/fanout"
)

func TestHubDeliversByKey(t *testing.T) {
	h := fanout.New[int](2)
	a1, a2, b := h.Subscribe("a"), h.Subscribe("a"), h.Subscribe("b")
	h.Publish("a", 1)
	h.Publish("c", 9) // nobody listens
	assert.Equal(t, 1, <-a1.C)
	assert.Equal(t, 1, <-a2.C, "every subscription of the key")
	select {
	case v := <-b.C:
		t.Fatalf("another key received %d", v)
	default:
	}

	// A full subscription loses values instead of blocking.
	for i := range 5 {
		h.Publish("b", i)
	}
	assert.Equal(t, 0, <-b.C)
	assert.Equal(t, 1, <-b.C)

	a1.Close()
	a1.Close() // twice: no panic
	_, open := <-a1.C
	assert.False(t, open)
	h.Publish("a", 2)
	assert.Equal(t, 2, <-a2.C, "the other subscription goes on")

	h.Close()
	for _, s := range []*fanout.Sub[int]{a2, b} {
		for range s.C { // drain what is left; then closed
		}
		s.Close() // after the hub closed it: no panic
	}
	late := h.Subscribe("a")
	_, open = <-late.C
	assert.False(t, open, "a closed hub closes new subscriptions at once")
}

func TestHubConcurrentUse(t *testing.T) {
	h := fanout.New[int](8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			s := h.Subscribe("k")
			for i := range 50 {
				h.Publish("k", i)
			}
			s.Close()
		})
	}
	wg.Wait()
	h.Close()
}
