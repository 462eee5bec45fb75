package plugintest

// WASMModule assembles a minimal WASM module exporting one empty function
// () -> () under each name: enough for the host's export checks (tests of
// the mistakes a plugin author can make in building a module).
func WASMModule(exports ...string) []byte {
	uleb := func(n int) []byte {
		var out []byte
		for {
			b := byte(n & 0x7f)
			n >>= 7
			if n != 0 {
				out = append(out, b|0x80)
				continue
			}
			return append(out, b)
		}
	}
	section := func(id byte, body []byte) []byte {
		return append(append([]byte{id}, uleb(len(body))...), body...)
	}
	n := len(exports)
	funcs := uleb(n)
	code := uleb(n)
	exp := uleb(n)
	for i, name := range exports {
		funcs = append(funcs, 0)        // type 0
		code = append(code, 2, 0, 0x0b) // body: no locals, end
		exp = append(exp, uleb(len(name))...)
		exp = append(exp, name...)
		exp = append(exp, 0x00) // function export
		exp = append(exp, uleb(i)...)
	}
	out := []byte{0x00, 'a', 's', 'm', 1, 0, 0, 0}
	out = append(out, section(1, []byte{1, 0x60, 0, 0})...) // one type: () -> ()
	out = append(out, section(3, funcs)...)
	out = append(out, section(7, exp)...)
	return append(out, section(10, code)...)
}
